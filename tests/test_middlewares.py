"""Unit tests of the Wayback middlewares and the limiter, with Scrapy Request/Response objects and no
network: politeness (rates, 429 pause, ban backoff), backoff retries, redirects, the ledger."""

import asyncio
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.ledger import LedgerMiddleware, check_capture
from crawler.middlewares.politeness import Limiter, PolitenessMiddleware, Pool, connection_failure
from crawler.middlewares.redirects import WaybackRedirectMiddleware
from crawler.middlewares.retry import BackoffRetryMiddleware, backoff_delay
from crawler.store import upsert_capture, write_transaction
from crawler.urls import canonical_url, urlkey
from crawler.wayback.cdx import CdxRow
from crawler.wayback.errors import LedgerSkip, TooManyHops, WaybackUnavailable
from crawler.wayback.urls import playback_url

BASE = "http://127.0.0.1:9"
ARTICLE = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
MEMENTO_HEADERS = {"Memento-Datetime": "Thu, 21 Dec 2023 09:19:31 GMT", "Content-Type": "text/html; charset=UTF-8",
                   "Link": f'<{ARTICLE}>; rel="original", <https://web.archive.org/web/timemap/link/{ARTICLE}>; rel="timemap"'}


class Probe(Spider):
    name = "unit"


def make_crawler(**overrides):
    base = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(Probe, {**base, **overrides})
    crawler.spider = crawler._create_spider()
    return crawler


