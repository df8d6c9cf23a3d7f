"""The fault matrix: the real crawl (spider, middlewares, extractor, pipeline) against the replay
with one fault injected at a time. For each fault: what was already stored is neither lost nor
corrupted, the run report counts the fault, and a clean crawl afterwards ends with the same corpus
a crawl without faults builds. Time is scaled down (windows and pauses of a fraction of a second)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crawling import corpus_crawl

from crawler.replay.captures import CaptureStore
from crawler.replay.testing import running_replay
from crawler.store import load_records, open_corpus

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURES = FIXTURES / "captures"
SCALED = {
    "WAYBACK_CDX_RATE": 600, "WAYBACK_RATE_WINDOW": 1.0, "WAYBACK_PLAYBACK_RATE": 200, "WAYBACK_PLAYBACK_WINDOW": 1.0,
    "WAYBACK_429_PAUSE": 0.3, "WAYBACK_RATE_RECOVERY": 3.0, "WAYBACK_BAN_BACKOFF_START": 0.2,
    "WAYBACK_BAN_BACKOFF_MAX": 1.0, "WAYBACK_RETRY_BACKOFF": 0.02, "WAYBACK_RETRY_BACKOFF_MAX": 0.3,
    "WAYBACK_RETRY_TIMES": 8, "DOWNLOAD_TIMEOUT": 5, "LOG_LEVEL": "WARNING",
}
# A record stored before the faulty crawl: it must come out of it exactly as it went in.
KEEPER = {
    "title": "商务部外资司负责人解读外资准入负面清单",
    "resulting_text": "外资准入负面清单进一步缩减。\n\n下一步，商务部将持续优化外商投资环境。",
    "input_url": "20200101000000/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/201912/20191202925000.shtml",
    "returned_url": "https://web.archive.org/web/20191231000000/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/201912/20191202925000.shtml",
    "date": "2019-12-31 00:00:00",
    "translated_title": "Head of the Department of Foreign Investment Administration explains the negative list",
    "translated_content": "The negative list for foreign investment access is shortened further.",
    "english_summary": "The negative list is shortened.",
    "html": "<html><body><p>外资准入负面清单进一步缩减。</p></body></html>",
}


def crawl(db: Path, base_url: str, settings: dict | None = None):
    return corpus_crawl(db, base_url, settings={**SCALED, **(settings or {})}, check=False)


def documents(db_path: Path) -> dict[str, tuple]:
    db = open_corpus(db_path)
    try:
        return {r[0]: r[1:] for r in db.execute("SELECT url, title, resulting_text, publish_date FROM documents")}
    finally:
        db.close()


def keeper_row(db_path: Path) -> dict:
    db = open_corpus(db_path)
    try:
        row = next(db.query("SELECT * FROM documents WHERE url LIKE '%20191202925000%'"))
        capture = next(db.query("SELECT * FROM captures WHERE id = ?", [row["capture_id"]]))
        return {"document": row, "capture": capture}
    finally:
        db.close()


def last_run(db_path: Path) -> tuple[str, dict]:
    db = open_corpus(db_path)
    try:
        status, counts = db.execute("SELECT status, counts FROM crawl_runs WHERE kind = 'crawl' ORDER BY id DESC").fetchone()
        return status, json.loads(counts)
    finally:
        db.close()


def with_keeper(path: Path) -> Path:
    db = open_corpus(path)
    load_records(db, [KEEPER])
    db.close()
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, tuple]:
    db_path = with_keeper(tmp_path_factory.mktemp("baseline") / "corpus.db")
    with running_replay(CAPTURES) as server:
        done = crawl(db_path, server.base_url)
    assert done.returncode == 0, done.stderr[-2000:]
    docs = documents(db_path)
    assert len(docs) > 10
    return docs


def wrong_content_type_store() -> CaptureStore:
    """Every page of the bundled captures, with the archived Content-Type replaced by a wrong one."""
    pages = FIXTURES / "pages"
    store = CaptureStore()
    for page in json.loads((pages / "manifest.json").read_text(encoding="utf-8"))["pages"]:
        if not page.get("file"):
            continue
        for capture in page["captures"]:
            headers = {**page.get("headers", {}), **capture.get("headers", {}), "Content-Type": "application/octet-stream"}
            store.add(page["url"], capture["timestamp"], body=(pages / capture.get("file", page["file"])).read_bytes(),
                      status=capture.get("status", page.get("status", 200)), headers=headers)
    return store


FAULTS = {
    # name: (replay source, replay faults, crawl settings, stat keys of which at least one must count it)
    "429 burst": (CAPTURES, {"cdx_limit": 3, "playback_limit": 4, "window": 0.5, "ban_after": 30}, {},
                  ["wayback/live_429"]),
    "ban window": (CAPTURES, {"cdx_limit": 2, "window": 0.5, "ban_after": 0.0, "ban_seconds": 0.5},
                   {"WAYBACK_429_PAUSE": 0.01}, ["wayback/connection/refused", "wayback/connection/reset"]),
    "5xx": (CAPTURES, {"error_rate": 0.3, "seed": 7}, {}, ["wayback/retry/count"]),
    "slow responses and timeouts": (CAPTURES, {"latency": 0.6}, {"DOWNLOAD_TIMEOUT": 0.3, "WAYBACK_RETRY_TIMES": 1},
                                    ["wayback/retry/count"]),
    "truncated bodies": (CAPTURES, {"truncate_rate": 0.4, "seed": 3}, {}, ["wayback/retry/count"]),
    "wrong Content-Type": (None, {}, {}, []),
    "gzip-still-compressed bodies": (CAPTURES, {"gzip_bodies": True}, {}, []),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault(fault, tmp_path, baseline):
    source, faults, settings, counted_by = FAULTS[fault]
    db_path = with_keeper(tmp_path / "corpus.db")
    before = keeper_row(db_path)
    source = wrong_content_type_store() if source is None else source
    with running_replay(source, **faults) as server:
        faulty = crawl(db_path, server.base_url, settings)
        served = dict(server.stats)
    status, counts = last_run(db_path)

    # nothing stored is lost or corrupted
    assert keeper_row(db_path) == before
    db = open_corpus(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    half = db.execute("SELECT count(*) FROM documents WHERE title IS NULL OR resulting_text IS NULL").fetchone()[0]
    assert half == 0
    db.close()
    # the run report counts the fault (and the replay really injected it)
    if counted_by:
        assert any(counts.get(key) for key in counted_by), (counted_by, counts, faulty.stderr[-2000:])
        assert "crawl report" in faulty.stderr
    assert status in ("finished", "failed")
    assert faulty.returncode == (0 if status == "finished" else 1)
    injected = {k: v for k, v in served.items() if k in ("served_429", "connections_refused", "injected_5xx",
                                                        "truncated_bodies", "gzipped_bodies") and v}
    if fault not in ("wrong Content-Type", "slow responses and timeouts"):
        assert injected, served
    # a clean crawl afterwards ends with the corpus a crawl without faults builds
    with running_replay(source) as server:
        clean = crawl(db_path, server.base_url)
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert documents(db_path) == baseline
    assert keeper_row(db_path) == before
