"""Benchmark of ``corpus export``: throughput and peak memory per format on a synthetic corpus.

``run(quick=False)`` builds (once, cached in the temp dir) a corpus of 100,000 synthetic documents
(quick: 4,000), each with a stored capture of its page, then runs every export in a fresh process
and reports the median records/s of several runs and the peak resident memory of the process
(the child's own ``VmHWM``), next to a baseline measured in the same run: a bare iteration over
the same rows. Peak memory is also measured on a tenth of the rows: flat memory means the two match.

    .venv/bin/python scripts/bench_export.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.store import open_corpus, upsert_capture, upsert_document, write_transaction  # noqa: E402
from crawler.store.records import payload_digest  # noqa: E402
from crawler.urls import canonical_url, section_of, site_of, urlkey  # noqa: E402

CORPUS_VERSION = 2  # bump when the synthetic corpus changes, so caches are rebuilt
BATCH = 5_000
CACHE = Path(tempfile.gettempdir()) / "mofcom-bench-export"

DEPARTMENTS = ["服贸司", "外资司", "对外贸易司", "市场运行司", "电子商务司", "产业安全与进出口管制局", "条约法律司"]
SITES = ["www", "www", "www", "fms", "wms", "dzsws"]
SECTIONS = ["zwgk/gkzcjd", "zcjd/gnmy", "zhengcejd/bj", "zcjd/swfg"]
TOPICS = ["加快生活服务数字化赋能", "外商投资准入特别管理措施", "进一步优化外商投资环境", "推动外贸稳规模优结构",
          "支持跨境电商海外仓发展", "出口管制合规指引", "服务贸易创新发展试点", "促进老字号创新发展"]
SENTENCES_ZH = [
    "经国务院批准，商务部会同有关部门联合印发《意见》，指导推进相关领域高质量发展。",
    "党中央、国务院高度重视外贸外资工作，作出一系列重要部署。",
    "近年来，随着新一代信息技术的广泛应用，新业态新模式不断涌现。",
    "与此同时，发展仍存在一些问题和短板，如地区间发展水平不均衡。",
    "《意见》坚持问题导向，聚焦企业关切，提出了有针对性的政策措施。",
    "下一步，商务部将会同有关部门加强政策宣介解读，推动各项措施落地见效。",
    "各地商务主管部门要结合实际，细化工作方案，确保取得实效。",
    "进一步扩大高水平对外开放，稳住外贸外资基本盘。",
    "支持企业开拓多元化市场，提升国际竞争力。",
    "完善外商投资促进和服务体系，保障外资企业国民待遇。",
]
SENTENCES_EN = [
    "With the approval of the State Council, the Ministry of Commerce and other departments jointly issued the Opinions.",
    "The CPC Central Committee and the State Council attach great importance to foreign trade and investment.",
    "In recent years, new business forms and models have kept emerging with new information technology.",
    "At the same time, there are still some problems and shortcomings, such as uneven regional development.",
    "The Opinions focus on the concerns of enterprises and put forward targeted policy measures.",
    "Next, the Ministry of Commerce will work with relevant departments to implement the measures.",
]


def _vocabulary(alphabet: str, size: int, rng: random.Random) -> tuple[list[str], list[float]]:
    """``size`` made-up words with Zipf frequencies, so the text compresses about as real text does."""
    words = ["".join(rng.choices(alphabet, k=rng.choice((1, 2, 2, 2, 3, 4)))) for _ in range(size)]
    cumulative, total = [], 0.0
    for rank in range(1, size + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


_VOCAB_RNG = random.Random(7)
ZH_WORDS = _vocabulary("".join(map(chr, range(0x4E00, 0x6FFF))), 5_000, _VOCAB_RNG)
EN_WORDS = _vocabulary("abcdefghijklmnopqrstuvwxyz", 5_000, _VOCAB_RNG)


def _text(words: tuple[list[str], list[float]], n_words: int, rng: random.Random, sep: str, stop: str) -> str:
    picked = rng.choices(words[0], cum_weights=words[1], k=n_words)
    return stop.join(sep.join(picked[i:i + 12]) for i in range(0, n_words, 12)) + stop


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date}">
<link rel="stylesheet" href="/css/main.css"><script src="/js/jquery.min.js"></script></head>
<body><div class="header"><a href="/">商务部</a> | <a href="/article/zwgk/">政务公开</a> | <a href="/article/zcjd/">政策解读</a></div>
<div class="art-con"><h1>{title}</h1><div class="art-info">发布时间：{date} 来源：{dept}</div>
{paragraphs}
</div><div class="footer">主办单位：中华人民共和国商务部 ICP备案编号：京ICP备05004093号</div></body></html>
"""