class Clock:
    """A hand-driven clock for the limiter's bookkeeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock=None, **kwargs) -> Limiter:
    pools = {"cdx": Pool("cdx", 24, 0.6, 24, 1.2), "playback": Pool("playback", 10, 0.1, 10, 0.5)}
    defaults = {"pause_after_429": 0.3, "rate_decrease": 0.5, "rate_recovery": 5.0, "ban_threshold": 3,
                "ban_backoff_start": 1.0, "ban_backoff_max": 4.0}
    extra = {"clock": clock} if clock else {}
    return Limiter(pools, **{**defaults, **kwargs}, **extra)


def cdx_row(ts="20231221091931", original=ARTICLE, digest="DIGESTAAAAAAAAAAAAAAAAAAAAAAAAAA", mimetype="text/html", status="200"):
    return CdxRow(urlkey(original), ts, original, mimetype, status, digest, 5000)


# -- the limiter ----------------------------------------------------------------------------------------

def test_requests_of_one_pool_are_spread_evenly_even_when_concurrent():
    lim = limiter()

    async def go():
        turns = await asyncio.gather(*(lim.acquire("playback") for _ in range(6)))
        return [t.at for t in turns]

    starts = sorted(asyncio.run(go()))
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    interval = lim.pools["playback"].interval  # 0.1 s / 10
    assert all(g >= interval for g in gaps), gaps  # never closer than window/rate


def test_pools_do_not_wait_for_each_other():
    lim = limiter()

    async def go():
        await lim.acquire("cdx")
        await lim.acquire("cdx")  # takes the second 25 ms CDX slot
        return lim.pools["cdx"].next_slot, lim.pools["playback"].next_slot

    cdx_next, playback_next = asyncio.run(go())
    assert playback_next == 0.0 and cdx_next > 0


def test_live_429_pauses_everything_lowers_that_rate_once_per_pause():
    clock = Clock()
    lim = limiter(clock)
    epoch = lim.epoch
    assert lim.on_rate_limited("cdx", epoch) == pytest.approx(0.3)
    assert lim.paused_until == pytest.approx(clock.now + 0.3)
    assert lim.pools["cdx"].rate == 12 and lim.pools["playback"].rate == 10
    assert all(p.next_slot == lim.paused_until for p in lim.pools.values())
    # Requests already in flight answer 429 too: no second pause, no second halving.
    assert lim.on_rate_limited("cdx", epoch) == 0.0 and lim.pools["cdx"].rate == 12
    # A 429 to a request sent after the pause halves again, down to the floor.
    for _ in range(10):
        lim.on_rate_limited("cdx", lim.epoch)
    assert lim.pools["cdx"].rate == 1.2


def test_rate_climbs_back_after_a_quiet_spell():
    clock = Clock()
    lim = limiter(clock)
    lim.on_rate_limited("cdx", lim.epoch)
    lim.on_rate_limited("cdx", lim.epoch)
    assert lim.pools["cdx"].rate == 6
    clock.now += 6
    asyncio.run(lim.acquire("cdx"))
    assert lim.pools["cdx"].rate == 12
    clock.now += 6
    asyncio.run(lim.acquire("cdx"))
    assert lim.pools["cdx"].rate == 24 and lim.pools["cdx"].lowered_at is None
    clock.now += 60
    asyncio.run(lim.acquire("cdx"))
    assert lim.pools["cdx"].rate == 24  # never above the configured rate


def test_acquire_waits_out_a_pause():
    lim = limiter(pause_after_429=0.15)

    async def go():
        lim.on_rate_limited("playback", lim.epoch)
        paused_until = lim.paused_until
        turn = await lim.acquire("cdx")
        return turn, paused_until

    turn, paused_until = asyncio.run(go())
    assert turn.at >= paused_until and turn.epoch == 1


def test_a_pause_voids_slots_reserved_before_it():
    lim = limiter()

    async def go():
        await lim.acquire("cdx")
        late = asyncio.create_task(lim.acquire("cdx"))  # queues for the next turn, 25 ms ahead
        await asyncio.sleep(0)
        lim.on_rate_limited("cdx", lim.epoch)  # 0.3 s pause, rate halved
        return await late, lim.paused_until

    turn, paused_until = asyncio.run(go())
    assert turn.epoch == 1 and turn.at >= paused_until


def test_ban_backoff_after_repeated_refusals_doubles_and_is_capped():
    clock = Clock()
    lim = limiter(clock)
    assert lim.on_connection_failure(lim.epoch) == 0
    assert lim.on_connection_failure(lim.epoch) == 0
    assert lim.on_connection_failure(lim.epoch) == pytest.approx(1.0)  # third in a row: back off
    clock.now = lim.paused_until
    assert lim.on_connection_failure(lim.epoch) == pytest.approx(2.0)  # still blocked: double
    clock.now = lim.paused_until
    assert lim.on_connection_failure(lim.epoch) == pytest.approx(4.0)
    clock.now = lim.paused_until
    assert lim.on_connection_failure(lim.epoch) == pytest.approx(4.0)  # capped
    lim.on_answer()
    clock.now = lim.paused_until
    assert lim.on_connection_failure(lim.epoch) == 0 and lim.ban_level == 0


def test_failures_of_requests_sent_before_a_backoff_do_not_extend_it():
    clock = Clock()
    lim = limiter(clock)
    old = lim.epoch
    for _ in range(3):
        lim.on_connection_failure(old)
    assert lim.ban_level == 1
    assert lim.on_connection_failure(old) == 0 and lim.ban_level == 1


def test_connection_failure_kinds():
    from twisted.internet.error import ConnectionLost
    assert connection_failure(DownloadConnectionRefusedError("x")) == "refused"
    assert connection_failure(ConnectionLost()) == "reset"
    assert connection_failure(DownloadTimeoutError("x")) is None


# -- the politeness middleware ----------------------------------------------------------------------------

def settings_small(**extra):
    return {"WAYBACK_CDX_RATE": 24, "WAYBACK_RATE_WINDOW": 0.6, "WAYBACK_PLAYBACK_RATE": 10, "WAYBACK_PLAYBACK_WINDOW": 0.1,
            "WAYBACK_429_PAUSE": 0.3, "WAYBACK_BAN_BACKOFF_START": 0.2, "WAYBACK_BAN_BACKOFF_MAX": 0.8,
            "WAYBACK_RETRY_BACKOFF": 0.01, **extra}


def test_politeness_counts_requests_per_pool_and_leaves_other_traffic_alone():
    crawler = make_crawler(**settings_small())
    mw = PolitenessMiddleware(crawler)
    requests = [Request(f"{BASE}/cdx/search/cdx?url=a"), Request(f"{BASE}/web/timemap/link/a"),
                Request(playback_url(BASE, "20231221091931", ARTICLE)), Request(ARTICLE)]

    async def go():
        for r in requests:
            assert await mw.process_request(r) is None

    asyncio.run(go())
    stats = crawler.stats
    assert stats.get_value("wayback/requests/cdx") == 2 and stats.get_value("wayback/requests/playback") == 1
    assert "wayback_epoch" not in requests[3].meta


def test_live_429_is_counted_and_pauses_but_an_archived_one_does_not():
    crawler = make_crawler(**settings_small())
    mw = PolitenessMiddleware(crawler)
    request = Request(playback_url(BASE, "20231221091931", ARTICLE), meta={"wayback_epoch": 0})
    archived = Response(request.url, status=429, headers=MEMENTO_HEADERS)
    assert mw.process_response(request, archived) is archived
    assert mw.limiter.paused_until == 0
    live = Response(request.url, status=429, headers={"Content-Type": "text/html"}, body=b"<h1>429 Too Many Requests</h1>")
    assert mw.process_response(request, live) is live
    stats = crawler.stats
    assert stats.get_value("wayback/live_429") == 1 and stats.get_value("wayback/live_429/playback") == 1
    assert stats.get_value("wayback/pauses") == 1 and stats.get_value("wayback/pause_seconds") == pytest.approx(0.3)
    assert stats.get_value("wayback/rate/playback") == 5
    mw.process_response(request, live)  # the same flight's second 429: counted, no new pause
    assert stats.get_value("wayback/live_429") == 2 and stats.get_value("wayback/pauses") == 1


def test_refusals_lead_to_a_counted_ban_backoff():
    crawler = make_crawler(**settings_small())
    mw = PolitenessMiddleware(crawler)
    request = Request(f"{BASE}/cdx/search/cdx?url=a")
    for _ in range(3):
        request.meta["wayback_epoch"] = mw.limiter.epoch
        assert mw.process_exception(request, DownloadConnectionRefusedError("refused")) is None
    stats = crawler.stats
    assert stats.get_value("wayback/connection/refused") == 3
    assert stats.get_value("wayback/ban_backoffs") == 1 and stats.get_value("wayback/ban_backoff_seconds") == pytest.approx(0.2)


# -- backoff retries ------------------------------------------------------------------------------------

class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def retry_mw(**overrides):
    crawler = make_crawler(**{"WAYBACK_RETRY_BACKOFF": 2.0, "WAYBACK_RETRY_TIMES": 6, **overrides})
    sleeps = Sleeps()
    return BackoffRetryMiddleware(crawler, sleep=sleeps), sleeps, crawler.stats


def test_backoff_delays():
    assert [backoff_delay(n, 2, 300) for n in range(1, 8)] == [2, 4, 8, 16, 32, 64, 128]
    assert backoff_delay(12, 2, 300) == 300


def test_live_5xx_is_retried_with_exponential_backoff_then_reaches_the_errback():
    mw, sleeps, stats = retry_mw()
    request = Request(playback_url(BASE, "20231221091931", ARTICLE), meta={"cdx_row": cdx_row()})
    for _ in range(6):
        response = Response(request.url, status=503)
        request = asyncio.run(mw.process_response(request, response))
        assert isinstance(request, Request) and request.meta["cdx_row"] == cdx_row()
    assert sleeps.calls == [2, 4, 8, 16, 32, 64]
    with pytest.raises(WaybackUnavailable, match="live 503 after 7 attempts"):
        asyncio.run(mw.process_response(request, Response(request.url, status=503)))
    assert stats.get_value("wayback/retry/count") == 6
    assert stats.get_value("wayback/retry/reason_count/live 503") == 6
    assert stats.get_value("wayback/retry/max_reached") == 1


@pytest.mark.parametrize("status", [404, 429, 500, 503, 301])
def test_archived_statuses_are_content_and_never_retried(status):
    mw, sleeps, stats = retry_mw()
    request = Request(playback_url(BASE, "20231221091931", ARTICLE))
    response = Response(request.url, status=status, headers=MEMENTO_HEADERS)
    assert asyncio.run(mw.process_response(request, response)) is response
    assert sleeps.calls == [] and stats.get_value("wayback/retry/count") is None


def test_live_429_is_retried_without_extra_backoff():
    mw, sleeps, stats = retry_mw()
    request = Request(f"{BASE}/cdx/search/cdx?url=a")
    retry = asyncio.run(mw.process_response(request, Response(request.url, status=429)))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1 and sleeps.calls == []
    assert stats.get_value("wayback/retry/reason_count/live 429") == 1


def test_timeouts_and_refusals_are_retried_and_exhaustion_names_the_cause():
    mw, sleeps, stats = retry_mw(WAYBACK_RETRY_TIMES=2)
    request = Request(playback_url(BASE, "20231221091931", ARTICLE))
    request = asyncio.run(mw.process_exception(request, DownloadTimeoutError("slow")))
    request = asyncio.run(mw.process_exception(request, DownloadConnectionRefusedError("no")))
    assert isinstance(request, Request) and sleeps.calls == [2, 4]
    with pytest.raises(WaybackUnavailable, match="connection refused after 3 attempts") as caught:
        asyncio.run(mw.process_exception(request, DownloadConnectionRefusedError("no")))
    assert isinstance(caught.value.__cause__, DownloadConnectionRefusedError)
    assert stats.get_value("wayback/retry/reason_count/timeout") == 1


def test_ignored_requests_and_dont_retry_are_left_alone():
    mw, sleeps, _ = retry_mw()
    request = Request(playback_url(BASE, "20231221091931", ARTICLE))
    assert asyncio.run(mw.process_exception(request, LedgerSkip("known", 1, "known"))) is None
    quiet = Request(request.url, meta={"dont_retry": True})
    response = Response(quiet.url, status=503)
    assert asyncio.run(mw.process_response(quiet, response)) is response


def test_other_traffic_keeps_scrapys_rules_without_429():
    mw, sleeps, stats = retry_mw()
    request = Request("http://127.0.0.1:9/elsewhere")
    r429 = Response(request.url, status=429)
    assert asyncio.run(mw.process_response(request, r429)) is r429  # 429 is not in RETRY_HTTP_CODES
    for _ in range(2):
        request = asyncio.run(mw.process_response(request, Response(request.url, status=503)))
        assert isinstance(request, Request)
    last = Response(request.url, status=503)
    assert asyncio.run(mw.process_response(request, last)) is last  # RETRY_TIMES=2 spent: Scrapy's way
    assert stats.get_value("retry/count") == 2


# -- redirects --------------------------------------------------------------------------------------------

def serve(mw, request, answers):
    """Run request through the redirect middleware, ``answers`` mapping URL -> (status, headers)."""
    for _ in range(50):
        mw.process_request(request)
        status, headers = answers[request.url]
        response = HtmlResponse(request.url, status=status, headers=headers, body=b"<html>page</html>", request=request)
        out = mw.process_response(request, response)
        if not isinstance(out, Request):
            return request, out
        request = out
    raise AssertionError("no end")


def test_the_seed_record_case_requested_vs_actual_capture(seed):
    requested = playback_url(BASE, "20231224001357", ARTICLE)
    actual = playback_url(BASE, "20231221091931", ARTICLE)
    answers = {
        requested: (302, {"Location": f"https://web.archive.org/web/20231221091931id_/{ARTICLE}",
                          "X-Archive-Redirect-Reason": "found capture at 20231221091931"}),
        actual: (200, MEMENTO_HEADERS),
    }
    crawler = make_crawler()
    row = cdx_row(ts="20231224001357")
    request, response = serve(WaybackRedirectMiddleware(crawler), Request(requested, meta={"cdx_row": row}), answers)
    info = request.meta["wayback"]
    assert info["input_url"] == seed["input_url"]
    assert info["returned_url"] == seed["returned_url"]
    assert info["requested_timestamp"] == "20231224001357" and info["timestamp"] == "20231221091931"
    assert request.url == actual and request.meta["cdx_row"] is row
    assert crawler.stats.get_value("wayback/redirects/nearest_capture") == 1
    assert crawler.stats.get_value("wayback/redirects/moved_capture") == 1


def test_wayback_requests_bypass_scrapys_redirects_and_status_filter():
    mw = WaybackRedirectMiddleware(make_crawler())
    wayback, cdx, other = Request(playback_url(BASE, "2023", ARTICLE)), Request(f"{BASE}/cdx/search/cdx?url=a"), Request(ARTICLE)
    for r in (wayback, cdx, other):
        mw.process_request(r)
    assert wayback.meta["dont_redirect"] and wayback.meta["handle_httpstatus_all"] and cdx.meta["handle_httpstatus_all"]
    assert "dont_redirect" not in other.meta and "wayback_trail" not in cdx.meta


def test_hop_limit():
    crawler = make_crawler(WAYBACK_MAX_HOPS=3)
    answers = {}
    for i in range(10):
        ts = f"2023122100000{i}"
        answers[playback_url(BASE, ts, ARTICLE)] = (302, {"Location": f"/web/2023122100000{i + 1}id_/{ARTICLE}"})
    with pytest.raises(TooManyHops) as caught:
        serve(WaybackRedirectMiddleware(crawler), Request(playback_url(BASE, "20231221000000", ARTICLE)), answers)
    assert len(caught.value.wayback["hops"]) == 4 and crawler.stats.get_value("wayback/redirects/hop_limit") == 1


def test_archived_redirect_out_of_the_archive_is_the_final_answer():
    url = playback_url(BASE, "20231221091931", ARTICLE)
    answers = {url: (301, {**MEMENTO_HEADERS, "Location": "https://www.mofcom.gov.cn/new-home"})}
    crawler = make_crawler()
    request, response = serve(WaybackRedirectMiddleware(crawler), Request(url), answers)
    assert response.status == 301 and request.meta["wayback"]["kind"] == "archived_redirect"
    assert crawler.stats.get_value("wayback/redirects/unfollowable") == 1


def test_a_hop_starts_its_own_retry_count_and_keeps_the_mode():
    url = playback_url(BASE, "20231224001357", ARTICLE)
    mw = WaybackRedirectMiddleware(make_crawler())
    request = Request(url, meta={"retry_times": 3})
    mw.process_request(request)
    # The archive's Location drops id_ on some old hops: the crawl keeps asking for raw bytes.
    response = Response(url, status=302, headers={"Location": f"https://web.archive.org/web/20231221091931/{ARTICLE}"})
    hop = mw.process_response(request, response)
    assert hop.url == playback_url(BASE, "20231221091931", ARTICLE) and "retry_times" not in hop.meta


# -- the ledger -------------------------------------------------------------------------------------------

def store(db, row, outcome="stored", timestamp=None, requested=None, original=None):
    with write_transaction(db):
        return upsert_capture(db, {"urlkey": row.urlkey, "timestamp": timestamp or row.timestamp,
                                   "requested_timestamp": requested or row.timestamp, "original_url": original or row.original,
                                   "canonical_url": canonical_url(original or row.original), "digest": row.digest,
                                   "outcome": outcome})


def ledger(db_path):
    crawler = make_crawler(CORPUS_DB=str(db_path))
    return LedgerMiddleware(crawler), crawler.stats


def test_known_capture_is_not_fetched_again(db, db_path):
    row = cdx_row()
    stored = store(db, row)
    mw, stats = ledger(db_path)
    request = Request(playback_url(BASE, row.timestamp, row.original), meta={"cdx_row": row})
    with pytest.raises(LedgerSkip) as caught:
        mw.process_request(request)
    assert isinstance(caught.value, IgnoreRequest)
    assert caught.value.outcome == "known" and caught.value.capture_id == stored
    assert request.meta["ledger_outcome"] == "stored" and request.meta["ledger_capture_id"] == stored
    assert stats.get_value("ledger/known") == 1
    mw.close()


def test_error_captures_are_tried_again(db, db_path):
    row = cdx_row()
    store(db, row, outcome="error")
    mw, stats = ledger(db_path)
    request = Request(playback_url(BASE, row.timestamp, row.original), meta={"cdx_row": row})
    assert mw.process_request(request) is None and request.meta["ledger_checked"]
    assert mw.process_request(request) is None  # a redirect hop or retry is not checked twice
    assert stats.get_value("ledger/checked") == 1
    mw.close()


def test_same_digest_for_the_same_article_is_a_duplicate_without_a_fetch(db, db_path):
    first = cdx_row(ts="20231221091931", original="https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml")
    stored = store(db, first)
    revisit = cdx_row(ts="20240105000000", mimetype="warc/revisit", status="-")  # http spelling, same payload
    mw, stats = ledger(db_path)
    request = Request(playback_url(BASE, revisit.timestamp, revisit.original), meta={"cdx_row": revisit})
    with pytest.raises(LedgerSkip) as caught:
        mw.process_request(request)
    assert caught.value.outcome == "duplicate" and request.meta["ledger_outcome"] == "duplicate"
    row = db["captures"].get(caught.value.capture_id)
    assert row["outcome"] == "duplicate" and row["reason"] == f"same payload digest as capture {stored}"
    assert row["timestamp"] == "20240105000000" and row["status"] is None
    assert row["wayback_url"] == f"https://web.archive.org/web/20240105000000/{ARTICLE}"
    assert stats.get_value("ledger/duplicate") == 1
    # Next crawl: the duplicate row itself makes the capture known.
    assert check_capture(db, revisit).outcome == "known"
    mw.close()


def test_a_capture_fetched_for_a_row_but_landing_elsewhere_is_known_by_its_requested_timestamp(db, db_path):
    row = cdx_row(ts="20231224001357")
    store(db, row, timestamp="20231221091931", requested="20231224001357")
    assert check_capture(db, row).outcome == "known"


def test_a_changed_page_is_fetched(db):
    store(db, cdx_row())
    assert check_capture(db, cdx_row(ts="20240301000000", digest="ANOTHERDIGESTAAAAAAAAAAAAAAAAAAA")).outcome == "new"


def test_requests_without_a_cdx_row_pass(db_path):
    mw, stats = ledger(db_path)
    assert mw.process_request(Request(playback_url(BASE, "2023", ARTICLE))) is None
    assert mw.process_request(Request(f"{BASE}/cdx/search/cdx?url=x", meta={"cdx_row": cdx_row()})) is None
    assert stats.get_value("ledger/checked") is None and not Path(db_path).exists()

