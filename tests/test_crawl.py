"""The whole crawl, end to end: the MOFCOM spider through the Wayback middlewares and the extractor
into the corpus, against the local replay serving the bundled captures. Each crawl runs as
`corpus crawl` in its own process (Scrapy's reactor starts once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crawling import corpus_crawl as crawl

from crawler.extract.evaluate import load_golden
from crawler.replay.captures import CaptureStore
from crawler.replay.testing import running_replay
from crawler.store import get_record, open_corpus
from crawler.urls import canonical_url

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
GOLDEN = {page.id: page for page in load_golden(FIXTURES / "pages")}
FIELDS = ("title", "publish_date", "source", "department", "document_number", "index_number",
          "policy_links", "attachments", "english_url", "chinese_url", "language", "extractor", "charset",
          "resulting_text")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("crawl") / "corpus.db"
    with running_replay(FIXTURES / "captures") as server:
        first = crawl(db_path, server.base_url)
        playback_after_first = server.stats["requests_playback"]
        second = crawl(db_path, server.base_url)
        playback_in_second = server.stats["requests_playback"] - playback_after_first
    db = open_corpus(db_path)
    yield {"db": db, "first": first, "second": second, "playback_in_second": playback_in_second}
    db.close()


@pytest.mark.parametrize("page_id", [p.id for p in GOLDEN.values() if p.kind == "article"])
def test_every_golden_article_is_stored_field_by_field(crawled, page_id):
    page = GOLDEN[page_id]
    record = get_record(crawled["db"], page.url)
    assert record is not None, f"{page_id} ({page.url}) was not stored"
    for field in FIELDS:
        assert record[field] == page.expected[field], f"{page_id}: {field}"
    assert record["extractor_version"] and record["language_score"] > 0
    assert record["returned_url"].startswith("https://web.archive.org/web/")


def test_rejected_pages_are_kept_in_the_ledger_with_their_reason(crawled):
    db = crawled["db"]
    reached = 0
    for page in (p for p in GOLDEN.values() if p.kind == "reject"):
        rows = db.execute("SELECT outcome, reason, body FROM captures WHERE canonical_url = ?",
                          [canonical_url(page.url)]).fetchall()
        if not rows:
            continue  # outside every interpretation column and linked from no listing: never asked for
        reached += 1
        assert {(r[0], r[1]) for r in rows} == {("rejected", page.expected["rejected"])}, page.id
        assert all(r[2] for r in rows), f"{page.id}: the rejected capture's bytes are kept for audit"
        assert get_record(db, page.url) is None
    assert reached >= 5


def test_the_run_report_adds_up(crawled):
    db = crawled["db"]
    run = db.execute("SELECT status, counts FROM crawl_runs WHERE kind = 'crawl' ORDER BY id LIMIT 1").fetchone()
    assert run[0] == "finished"
    counts = json.loads(run[1])
    by_outcome = dict(db.execute("SELECT outcome, count(*) FROM captures GROUP BY outcome").fetchall())
    assert counts["corpus/captures/stored"] == by_outcome["stored"] == db["documents"].count
    assert counts["corpus/captures/rejected"] == by_outcome["rejected"]
    # every capture CDX listed ended in the ledger, and every fetch in one outcome
    assert sum(by_outcome.values()) == counts["corpus/found/captures"]
    assert counts["corpus/fetched"] == by_outcome["stored"] + by_outcome["rejected"] + by_outcome.get("listing", 0)
    for line in ("found URLs", "fetched", "stored documents", "rejected", "site-404", "script-shell"):
        assert line in crawled["first"].stderr, line


def test_a_second_crawl_of_an_unchanged_archive_makes_no_playback_request(crawled):
    assert crawled["playback_in_second"] == 0
    runs = crawled["db"].execute("SELECT counts FROM crawl_runs WHERE kind = 'crawl' ORDER BY id").fetchall()
    second = json.loads(runs[-1][0])
    assert second.get("corpus/fetched", 0) == 0 and second["ledger/known"] > 0
    assert crawled["db"]["documents"].count == json.loads(runs[0][0])["corpus/captures/stored"]



def test_scrapy_crawl_mofcom_builds_the_same_corpus(tmp_path, crawled):
    """`scrapy crawl mofcom` (the README's other way in) runs the same spider, settings and pipeline."""
    db_path = tmp_path / "corpus.db"
    with running_replay(FIXTURES / "captures") as server:
        done = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "mofcom", "-s", f"WAYBACK_BASE_URL={server.base_url}",
             "-s", "WAYBACK_CDX_RATE=60000", "-s", "WAYBACK_PLAYBACK_RATE=500", "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, env={**os.environ, "CORPUS_DB": str(db_path)}, capture_output=True, text=True, timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    db = open_corpus(db_path)
    ours = set(db.execute("SELECT url, title, resulting_text FROM documents").fetchall())
    db.close()
    assert ours == set(crawled["db"].execute("SELECT url, title, resulting_text FROM documents").fetchall())
    assert len(ours) == 17


def test_listing_pages_lead_to_articles_cdx_did_not_list(tmp_path):
    """The interpretation column's listing links to an article filed in another column (as MOFCOM's
    lists do): no prefix query finds it, the listing does."""
    listing, article = GOLDEN["era-b-listing-page2"], GOLDEN["era-b-seed"]
    elsewhere = "/article/ae/ai/202312/20231203462051.shtml"
    store = CaptureStore()
    store.add(listing.url, "20240110000000", headers=listing.headers,
              body=listing.body.replace(b"/article/zwgk/gkzcjd/202312/20231203462051.shtml", elsewhere.encode()))
    store.add("http://www.mofcom.gov.cn" + elsewhere, "20231221091931", body=article.body, headers=article.headers)
    db_path = tmp_path / "corpus.db"
    with running_replay(store) as server:
        crawl(db_path, server.base_url, "--prefix", "www.mofcom.gov.cn/article/zwgk/gkzcjd/")
    db = open_corpus(db_path)
    record = get_record(db, "http://www.mofcom.gov.cn" + elsewhere)
    assert record is not None and record["title"] == article.expected["title"]
    counts = json.loads(db.execute("SELECT counts FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert counts["corpus/cdx/queries/listing-link"] >= 1 and counts["corpus/captures/listing"] == 1


def test_as_of_reproduces_the_seed_records_urls(tmp_path, seed):
    db_path = tmp_path / "corpus.db"
    with running_replay(FIXTURES / "captures") as server:
        crawl(db_path, server.base_url, "--as-of", "20231224001357", "--prefix", "www.mofcom.gov.cn/article/zwgk/gkzcjd/")
    db = open_corpus(db_path)
    record = get_record(db, "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml")
    assert record["input_url"] == seed["input_url"]
    assert record["returned_url"] == seed["returned_url"]
    assert " ".join(record["resulting_text"].split()) == seed["resulting_text"]
    assert record["title"] == seed["title"].removesuffix(" [政策原文]")
    assert record["policy_links"][0]["text"] == "政策原文"


def spelled_store() -> CaptureStore:
    """One article archived under three spellings at three times, with different text each time."""
    page = GOLDEN["era-b-seed"]
    body = page.body
    store = CaptureStore()
    path = "/article/zwgk/gkzcjd/202312/20231203462051.shtml"
    store.add(f"http://mofcom.gov.cn{path}?wscckey=3fb1_1703", "20231221091931", body=body, headers=page.headers)
    store.add(f"https://www.mofcom.gov.cn{path}", "20240105000000", body=body.replace("近日".encode(), "日前".encode()),
              headers=page.headers)
    store.add(f"http://www.mofcom.gov.cn{path}/", "20250601000000",
              body=body.replace("近日".encode(), "最近".encode()), headers=page.headers)
    return store


@pytest.mark.parametrize("order, timestamp, word", [("newest", "20250601000000", "最近"), ("oldest", "20231221091931", "近日")])
def test_several_spellings_are_one_document_from_the_chosen_capture(tmp_path, order, timestamp, word):
    db_path = tmp_path / "corpus.db"
    with running_replay(spelled_store()) as server:
        crawl(db_path, server.base_url, "--capture", order, "--prefix", "mofcom.gov.cn/article/zwgk/gkzcjd/")
    db = open_corpus(db_path)
    assert db["documents"].count == 1
    record = get_record(db, "https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml")
    assert record["capture_timestamp"] == timestamp
    assert record["resulting_text"].startswith("经国务院批准") and word in record["resulting_text"]
    assert (record["first_seen"], record["last_seen"]) == ("20231221091931", "20250601000000")
    outcomes = sorted(r[0] for r in db.execute("SELECT outcome FROM captures"))
    assert outcomes == ["skipped", "skipped", "stored"]


def test_from_and_to_bound_the_capture_dates(tmp_path):
    db_path = tmp_path / "corpus.db"
    with running_replay(FIXTURES / "captures") as server:
        crawl(db_path, server.base_url, "--from", "2021", "--to", "2022-06")
    db = open_corpus(db_path)
    stamps = [r[0] for r in db.execute("SELECT timestamp FROM captures")]
    assert stamps and all("2021" <= ts[:6] <= "202206" for ts in stamps), stamps
    assert db["documents"].count >= 3
