"""Batched writes: a crawl stores its items a batch per transaction. Killed outright it loses at most
the pending batch and never what is stored; stopped with Ctrl-C it writes the batch first; one item
that fails to store is rolled back alone."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crawling import FAST
from crawling import corpus_crawl as crawl
from scrapy.utils.test import get_crawler

from crawler.items import CaptureItem, DocumentItem
from crawler.pipelines import CorpusPipeline
from crawler.replay.captures import CaptureStore
from crawler.replay.testing import running_replay
from crawler.store import open_corpus

SEED_PAGE = Path(__file__).parent / "fixtures" / "pages" / "era-b" / "seed-20231203462051.html"
PAGES = 120


def many_articles(n: int = PAGES) -> CaptureStore:
    """``n`` distinct era-B interpretation pages built on the seed page."""
    page = SEED_PAGE.read_bytes()
    store = CaptureStore()
    for i in range(n):
        body = page.replace("近日".encode(), f"第{i}次".encode())
        url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/2023120{i:07d}.shtml"
        store.add(url, "20231221091931", body=body, headers={"Content-Type": "text/html; charset=UTF-8"})
    return store


def start_crawl(db: Path, base_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--wayback-url", base_url, *FAST,
         "--set", "CORPUS_WRITE_BATCH=10", "--set", "CONCURRENT_REQUESTS=2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_documents(db: Path, at_least: int, process: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the crawl ended before it could be stopped"
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            conn.close()
        except sqlite3.OperationalError:  # not created yet
            count = 0
        if count >= at_least:
            return count
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} documents after {timeout} s")


def consistent(db_path: Path) -> sqlite3.Connection:
    """The corpus is whole: integrity ok, every document with its stored capture and its index row."""
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM captures WHERE outcome = 'stored' AND document_id IS NOT NULL"
                        ).fetchone()[0] == documents
    assert conn.execute("SELECT count(*) FROM documents_zh_fts_docsize").fetchone()[0] == documents
    assert conn.execute("SELECT count(*) FROM documents_en_fts_docsize").fetchone()[0] == documents
    return conn


def corpus_content(conn: sqlite3.Connection) -> set[tuple]:
    return set(conn.execute("SELECT url, title, resulting_text, publish_date, capture_timestamp FROM documents").fetchall())


@pytest.fixture(scope="module")
def slow_archive():
    # Some latency, so that a crawl is still running when the test stops it.
    with running_replay(many_articles(), latency=0.02) as server:
        yield server


@pytest.fixture(scope="module")
def reference(tmp_path_factory, slow_archive):
    db = tmp_path_factory.mktemp("reference") / "corpus.db"
    crawl(db, slow_archive.base_url)
    conn = consistent(db)
    content = corpus_content(conn)
    conn.close()
    assert len(content) == PAGES
    return content


def test_a_crawl_killed_outright_keeps_what_it_stored_and_the_next_crawl_completes(tmp_path, slow_archive, reference):
    db = tmp_path / "corpus.db"
    process = start_crawl(db, slow_archive.base_url)
    wait_for_documents(db, 20, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    conn = consistent(db)
    kept = corpus_content(conn)
    conn.close()
    assert 20 <= len(kept) < PAGES
    assert kept <= reference  # nothing half-written: every stored document is whole

    crawl(db, slow_archive.base_url)
    conn = consistent(db)
    assert corpus_content(conn) == reference
    statuses = [row[0] for row in conn.execute("SELECT status FROM crawl_runs ORDER BY id")]
    conn.close()
    assert statuses == ["interrupted", "finished"]


def test_a_crawl_stopped_with_ctrl_c_writes_its_pending_batch_and_counts_it(tmp_path, slow_archive):
    db = tmp_path / "corpus.db"
    process = start_crawl(db, slow_archive.base_url)
    wait_for_documents(db, 15, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    conn = consistent(db)
    status, counts = conn.execute("SELECT status, counts FROM crawl_runs").fetchone()
    stored = conn.execute("SELECT count(*) FROM captures WHERE outcome = 'stored'").fetchone()[0]
    conn.close()
    assert status == "interrupted", stderr[-2000:]
    counts = json.loads(counts)
    # every capture the run fetched (all of them good articles) was written before it closed
    assert counts["corpus/fetched"] == counts["corpus/captures/stored"] == stored


def capture(i: int, outcome: str = "stored") -> CaptureItem:
    url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/2023120{i:07d}.shtml"
    return CaptureItem(urlkey=f"cn,gov,mofcom)/article/{i}", timestamp="20231221091931", original_url=url,
                       canonical_url=url.replace("http:", "https:"), wayback_url=url, outcome=outcome,
                       status=200, body=b"<html>...</html>")


def document(i: int, **fields) -> DocumentItem:
    item = capture(i)
    return DocumentItem(item, {"url": item.canonical_url, "title": f"标题{i}", "resulting_text": "正文", **fields})


def open_pipeline(tmp_path: Path, batch: int) -> tuple[CorpusPipeline, object]:
    """The pipeline of a crawl writing batches of ``batch`` items to tmp_path/corpus.db, opened."""
    crawler = get_crawler(settings_dict={"CORPUS_DB": str(tmp_path / "corpus.db"), "CORPUS_WRITE_BATCH": batch})
    crawler.spider = crawler._create_spider("test")
    crawler.stats.open_spider()
    pipeline = CorpusPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline, crawler


def test_an_item_that_cannot_be_stored_is_rolled_back_alone(tmp_path):
    pipeline, crawler = open_pipeline(tmp_path, batch=100)
    good = [document(i) for i in range(3)]
    bad = document(9, title="x", no_such_field=1)
    for item in (good[0], bad, good[1], capture(5, "rejected"), good[2]):
        pipeline.process_item(item)
    db = open_corpus(tmp_path / "corpus.db")
    assert db["documents"].count == 0  # still pending: one batch, not yet full
    pipeline.close_spider()

    assert [row[0] for row in db.execute("SELECT title FROM documents ORDER BY id")] == ["标题0", "标题1", "标题2"]
    outcomes = db.execute("SELECT urlkey, outcome FROM captures ORDER BY id").fetchall()
    assert ("cn,gov,mofcom)/article/9", "stored") not in outcomes  # its capture row went with it
    assert ("cn,gov,mofcom)/article/5", "rejected") in outcomes
    assert crawler.stats.get_value("corpus/store_errors") == 1
    assert crawler.stats.get_value("corpus/documents/inserted") == 3
    db.close()


def test_a_crawl_with_extraction_workers_builds_the_same_corpus(tmp_path, slow_archive, reference):
    db = tmp_path / "corpus.db"
    crawl(db, slow_archive.base_url, "--workers", "2")
    conn = consistent(db)
    counts = json.loads(conn.execute("SELECT counts FROM crawl_runs").fetchone()[0])
    assert corpus_content(conn) == reference
    conn.close()
    assert counts["corpus/extract/workers"] == 2
    # the CPU time of each of the crawl's processes is in its run log
    assert counts["corpus/cpu_seconds/extraction"] > 0 and counts["corpus/cpu_seconds/writer"] > 0


def test_a_writer_process_that_dies_loses_nothing(tmp_path):
    pipeline, crawler = open_pipeline(tmp_path, batch=2)
    writer = pipeline.writer
    assert writer is not None

    for i in range(4):  # two batches: the first committed, the second handed over
        pipeline.process_item(document(i))
    held = writer.held
    writer._settle()  # ...and committed too, but its counts never reach the crawl: the writer dies
    writer.held = held
    writer.process.kill()
    writer.process.join()
    for i in range(4, 6):  # the next hand-over finds it dead
        pipeline.process_item(document(i))
    for i in range(6, 8):
        pipeline.process_item(document(i))
    pipeline.close_spider()

    conn = consistent(tmp_path / "corpus.db")
    titles = {row[0] for row in conn.execute("SELECT title FROM documents")}
    conn.close()
    assert titles == {f"标题{i}" for i in range(8)}
    stats = crawler.stats
    assert stats.get_value("corpus/writer_failed") == 1
    assert stats.get_value("corpus/store_errors") is None
    # the batch it had committed unconfirmed is written again, found unchanged: no document counted twice
    assert stats.get_value("corpus/documents/inserted") == 6
    assert stats.get_value("corpus/documents/unchanged") == 2
    assert stats.get_value("corpus/captures/stored") == 8


def test_a_writer_process_that_dies_before_it_commits_loses_nothing(tmp_path):
    pipeline, crawler = open_pipeline(tmp_path, batch=2)
    writer = pipeline.writer
    writer.process.kill()  # dead before the first batch reaches it
    writer.process.join()
    for i in range(5):
        pipeline.process_item(document(i))
    pipeline.close_spider()

    conn = consistent(tmp_path / "corpus.db")
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    conn.close()
    assert crawler.stats.get_value("corpus/writer_failed") == 1
    assert crawler.stats.get_value("corpus/documents/inserted") == 5
