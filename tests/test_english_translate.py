"""The translation and summary jobs against a fake OpenAI-compatible server on 127.0.0.1.

The server translates by rule (so the tests can say exactly what every paragraph must become) and
fails on request: rate limits, server errors, malformed bodies, timeouts, answers still in Chinese.
The real engines (llama.cpp in process and behind its server) are tested in test_english_llamacpp.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.english import RetryPolicy, TranslationFailed, make_engine, summarize_pending, translate_pending
from crawler.english.chunking import split_paragraphs
from crawler.english.prompts import SUMMARY_REQUEST
from crawler.store import load_records, open_corpus, upsert_document, write_transaction
from crawler.store.stats import corpus_stats

FIXTURES = Path(__file__).parent / "fixtures"
GLOSSARY_LINE = re.compile(r"^(\S+) = (.+)$", re.MULTILINE)
SUMMARY = "The Ministry of Commerce issued guidance. It names twelve departments. It sets out measures."


def fake_english(source: str, glossary_names: list[str]) -> str:
    """What the fake server answers for ``source``: unique to it, English, with the glossary names."""
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:10]
    names = "; ".join(glossary_names)
    return f"Translation {digest} of {len(source)} characters" + (f", naming {names}." if names else ".")


class FakeChatServer:
    """OpenAI chat-completions on 127.0.0.1. ``script`` holds what the next requests get, in order;
    once it is empty every request is answered well."""

    def __init__(self) -> None:
        self.script: list[tuple] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with server.lock:
                    server.requests.append(body)
                    action = server.script.pop(0) if server.script else ("ok",)
                server.respond(self, body, action)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def sources(self) -> list[str]:
        """The user texts of the translation requests received, in order."""
        return [r["messages"][-1]["content"] for r in self.requests if not r["messages"][-1]["content"].startswith(SUMMARY_REQUEST)]

    @staticmethod
    def answer(body: dict) -> str:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if user.startswith(SUMMARY_REQUEST):
            return SUMMARY
        return fake_english(user, [m.group(2) for m in GLOSSARY_LINE.finditer(system)])

    def respond(self, handler: BaseHTTPRequestHandler, body: dict, action: tuple) -> None:
        kind = action[0]
        if kind == "status":
            _, status, headers = action
            payload = json.dumps({"error": {"message": f"fake {status}"}}).encode()
            self._send(handler, status, payload, headers)
            return
        if kind == "raw":
            self._send(handler, 200, action[1])
            return
        if kind == "sleep":
            time.sleep(action[1])
        if kind == "block":
            action[1].wait(30)
        if kind == "hook":
            action[1](body)
        content = self.answer(body)
        finish = "stop"
        if kind == "chinese":
            content = body["messages"][-1]["content"]
        elif kind == "length":
            finish = "length"
        elif kind == "text":
            content = action[1]
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"] + "-served",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        }
        self._send(handler, 200, json.dumps(completion).encode())

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test, or a killed run)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    fake = FakeChatServer()
    yield fake
    fake.close()


@pytest.fixture
def seed() -> dict:
    return json.loads((FIXTURES / "seed-record.json").read_text(encoding="utf-8"))


@pytest.fixture
def db(tmp_path):
    database = open_corpus(tmp_path / "corpus.db")
    yield database
    database.close()


def record(n: int, text: str, title: str | None = None, **extra) -> dict:
    url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202401/2024010{n:07d}.shtml"
    return {
        "title": title or f"商务部政策解读第{n}号",
        "resulting_text": text,
        "input_url": f"20240105000000/{url}",
        "returned_url": f"https://web.archive.org/web/20240104120000/{url}",
        "date": "2024-01-04 00:00:00",
        **extra,
    }


def untranslated(seed: dict) -> dict:
    return {**seed, "translated_title": None, "translated_content": None, "english_summary": None}


def engine_for(server: FakeChatServer, **options):
    settings = {"base_url": server.url, "api_key": "test-key", "timeout": 5, "context_tokens": 8192, **options}
    return make_engine("openai", "fake-model", **settings)


def quick_policy(attempts: int = 3, delays: list | None = None) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.01, sleep=(delays.append if delays is not None else lambda s: None))


def row(db, doc_id: int = 1) -> dict:
    return next(db.query("SELECT * FROM documents WHERE id = ?", [doc_id]))


# --- the job ------------------------------------------------------------------------------------


def test_every_paragraph_is_translated_in_order_with_provenance(db, server, seed):
    load_records(db, [untranslated(seed), record(2, "第一段讲外资。\n\n第二段讲关税。")])
    calls = []
    counts = translate_pending(db, engine_for(server), policy=quick_policy(), progress=lambda *a: calls.append(a))
    assert counts["translated"] == 2 and counts["failed"] == 0
    assert [c[:2] for c in calls] == [(1, 2), (2, 2)]

    doc = row(db, 1)
    paragraphs = split_paragraphs(seed["resulting_text"])
    assert len(paragraphs) == 13
    got = doc["translated_content"].split("\n\n")
    assert len(got) == 13
    for source, english in zip(paragraphs, got, strict=True):
        assert english.startswith(fake_english(source, [])[:31])  # the digest of that very paragraph
    assert doc["translated_title"].startswith(fake_english(seed["title"], [])[:31])
    for prefix in ("translated_title", "translated_content"):
        assert doc[f"{prefix}_engine"] == "openai"
        assert doc[f"{prefix}_model"] == "fake-model"
        assert "openai-python" in doc[f"{prefix}_version"] and "fake-model-served" in doc[f"{prefix}_version"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc[f"{prefix}_at"])
    assert doc["translation_error"] is None
    # each engine is told the glossary names found in the text, so the check finds none missing
    system = next(r["messages"][0]["content"] for r in server.requests if "服贸司" in r["messages"][-1]["content"])
    assert "服贸司 = Department of Trade in Services and Commercial Services" in system
    check = next(db.query("SELECT * FROM english_checks WHERE document_id = 1"))
    assert check["glossary_violations"] == 0 and json.loads(check["glossary_missing"]) == []

    run = next(db.query("SELECT * FROM crawl_runs WHERE kind = 'translate'"))
    assert run["status"] == "finished"
    assert json.loads(run["counts"])["translated"] == 2
    assert corpus_stats(db).by_translation == {"translated": 2}
    # the English search finds the new translation
    assert db.execute("SELECT count(*) FROM documents_en_fts WHERE documents_en_fts MATCH 'translation'").fetchone()[0] == 2
    # nothing is pending any more: a second run sends nothing
    before = len(server.requests)
    assert translate_pending(db, engine_for(server), policy=quick_policy())["translated"] == 0
    assert len(server.requests) == before


def test_identical_paragraphs_are_translated_once(db, server):
    shared = "商务部将会同各部门抓好文件落实。"
    load_records(db, [record(1, f"{shared}\n\n另一段。\n\n{shared}"), record(2, f"{shared}\n\n第三段。")])
    counts = translate_pending(db, engine_for(server), policy=quick_policy())
    assert counts["translated"] == 2
    assert Counter(server.sources())[shared] == 1
    assert counts["cache_hits"] == 2
    first = row(db, 1)["translated_content"].split("\n\n")
    assert first[0] == first[2] == row(db, 2)["translated_content"].split("\n\n")[0]
    cached = db.execute("SELECT engine, model, kind FROM translation_cache WHERE source = ?", [shared]).fetchall()
    assert cached == [("openai", "fake-model", "body")]
    # another model does not get this model's translations
    load_records(db, [record(3, shared)])
    translate_pending(db, make_engine("openai", "other-model", base_url=server.url, api_key="k"), policy=quick_policy())
    assert Counter(server.sources())[shared] == 2
    # --redo with the same engine takes all it translated before from the cache: only document 3's
    # title, which "other-model" translated, is new to it
    sent = len(server.requests)
    assert translate_pending(db, engine_for(server), redo=True, policy=quick_policy())["translated"] == 3
    assert server.sources()[sent:] == [record(3, "")["title"]]
    assert row(db, 3)["translated_content_model"] == "fake-model"
    sent = len(server.requests)
    # and reuse_cache=False (--no-cache) sends them again
    translate_pending(db, engine_for(server), redo=True, policy=quick_policy(), reuse_cache=False, limit=1)
    assert len(server.requests) > sent


def test_a_body_longer_than_the_context_is_cut_into_pieces_that_fit(db, server, seed):
    load_records(db, [untranslated(seed)])
    engine = engine_for(server, context_tokens=700)
    counts = translate_pending(db, engine, policy=quick_policy())
    assert counts["translated"] == 1
    sources = server.sources()
    assert len(sources) > 14  # 13 paragraphs and the title, some paragraphs in several pieces
    assert "".join(sources[1:]) == seed["resulting_text"].replace(" ", "")
    for request in server.requests:
        prompt = sum(engine.count_tokens(m["content"]) for m in request["messages"])
        assert prompt + request["max_tokens"] <= 700
    assert len(row(db)["translated_content"].split("\n\n")) == 13


def test_a_title_in_several_pieces_stays_one_line(db, server):
    load_records(db, [record(1, "一段。", title="商务部解读 外资政策")])
    translate_pending(db, engine_for(server), policy=quick_policy())
    title = row(db)["translated_title"]
    assert server.sources()[:2] == ["商务部解读", "外资政策"]
    assert "\n" not in title and title.startswith(fake_english("商务部解读", [])[:31])


# --- failures -----------------------------------------------------------------------------------


def test_transient_failures_are_retried_with_backoff(db, server):
    load_records(db, [record(1, "一段。")])
    server.script = [
        ("status", 429, {"retry-after": "0.25"}),
        ("status", 503, {}),
        ("raw", b"{not json"),
        ("raw", b'{"object": "chat.completion", "choices": []}'),
        ("sleep", 1.5),  # past the client's timeout
    ]
    delays: list[float] = []
    engine = engine_for(server, timeout=0.5)
    counts = translate_pending(db, engine, policy=quick_policy(attempts=6, delays=delays))
    assert counts["translated"] == 1 and counts["retries"] == 5
    assert delays[0] == 0.25  # what Retry-After asked
    assert 0.02 <= delays[2] < delays[3] <= 0.2  # then doubling
    assert row(db)["translated_title"].startswith("Translation ")


def test_an_answer_still_in_chinese_is_never_stored(db, server):
    load_records(db, [record(1, "商务部等12部门联合印发指导意见。")])
    server.script = [("ok",)] + [("chinese",)] * 3  # the title translates, the body never does
    counts = translate_pending(db, engine_for(server), policy=quick_policy(attempts=3))
    assert counts["failed"] == 1 and counts["bad_answers"] == 3
    doc = row(db)
    assert doc["translated_content"] is None
    assert doc["translated_title"].startswith("Translation ")  # what did translate is kept
    assert "still in Chinese" in doc["translation_error"] and "3 attempts" in doc["translation_error"]
    # a bad answer is retried at a higher temperature: a deterministic model would repeat it
    temperatures = [r["temperature"] for r in server.requests[1:]]
    assert temperatures[0] == 0 and temperatures[1] > 0 and temperatures[2] > temperatures[1]
    assert corpus_stats(db).by_translation == {"failed": 1}
    assert not db.execute("SELECT count(*) FROM translation_cache WHERE translation LIKE '%商务部%'").fetchone()[0]
    # the next run tries it again, and success clears the error
    assert translate_pending(db, engine_for(server), policy=quick_policy())["translated"] == 1
    assert row(db)["translation_error"] is None


def test_chinese_words_left_in_an_answer_are_retried_and_kept_only_at_the_last_attempt(db, server):
    load_records(db, [record(1, "一段。"), record(2, "二段。")])
    leftover = ("text", "The Ministry said that 民生 matters.")
    server.script = [("ok",), leftover, ("ok",), ("ok",), leftover, leftover, leftover]
    counts = translate_pending(db, engine_for(server), policy=quick_policy(attempts=3))
    assert counts["translated"] == 2 and counts["bad_answers"] == 3
    assert row(db, 1)["translated_content"] == fake_english("一段。", [])
    assert row(db, 2)["translated_content"] == "The Ministry said that 民生 matters."
    left = dict(db.execute("SELECT document_id, chinese_left FROM english_checks").fetchall())
    assert left == {1: 0, 2: 1}


def test_cut_off_and_runaway_answers_are_refused(db, server):
    load_records(db, [record(1, "一段。")])
    server.script = [("length",), ("text", "word " * 200), ("length",)]
    counts = translate_pending(db, engine_for(server), policy=quick_policy(attempts=3))
    assert counts["failed"] == 1
    assert "cut off" in row(db)["translation_error"]
    assert row(db)["translated_title"] is None


def test_a_fatal_error_stops_the_run_at_once(db, server):
    load_records(db, [record(1, "一段。"), record(2, "二段。")])
    server.script = [("status", 401, {})]
    with pytest.raises(TranslationFailed, match="API key"):
        translate_pending(db, engine_for(server), policy=quick_policy())
    assert len(server.requests) == 1
    run = next(db.query("SELECT * FROM crawl_runs WHERE kind = 'translate'"))
    assert run["status"] == "failed" and "API key" in run["error"]
    assert row(db)["translation_error"] is None  # not the document's fault


def test_english_pages_and_the_none_engine(db, server):
    load_records(db, [record(1, "An English page.", title="English title", language="en"), record(2, "中文。")])
    assert translate_pending(db, None) == Counter(pending=1)
    assert server.requests == []
    assert translate_pending(db, engine_for(server), policy=quick_policy())["translated"] == 1
    assert row(db, 1)["translated_content"] is None


# --- alongside a crawl --------------------------------------------------------------------------


def test_a_document_rewritten_during_its_translation_is_not_overwritten(db, server, tmp_path):
    load_records(db, [record(1, "旧的正文。")])

    def rewrite(body: dict) -> None:
        other = open_corpus(tmp_path / "corpus.db")
        with write_transaction(other):
            upsert_document(other, {"url": row(db)["url"], "resulting_text": "新的正文。"})
        other.close()

    server.script = [("ok",), ("hook", rewrite)]
    counts = translate_pending(db, engine_for(server), policy=quick_policy())
    assert counts["changed"] == 1
    doc = row(db)
    assert doc["resulting_text"] == "新的正文。" and doc["translated_content"] is None
    translate_pending(db, engine_for(server), policy=quick_policy())
    assert row(db)["translated_content"].startswith(fake_english("新的正文。", [])[:31])


def test_translation_runs_while_another_connection_writes(db, server, tmp_path):
    load_records(db, [record(n, f"第{n}段。\n\n又一段{n}。") for n in range(1, 9)])
    stop = threading.Event()
    written: list[int] = []

    def crawl() -> None:
        writer = open_corpus(tmp_path / "corpus.db")
        n = 100
        while not stop.is_set():
            with write_transaction(writer):
                writer_doc = record(n, f"抓取的第{n}篇。")
                load = {k: v for k, v in writer_doc.items() if k in ("title", "resulting_text")}
                upsert_document(writer, {"url": f"https://www.mofcom.gov.cn/x/{n}.shtml", **load})
            written.append(n)
            n += 1
            time.sleep(0.005)
        writer.close()

    server.script = [("sleep", 0.02)] * 40
    thread = threading.Thread(target=crawl)
    thread.start()
    try:
        counts = translate_pending(db, engine_for(server), policy=quick_policy())
    finally:
        stop.set()
        thread.join()
    assert counts["translated"] >= 8 and counts["failed"] == 0  # and those the crawl wrote before the run began
    assert len(written) > 5
    assert all(row(db, n)["translated_content"] for n in range(1, 9))
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 8 + len(written)


def test_a_killed_run_loses_at_most_the_document_in_flight(tmp_path, server):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    load_records(db, [record(n, f"第{n}篇的正文。") for n in range(1, 4)])
    release = threading.Event()
    server.script = [("ok",), ("ok",), ("ok",), ("block", release)]  # doc 1 whole, doc 2's title, then hang
    env = {**os.environ, "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "CORPUS_MODEL": "fake-model"}
    command = [sys.executable, "-m", "crawler.cli", "translate", "--db", str(path), "--engine", "openai", "--no-summary"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(server.requests) < 4 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert len(server.requests) == 4, child.stderr.read() if child.poll() is not None else "too slow"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
    assert row(db, 1)["translated_content"] is not None
    assert row(db, 2)["translated_title"] is None  # the document in flight: nothing of it stored
    # its title reached the cache, though: the next run does not ask for it again
    counts = translate_pending(db, engine_for(server), policy=quick_policy())
    assert counts["translated"] == 2
    sources = server.sources()
    assert Counter(sources)[record(2, "")["title"]] == 1
    assert Counter(sources)["第1篇的正文。"] == 1
    db.close()


# --- summaries ----------------------------------------------------------------------------------


def test_extractive_summaries_need_an_english_text(db, seed):
    load_records(db, [untranslated(seed), record(2, "An English page. It has three sentences. The last one is here.", language="en")])
    db.execute("UPDATE documents SET translated_content = ? WHERE id = 1", [seed["translated_content"]])
    load_records(db, [record(3, "尚未翻译。")])
    counts = summarize_pending(db)
    assert counts["extractive"] == 2 and counts["no_english_text"] == 1
    doc = row(db, 1)
    assert doc["english_summary_kind"] == "extractive"
    assert doc["english_summary_engine"] == "sumy" and doc["english_summary_model"] == "LexRank over translated_content"
    assert doc["english_summary_version"].startswith("sumy ")
    assert all(s in seed["translated_content"] for s in doc["english_summary"].split(". ") if s)
    assert row(db, 2)["english_summary_model"] == "LexRank over resulting_text"
    assert row(db, 3)["english_summary"] is None
    note = db.execute("SELECT summary_note FROM english_checks WHERE document_id = 3").fetchone()[0]
    assert "corpus translate" in note
    assert json.loads(next(db.query("SELECT counts FROM crawl_runs WHERE kind = 'summarize'"))["counts"])["extractive"] == 2
    # nothing left to do
    assert summarize_pending(db)["extractive"] == 0


def test_abstractive_summaries_replace_extractive_ones_and_fall_back_on_failure(db, server, seed):
    load_records(db, [untranslated(seed), record(2, "第二篇。")])
    db.execute("UPDATE documents SET translated_content = 'An English text. It has sentences.' WHERE id = 2")
    summarize_pending(db)
    assert row(db, 2)["english_summary_kind"] == "extractive"
    server.script = [("ok",)] + [("chinese",)] * 2  # doc 1 summarised, doc 2's answers stay Chinese
    counts = summarize_pending(db, engine_for(server), policy=quick_policy(attempts=2))
    assert counts["abstractive"] == 1 and counts["extractive_fallback"] == 1
    doc = row(db, 1)
    assert doc["english_summary"] == SUMMARY and doc["english_summary_kind"] == "abstractive"
    assert doc["english_summary_engine"] == "openai" and doc["english_summary_model"] == "fake-model"
    # the summary was asked of the Chinese text, with the glossary
    request = server.requests[0]
    assert "经国务院批准" in request["messages"][-1]["content"]
    assert "商务部 = Ministry of Commerce" in request["messages"][0]["content"]
    assert row(db, 2)["english_summary_kind"] == "extractive"
    note = db.execute("SELECT summary_note FROM english_checks WHERE document_id = 2").fetchone()[0]
    assert "abstractive summary failed" in note


# --- the commands -------------------------------------------------------------------------------


def test_translate_and_summarize_commands(tmp_path, server, seed, monkeypatch):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    load_records(db, [untranslated(seed)])
    db.close()
    for name in ("CORPUS_ENGINE", "CORPUS_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "CORPUS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def said(result) -> str:
        return " ".join(result.output.split())  # rich wraps long lines

    result = runner.invoke(cli, ["translate", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 document(s) wait" in said(result) and "--engine openai" in said(result)

    result = runner.invoke(cli, ["translate", "--db", str(path), "--engine", "openai"])
    assert result.exit_code == 1 and "needs a model" in said(result)

    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    result = runner.invoke(cli, ["translate", "--db", str(path), "--engine", "openai", "--model", "fake-model"])
    assert result.exit_code == 0, result.output
    assert "translated 1" in said(result) and "abstractive 1" in said(result)

    (tmp_path / "corpus.toml").write_text('[english]\nengine = "openai"\nmodel = "fake-model"\n', encoding="utf-8")
    result = runner.invoke(cli, ["summarize", "--db", str(path), "--redo"])
    assert result.exit_code == 0, result.output
    assert "from corpus.toml" in said(result) and "abstractive 1" in said(result)

    result = runner.invoke(cli, ["summarize", "--db", str(path), "--engine", "extractive", "--redo"])
    assert result.exit_code == 0, result.output
    assert "summaries: nothing to do" in said(result)  # --redo without an engine keeps abstractive ones

    result = runner.invoke(cli, ["translate", "--db", str(tmp_path / "missing.db"), "--engine", "none"])
    assert result.exit_code == 1 and "no corpus" in said(result)