def synthetic_document(n: int, rng: random.Random) -> tuple[dict, dict]:
    """One (capture, document) pair of realistic size: ~2,500 Chinese characters, a ~7 kB page."""
    site = rng.choice(SITES)
    section = rng.choice(SECTIONS)
    year = rng.randint(2010, 2025)
    host = "www.mofcom.gov.cn" if site == "www" else f"{site}.mofcom.gov.cn"
    url = f"http://{host}/article/{section}/{year}{rng.randint(1, 12):02d}/{year}0{n:09d}.shtml"
    dept = rng.choice(DEPARTMENTS)
    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    title = f"商务部{dept}负责人解读《关于{rng.choice(TOPICS)}的指导意见》（第{n}号）"
    paragraphs = [rng.choice(SENTENCES_ZH) + _text(ZH_WORDS, 120, rng, "", "，") for _ in range(rng.randint(6, 10))]
    html = PAGE.format(title=title, date=date, dept=dept, paragraphs="\n".join(f"<p>{p}</p>" for p in paragraphs))
    body = html.encode("utf-8")
    ts = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}0000"
    capture = {
        "urlkey": urlkey(url),
        "timestamp": ts,
        "requested_timestamp": ts,
        "original_url": url,
        "canonical_url": canonical_url(url),
        "wayback_url": f"https://web.archive.org/web/{ts}/{url}",
        "status": 200,
        "mimetype": "text/html",
        "digest": payload_digest(body),
        "length": len(body) // 3,
        "response_headers": {"Content-Type": "text/html; charset=UTF-8", "Server": "nginx"},
        "body": body,
        "outcome": "stored",
    }
    english = " ".join(rng.choice(SENTENCES_EN) + " " + _text(EN_WORDS, 40, rng, " ", ". ") for _ in range(8))
    document = {
        "url": canonical_url(url),
        "site": site_of(url),
        "section": section_of(url),
        "title": title,
        "resulting_text": "\n\n".join(paragraphs),
        "publish_date": date,
        "source": dept,
        "department": dept,
        "document_number": f"商发〔{year}〕{n % 500}号",
        "policy_links": [{"text": "政策原文", "url": f"http://{host}/article/b/{year}01/{n}.shtml"}],
        "attachments": [],
        "language": "zh",
        "language_score": 0.95 + rng.random() * 0.05,
        "language_method": "han-share",
        "charset": "utf-8",
        "extractor": "synthetic",
        "extractor_version": "1",
        "original_url": url,
        "capture_timestamp": ts,
        "requested_timestamp": ts,
        "input_url": f"{ts}/{url}",
        "returned_url": f"https://web.archive.org/web/{ts}/{url}",
        "first_seen": ts,
        "last_seen": ts,
        "translated_title": f"Interpretation No. {n} of the Guiding Opinions",
        "translated_title_engine": "openai",
        "translated_title_model": "qwen2.5-7b-instruct",
        "translated_title_version": "1",
        "translated_title_at": "2026-01-01T00:00:00Z",
        "translated_content": english,
        "translated_content_engine": "openai",
        "translated_content_model": "qwen2.5-7b-instruct",
        "translated_content_version": "1",
        "translated_content_at": "2026-01-01T00:00:00Z",
        "english_summary": english[:400],
        "english_summary_kind": "extractive",
        "english_summary_engine": "sumy",
        "english_summary_model": "lexrank",
        "english_summary_version": "0.11",
        "english_summary_at": "2026-01-01T00:00:00Z",
    }
    return capture, document


