"""End-to-end crawls through the real middleware stack against the local replay server.

A tiny spider of its own (``ProbeSpider`` below) pages through CDX prefixes and, when asked, plays
back every capture, storing what it gets in a corpus the way the real pipeline would. Each crawl runs
in its own process (Scrapy's reactor starts once per process), with time scaled down: windows of
0.6 s instead of 60 s, in the archive's own proportions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import scrapy

from crawler.store import open_corpus, upsert_capture, write_transaction
from crawler.urls import canonical_url, urlkey
from crawler.wayback.cdx import CdxQuery, CdxRow, check_cdx_answer, dedupe_rows, parse_cdx
from crawler.wayback.errors import LedgerSkip, WaybackFailure
from crawler.wayback.urls import playback_url, public_url

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"

# The archive's proportions, 100 times faster: CDX 24 per window against its limit of 30.
SCALED = {
    "WAYBACK_CDX_RATE": 24,
    "WAYBACK_RATE_WINDOW": 0.6,
    "WAYBACK_PLAYBACK_RATE": 40,
    "WAYBACK_PLAYBACK_WINDOW": 1.0,
    "WAYBACK_429_PAUSE": 0.6,
    "WAYBACK_RATE_RECOVERY": 6.0,
    "WAYBACK_BAN_BACKOFF_START": 0.3,
    "WAYBACK_BAN_BACKOFF_MAX": 2.0,
    "WAYBACK_RETRY_BACKOFF": 0.02,
    "WAYBACK_RETRY_BACKOFF_MAX": 0.5,
    "DOWNLOAD_TIMEOUT": 20,
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    # The probe is its own pipeline: the corpus pipeline and the progress line stay out of it.
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {},
}


# -- the probe spider (runs in the child process) ------------------------------------------------------

class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, base: str, out: str, prefixes: list[str] = (), limit: int = 1000, output: str = "json",
                 fetch: bool = False, fetch_urls: list[list[str]] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self.out_path = out
        self.prefixes = list(prefixes)
        self.limit = int(limit)
        self.output = output
        self.fetch = fetch
        self.fetch_urls = [tuple(x) for x in fetch_urls]
        self.seen: dict[str, set] = {}
        self.db = None
        self.out = None

    async def start(self):
        self.out = open(self.out_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in closed()
        self.db = open_corpus(self.settings.get("CORPUS_DB"))
        for prefix in self.prefixes:
            self.seen[prefix] = set()
            yield self.cdx_request(prefix, CdxQuery(prefix, limit=self.limit, output=self.output))
        for ts, url in self.fetch_urls:
            yield self.playback(CdxRow(urlkey(url), ts, url, "text/html", "200", "", None))

    def cdx_request(self, prefix: str, query: CdxQuery) -> scrapy.Request:
        return scrapy.Request(query.url_for(self.base), callback=self.parse_page, errback=self.failed,
                              cb_kwargs={"prefix": prefix, "query": query}, dont_filter=True)

    def playback(self, row: CdxRow) -> scrapy.Request:
        return scrapy.Request(playback_url(self.base, row.timestamp, row.original), callback=self.parse_memento,
                              errback=self.failed, meta={"cdx_row": row}, dont_filter=True)

    def emit(self, **event: Any) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")

    def parse_page(self, response, prefix: str, query: CdxQuery):
        check_cdx_answer(response.status, response.body)
        page = parse_cdx(response.body, response.headers.get("Content-Type"))
        self.crawler.stats.inc_value("probe/cdx_pages")
        rows = dedupe_rows(page.rows, self.seen[prefix])
        self.emit(event="page", prefix=prefix, resume_key=query.resume_key, rows=len(page.rows),
                  new_rows=len(rows), duplicates=page.duplicates, skipped=page.skipped)
        for row in rows:
            self.emit(event="row", urlkey=row.urlkey, timestamp=row.timestamp, digest=row.digest)
            if self.fetch and (row.status == 200 or row.is_revisit):
                yield self.playback(row)
        if page.resume_key:
            yield self.cdx_request(prefix, query.next_page(page.resume_key))

    def parse_memento(self, response):
        row: CdxRow = response.meta["cdx_row"]
        info = response.meta["wayback"]
        outcome = "stored" if info["kind"] == "memento" and response.status == 200 else "rejected"
        with write_transaction(self.db):
            upsert_capture(self.db, {
                "urlkey": row.urlkey, "timestamp": info["timestamp"] or row.timestamp, "requested_timestamp": row.timestamp,
                "original_url": info["original"], "canonical_url": canonical_url(info["original"]),
                "wayback_url": info["returned_url"], "status": response.status, "digest": row.digest or None,
                "body": response.body, "outcome": outcome, "reason": None if outcome == "stored" else info["kind"],
            })
        self.emit(event="memento", outcome=outcome, **{k: info[k] for k in ("kind", "input_url", "returned_url", "timestamp")})

    def failed(self, failure):
        request = failure.request
        if failure.check(LedgerSkip):
            self.emit(event="skip", outcome=failure.value.outcome, url=request.url)
            return
        reason = failure.value.reason if failure.check(WaybackFailure) else repr(failure.value)
        self.emit(event="error", url=request.url, reason=reason)
        row = request.meta.get("cdx_row")
        if row is not None:
            with write_transaction(self.db):
                upsert_capture(self.db, {"urlkey": row.urlkey, "timestamp": row.timestamp, "original_url": row.original,
                                         "digest": row.digest or None, "outcome": "error", "reason": reason})

    def closed(self, reason):
        if self.out:
            self.out.close()
        if self.db is not None:
            self.db.close()


def _child(config: dict[str, Any]) -> None:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in config["settings"].items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler, **config["spider"])
    process.start()
    Path(config["stats"]).write_text(json.dumps(crawler.stats.get_stats(), default=str))


# -- running a crawl from a test ----------------------------------------------------------------------------

@dataclass
class Crawl:
    events: list[dict[str, Any]]
    stats: dict[str, Any]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


def crawl(tmp_path: Path, base: str, db_path: Path, settings: dict[str, Any] | None = None, **spider: Any) -> Crawl:
    n = len(list(tmp_path.glob("crawl-*.jsonl")))
    out, stats = tmp_path / f"crawl-{n}.jsonl", tmp_path / f"crawl-{n}.stats.json"
    config = {
        "settings": {**SCALED, "CORPUS_DB": str(db_path), **(settings or {})},
        "spider": {"base": base, "out": str(out), **spider},
        "stats": str(stats),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, __file__, json.dumps(config)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and stats.exists(), proc.stderr[-4000:]
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return Crawl(events, json.loads(stats.read_text()))


@pytest.fixture
def replay():
    from crawler.replay.testing import running_replay
    return running_replay


def fill(store, prefix_url: str, n: int, start_day: int = 1) -> list[tuple[str, str]]:
    """``n`` captures of distinct articles under ``prefix_url``; returns their (url, timestamp)."""
    made = []
    for i in range(n):
        url = f"{prefix_url}{i:04d}.shtml"
        ts = f"2023{(start_day + i // 28) % 12 + 1:02d}{i % 28 + 1:02d}091931"
        store.add(url, ts, body=f"<html><body>article {i} of {prefix_url}</body></html>".encode(),
                  headers={"Content-Type": "text/html; charset=UTF-8"})
        made.append((url, ts))
    return made


# -- the tests ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["json", "text"])
def test_paging_through_resume_keys_returns_every_row_once(tmp_path, replay, output):
    prefix = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/"
    with replay(duplicate_rows=3) as server:  # every index line three times, as IA sometimes does
        made = fill(server.store, prefix, 23)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=[prefix], limit=5, output=output)
        served = server.stats.snapshot()
    rows = [(e["urlkey"], e["timestamp"]) for e in result.of("row")]
    assert sorted(rows) == sorted((urlkey(u), ts) for u, ts in made)  # every row, once
    keys = [e["resume_key"] for e in result.of("page") if e["resume_key"]]
    assert len(keys) >= 3 and len(set(keys)) == len(keys)
    assert served.get("requests_cdx", 0) == len(result.of("page")) == result.stats["wayback/requests/cdx"]
    assert sum(e["duplicates"] for e in result.of("page")) > 0


def test_requested_and_actual_timestamp_of_the_seed_record(tmp_path, replay, seed):
    with replay() as server:
        server.store.add(SEED_ARTICLE, "20231221091931", body="<html><title>商务部服贸司负责人解读</title></html>".encode(),
                         headers={"Content-Type": "text/html; charset=UTF-8"})
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", fetch_urls=[["20231224001357", SEED_ARTICLE]])
    (memento,) = result.of("memento")
    assert memento["input_url"] == seed["input_url"] == f"20231224001357/{SEED_ARTICLE}"
    assert memento["returned_url"] == seed["returned_url"] == public_url("20231221091931", SEED_ARTICLE)
    assert result.stats["wayback/redirects/nearest_capture"] == 1
    db = open_corpus(tmp_path / "corpus.db")
    (row,) = db.execute("SELECT timestamp, requested_timestamp, wayback_url FROM captures").fetchall()
    assert row == ("20231221091931", "20231224001357", seed["returned_url"])
    db.close()


@pytest.mark.parametrize("style", ["absolute", "path", "schemeless"])
def test_archived_redirects_are_followed_to_their_target_capture_and_recorded(tmp_path, replay, style):
    old = "http://www.mofcom.gov.cn/aarticle/zwgk/gkzcjd/202312/20231203462051.html"
    with replay() as server:
        server.store.add_redirect(old, "20231221091931", location=SEED_ARTICLE, status=301, location_style=style)
        server.store.add(SEED_ARTICLE, "20231221093000", body=b"<html>moved here</html>",
                         headers={"Content-Type": "text/html"})
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", fetch_urls=[["20231221091931", old]])
    (memento,) = result.of("memento")
    assert memento["kind"] == "memento" and memento["timestamp"] == "20231221093000"
    assert memento["input_url"] == f"20231221091931/{old}"
    assert memento["returned_url"] == public_url("20231221093000", SEED_ARTICLE)
    assert result.stats["wayback/redirects/archived"] == 1 and result.stats["wayback/redirects/nearest_capture"] == 1


def test_a_redirect_loop_ends_in_the_errback_as_final(tmp_path, replay):
    a, b = "http://www.mofcom.gov.cn/a.html", "http://www.mofcom.gov.cn/b.html"
    with replay() as server:
        server.store.add_redirect(a, "20231221091931", location=b)
        server.store.add_redirect(b, "20231221091931", location=a)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", fetch_urls=[["20231221091931", a]])
    (error,) = result.of("error")
    assert error["reason"].startswith("redirect loop back to https://web.archive.org/web/20231221091931/")
    assert result.stats["wayback/redirects/loops"] == 1 and not result.of("memento")


def test_a_hundred_cdx_pages_under_the_archives_limit_draw_at_most_one_429_and_no_ban(tmp_path, replay):
    prefixes = [f"http://www.mofcom.gov.cn/article/{section}/" for section in ("ae/ai", "b/c", "zhengcejd/bj", "zcjd/gnmy")]
    # The archive: 30 CDX requests per window; the crawl: 24 per window, four prefixes at once.
    with replay(cdx_limit=30, window=0.6) as server:
        for i, prefix in enumerate(prefixes):
            fill(server.store, prefix, 123, start_day=i)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=prefixes, limit=5)
        served = server.stats.snapshot()
    assert result.stats["probe/cdx_pages"] == 100  # 4 prefixes x 25 pages
    assert len(result.of("row")) == 4 * 123
    assert served.get("served_429", 0) <= 1 and result.stats.get("wayback/live_429", 0) == served.get("served_429", 0)
    assert served.get("bans_started", 0) == 0 and served.get("connections_refused", 0) == 0
    assert not result.of("error")


def test_a_stricter_archive_gets_paused_for_and_loses_nothing(tmp_path, replay):
    prefixes = ["http://www.mofcom.gov.cn/article/ae/ai/", "http://www.mofcom.gov.cn/article/b/c/"]
    with replay(cdx_limit=10, window=0.6) as server:  # the crawl is set for 24: it must learn
        for i, prefix in enumerate(prefixes):
            fill(server.store, prefix, 60, start_day=i)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=prefixes, limit=5)
        served = server.stats.snapshot()
    stats = result.stats
    assert served.get("served_429", 0) >= 1 and stats["wayback/live_429"] == served.get("served_429", 0)
    assert stats["wayback/pauses"] >= 1 and stats["wayback/pause_seconds"] >= 0.6
    assert stats["wayback/rate/cdx"] < 24
    assert served.get("bans_started", 0) == 0  # it stopped well before the firewall would
    assert len(result.of("row")) == 120 and not result.of("error")


def test_a_ban_is_waited_out_with_growing_backoff(tmp_path, replay):
    prefix = "http://www.mofcom.gov.cn/article/ae/ai/"
    # An archive that bans at the second 429, and a crawl told to barely pause: it gets banned,
    # its connections reset, and it must back off until the ban is over.
    with replay(cdx_limit=4, window=0.3, ban_after=0.0, ban_seconds=0.4) as server:
        fill(server.store, prefix, 60)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=[prefix], limit=5,
                       settings={"WAYBACK_CDX_RATE": 40, "WAYBACK_429_PAUSE": 0.01, "WAYBACK_RETRY_TIMES": 12})
        served = server.stats.snapshot()
    stats = result.stats
    assert served.get("bans_started", 0) >= 1
    failures = stats.get("wayback/connection/reset", 0) + stats.get("wayback/connection/refused", 0)
    assert failures >= 1 and stats["wayback/ban_backoffs"] >= 1
    assert len(result.of("row")) == 60 and not result.of("error")


def test_injected_5xx_at_20_percent_loses_no_capture(tmp_path, replay):
    prefix = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/"
    with replay(error_rate=0.2, seed=7) as server:
        made = fill(server.store, prefix, 30)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=[prefix], limit=10, fetch=True,
                       settings={"WAYBACK_RETRY_TIMES": 10})
        served = server.stats.snapshot()
    assert served.get("injected_5xx", 0) >= 5
    retried = sum(v for k, v in result.stats.items() if k.startswith("wayback/retry/reason_count/live 50"))
    assert retried == served.get("injected_5xx", 0)  # every fault seen and counted
    assert not result.of("error")
    db = open_corpus(tmp_path / "corpus.db")
    stored = db.execute("SELECT count(*) FROM captures WHERE outcome = 'stored'").fetchone()[0]
    db.close()
    assert stored == len(made) == len(result.of("memento"))


def test_live_failures_that_outlast_the_retries_reach_the_errback_and_the_ledger(tmp_path, replay):
    with replay(error_rate=1.0) as server:  # the archive is down
        made = fill(server.store, "http://www.mofcom.gov.cn/article/ae/ai/", 3)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", fetch_urls=[[ts, url] for url, ts in made],
                       settings={"WAYBACK_RETRY_TIMES": 2})
        served = server.stats.snapshot()
    errors = result.of("error")
    assert len(errors) == 3 and all(e["reason"].endswith("after 3 attempts") for e in errors)
    assert served.get("injected_5xx", 0) == 9 and result.stats["wayback/retry/max_reached"] == 3
    db = open_corpus(tmp_path / "corpus.db")
    assert db.execute("SELECT count(*) FROM captures WHERE outcome = 'error'").fetchone()[0] == 3
    db.close()


def test_bodies_cut_short_are_fetched_again_without_taking_them_for_a_ban(tmp_path, replay):
    prefix = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/"
    with replay(truncate_rate=0.3, seed=3) as server:
        made = fill(server.store, prefix, 20)
        result = crawl(tmp_path, server.base_url, tmp_path / "corpus.db", prefixes=[prefix], fetch=True,
                       settings={"WAYBACK_RETRY_TIMES": 10})
        served = server.stats.snapshot()
    assert served.get("truncated_bodies", 0) >= 3
    assert "wayback/ban_backoffs" not in result.stats and not result.of("error")
    db = open_corpus(tmp_path / "corpus.db")
    sizes = [r[0] for r in db.execute("SELECT body_size FROM captures WHERE outcome = 'stored'")]
    db.close()
    expected = sorted(len(f"<html><body>article {i} of {prefix}</body></html>") for i in range(len(made)))
    assert sorted(sizes) == expected  # whole bodies only


def test_a_second_crawl_makes_cdx_requests_only(tmp_path, replay):
    prefix = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/"
    db_path = tmp_path / "corpus.db"
    with replay() as server:
        made = fill(server.store, prefix, 12)
        first = crawl(tmp_path, server.base_url, db_path, prefixes=[prefix], fetch=True)
        after_first = server.stats.snapshot()
        # The archive captures two of the pages again, unchanged: same payload, same digest.
        (url_a, _), (url_b, ts_b) = made[0], made[1]
        server.store.add(url_a, "20240301000000", body=f"<html><body>article 0 of {prefix}</body></html>".encode(),
                         headers={"Content-Type": "text/html; charset=UTF-8"})
        server.store.add_revisit(url_b, "20240302000000", refers_to_timestamp=ts_b)
        second = crawl(tmp_path, server.base_url, db_path, prefixes=[prefix], fetch=True)
        after_second = server.stats.snapshot()
    assert len(first.of("memento")) == 12
    assert after_second.get("requests_playback", 0) - after_first.get("requests_playback", 0) == 0
    assert after_second.get("requests_cdx", 0) - after_first.get("requests_cdx", 0) == 1
    assert second.stats["ledger/known"] == 12 and second.stats["ledger/duplicate"] == 2
    assert "wayback/requests/playback" not in second.stats
    db = open_corpus(db_path)
    duplicates = db.execute("SELECT timestamp, reason FROM captures WHERE outcome = 'duplicate' ORDER BY timestamp").fetchall()
    db.close()
    assert [d[0] for d in duplicates] == ["20240301000000", "20240302000000"]
    assert all(d[1].startswith("same payload digest as capture ") for d in duplicates)


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