def synthetic_corpus(n: int) -> Path:
    """A corpus of ``n`` synthetic documents, built through the store API once and cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"corpus-{n}-v{CORPUS_VERSION}.db"
    done = path.with_name(path.name + ".complete")
    if path.exists() and done.exists():
        return path
    for stale in CACHE.glob(path.name + "*"):
        stale.unlink()
    rng = random.Random(n)
    db = open_corpus(path)
    try:
        db.execute("PRAGMA synchronous = OFF")
        for start in range(0, n, BATCH):
            with write_transaction(db):
                for i in range(start, min(n, start + BATCH)):
                    capture, document = synthetic_document(i, rng)
                    capture_id = upsert_capture(db, capture)
                    doc_id, _ = upsert_document(db, {**document, "capture_id": capture_id})
                    db.execute("UPDATE captures SET document_id = ? WHERE id = ?", [doc_id, capture_id])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    done.write_text(str(n))
    return path


# Each measurement runs in a fresh interpreter, so its peak RSS is its own.
CHILD = r"""
import json, sys, time, zlib
args = json.loads(sys.argv[1])
from crawler.store import open_corpus
db = open_corpus(args["db"], create=False)
started = time.perf_counter()
if args["format"].startswith("baseline"):
    if args["format"] == "baseline-documents":
        sql = "SELECT * FROM documents ORDER BY id"
    else:
        sql = "SELECT * FROM captures WHERE body IS NOT NULL ORDER BY id"
    sql += f" LIMIT {args['limit']}" if args["limit"] else ""
    count = 0
    for row in db.execute(sql):
        if args["format"] == "baseline-captures":
            zlib.decompress(row[12])
        count += 1
    size = 0
else:
    from crawler.export import ExportFilters, export
    result = export(db, args["format"], args["out"], ExportFilters(limit=args["limit"]), with_html=args["html"])
    count, size = result.count, result.bytes
seconds = time.perf_counter() - started
# VmHWM: this program's own peak (ru_maxrss would include the parent's pages from before exec).
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"count": count, "seconds": seconds, "bytes": size, "hwm_kb": hwm_kb}))
"""


def measure(db: Path, fmt: str, out: Path, limit: int | None = None, html: bool = False) -> dict:
    """One run in a child process: its records, seconds, output bytes and peak RSS (MB)."""
    args = {"db": str(db), "format": fmt, "out": str(out), "limit": limit, "html": html}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=subprocess.PIPE, env=env)
    stdout = child.stdout.read() if child.stdout else b""
    _, status, _usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{fmt} export failed (exit {child.returncode})")
    figures = json.loads(stdout)
    figures["rss_mb"] = figures.pop("hwm_kb") / 1024
    return figures


CASES = [
    # (label, format or baseline, with html)
    ("baseline: SELECT * FROM documents", "baseline-documents", False),
    ("baseline: SELECT * FROM captures + zlib", "baseline-captures", False),
    ("jsonl", "jsonl", False),
    ("jsonl --with-html", "jsonl", True),
    ("csv", "csv", False),
    ("parquet", "parquet", False),
    ("warc", "warc", False),
]


def run(quick: bool = False) -> str:
    """Build or reuse the synthetic corpus, measure every format, return a markdown section."""
    n = 4_000 if quick else 100_000
    runs = 3 if quick else 5
    db = synthetic_corpus(n)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    rows = []
    try:
        for label, fmt, html in CASES:
            out = work / {"jsonl": "c.jsonl", "csv": "c.csv", "parquet": "hf", "warc": "c.warc.gz"}.get(fmt, "x")
            results = [measure(db, fmt, out, html=html) for _ in range(runs)]
            small = measure(db, fmt, out, limit=n // 10, html=html)
            rate = statistics.median(r["count"] / r["seconds"] for r in results)
            rows.append((label, results[0]["count"], rate, results[0]["bytes"],
                         max(r["rss_mb"] for r in results), small["rss_mb"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0][2]
    lines = [
        f"## Export: {n:,} synthetic documents per format",
        "",
        f"`scripts/bench_export.py{' --quick' if quick else ''}`: a synthetic corpus of {n:,} documents "
        f"({db.stat().st_size / 1e6:,.0f} MB; ~2,500 Chinese characters, an English translation and summary "
        f"and a ~7 kB stored page each). Each export runs in a fresh process; records/s is the median of "
        f"{runs} runs, peak RSS the largest of them (the process's own `VmHWM`). Flat memory: the peak RSS for "
        f"{n // 10:,} and {n:,} records match. Machine: {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        "",
        f"| what | records | records/s | vs SELECT * | output | peak RSS, {n:,} | peak RSS, {n // 10:,} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, count, rate, size, rss, small_rss in rows:
        output = f"{size / 1e6:,.0f} MB" if size else "-"
        lines.append(
            f"| {label} | {count:,} | {rate:,.0f} | {rate / base:.2f}x | {output} | {rss:,.0f} MB | {small_rss:,.0f} MB |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,000 records, 3 runs each")
    args = parser.parse_args()
    started = time.perf_counter()
    print(run(quick=args.quick))
    print(f"(took {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
