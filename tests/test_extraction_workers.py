"""Extraction in worker processes (CORPUS_EXTRACT_WORKERS): the same results as in the crawl's own
process, and a worker that dies loses no page."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
import weakref
from dataclasses import asdict
from pathlib import Path

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.extract import ExtractedPage, Rejection, extract_page
from crawler.extraction import Extraction, extract_in_time, worker_count

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = PAGES / "era-b" / "seed-20231203462051.html"
SEED_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
HEADERS = {"Content-Type": "text/html; charset=UTF-8"}


@pytest.mark.parametrize("setting, cpus, expected", [
    ("auto", 1, 0), ("auto", 2, 1), ("auto", 4, 3), ("auto", 64, 8), (None, 3, 2), ("", 6, 5),
    ("0", 16, 0), (3, 2, 3), ("AUTO", 10, 8),
])
def test_worker_count(setting, cpus, expected):
    assert worker_count(setting, cpus) == expected


def test_a_negative_worker_count_is_refused():
    with pytest.raises(ValueError, match="CORPUS_EXTRACT_WORKERS"):
        worker_count(-1, 4)


def varied_pages(n):
    """``n`` different pages: seed variants, and pages that end as each kind of rejection."""
    seed = SEED.read_bytes()
    pages = [(seed.replace("近日".encode(), f"第{i}次".encode()), SEED_URL) for i in range(n)]
    pages[1::7] = [(b"\x00\x01binary", SEED_URL)] * len(pages[1::7])
    pages[2::7] = [(b"", SEED_URL)] * len(pages[2::7])
    pages[3::7] = [("<html><body><p>短</p></body></html>".encode("gb18030"), SEED_URL)] * len(pages[3::7])
    return pages


def crawl_stats():
    return MemoryStatsCollector(get_crawler())


def pool_failed(stats) -> int:
    return stats.get_value("corpus/extract/pool_failed", 0)


async def extract_all(extraction, pages):
    return await asyncio.gather(*(extraction.extract(body, url, HEADERS) for body, url in pages))


def in_workers(workers, pages, during=None, **options):
    """Extract ``pages`` all at once with ``workers`` workers (``during(extraction)`` runs after the
    first page); returns the results, the workers still alive at the end, and the stats they kept."""
    stats = crawl_stats()

    async def run():
        extraction = Extraction(workers, **options)
        extraction.report_to(stats)
        try:
            first = await extraction.extract(*pages[0], HEADERS)
            if during is not None:
                during(extraction)
            return [first, *await extract_all(extraction, pages[1:])], extraction.alive
        finally:
            extraction.close()

    results, alive = asyncio.run(run())
    return results, alive, stats


def as_dicts(results):
    return [asdict(r) for r in results]


def test_workers_give_what_the_crawls_own_process_gives():
    pages = varied_pages(60)  # more pages than one batch, waiting on two workers at once
    results, alive, stats = in_workers(2, pages)
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    assert results[0].title.startswith("商务部服贸司负责人解读")
    assert "第56次" in results[56].resulting_text  # each page's own result, in its place
    assert pool_failed(stats) == 0 and alive == 2
    # their figures, kept in the crawl's stats as they go
    assert stats.get_value("corpus/extract/workers") == 2 and stats.get_value("corpus/extract/batches") >= 2
    assert stats.get_value("corpus/cpu_seconds/extraction") > 0


def kill_workers(count):
    def kill(extraction):
        for worker in extraction._pool[:count]:
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(5)
    return kill


def test_a_worker_that_dies_loses_no_page():
    pages = varied_pages(20)
    expected = [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    stats = crawl_stats()

    async def run():
        extraction = Extraction(1)
        extraction.report_to(stats)
        try:
            first = await extraction.extract(*pages[0], HEADERS)
            kill_workers(1)(extraction)
            rest = await extract_all(extraction, pages[1:])
            after = await extraction.extract(*pages[0], HEADERS)
            return [first, *rest], after, extraction.alive
        finally:
            extraction.close()

    results, after, alive = asyncio.run(run())
    assert as_dicts(results) == expected and asdict(after) == expected[0]
    assert pool_failed(stats) == 1 and alive == 0  # counted once; the rest extracted in this process


def test_when_one_worker_of_two_dies_the_other_carries_on():
    pages = varied_pages(30)
    results, alive, stats = in_workers(2, pages, during=kill_workers(1))
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    assert pool_failed(stats) == 1 and alive == 1


def test_a_worker_that_dies_while_it_holds_a_batch_loses_none_of_it(monkeypatch):
    import crawler.extraction as E

    pages = varied_pages(12)
    sent = []
    real_flush = E.Extraction._flush

    def flush_then_kill(self):
        real_flush(self)
        held = [w for w in self._pool if w.held]
        if held and not sent:  # the first batch is on its way: its worker dies before it answers
            sent.append(len(held[0].held))
            os.kill(held[0].process.pid, signal.SIGKILL)

    monkeypatch.setattr(E.Extraction, "_flush", flush_then_kill)
    stats = crawl_stats()

    async def run():
        extraction = Extraction(1)
        extraction.report_to(stats)
        try:
            return await extract_all(extraction, pages)
        finally:
            extraction.close()

    results = asyncio.run(run())
    assert sent == [12]  # all twelve waited together and went as one batch
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    assert pool_failed(stats) == 1


def test_workers_ignore_ctrl_c_and_end_when_closed():
    pages = varied_pages(3)
    processes = []

    def interrupt(extraction):
        for worker in extraction._pool:
            processes.append(worker.process)
            os.kill(worker.process.pid, signal.SIGINT)
        time.sleep(0.3)

    results, alive, stats = in_workers(1, pages, during=interrupt)
    assert pool_failed(stats) == 0 and alive == 1  # the worker took Ctrl-C in its stride
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    assert processes and not any(p.is_alive() for p in processes)


def slow_page():
    """The seed page with a million more paragraphs (13 MB): it takes seconds to extract."""
    return SEED.read_bytes().replace(b"</p>", ("</p>" + "<p>开放</p>" * 1_000_000).encode(), 1), SEED_URL


def time_limit(seconds):
    """Set the workers' time limit once the first page is read: a cold start (the fork server importing
    the extractor, in a fresh clone compiling it too) is not what the test is about."""
    def set_limit(extraction):
        extraction.timeout = seconds
    return set_limit


def test_a_page_that_takes_too_long_is_rejected_and_the_pages_beside_it_are_not():
    pages = varied_pages(40)
    pages[5] = slow_page()  # in the first batch of the 39 pages that wait while the first is read
    results, alive, stats = in_workers(1, pages, during=time_limit(1.0))
    assert results[5] == Rejection("timed-out", "extraction took more than 1 s and was stopped")
    expected = [asdict(extract_page(body, url, HEADERS)) for body, url in pages[:5] + pages[6:]]
    assert as_dicts(results[:5] + results[6:]) == expected
    assert stats.get_value("corpus/extract/timeouts") == 1 and alive == 1 and pool_failed(stats) == 0
    # the first page, the batch that took too long, and then each of its pages alone
    assert stats.get_value("corpus/extract/batches") >= 1 + 1 + 32


def test_workers_stopped_for_taking_too_long_are_replaced():
    normal, slow, after = varied_pages(1)[0], slow_page(), varied_pages(4)
    stats = crawl_stats()

    async def run():
        extraction = Extraction(2)
        extraction.report_to(stats)
        try:
            await extraction.extract(*normal, HEADERS)
            extraction.timeout = 1.0  # after a cold start (see time_limit)
            # one slow page to each worker: both stopped, both replaced
            slow_results = await asyncio.gather(*(extraction.extract(*slow, HEADERS) for _ in range(2)))
            extraction.timeout = 60.0  # the replacements' own start is not what is timed here
            return slow_results, extraction.alive, await extract_all(extraction, after)
        finally:
            extraction.close()

    slow_results, alive, results = asyncio.run(run())
    assert [r.reason for r in slow_results] == ["timed-out", "timed-out"] and alive == 2
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in after]
    assert stats.get_value("corpus/extract/timeouts") == 2 and pool_failed(stats) == 0


def test_when_no_worker_can_replace_one_stopped_the_crawls_process_extracts():
    normal = varied_pages(1)[0]
    stats = crawl_stats()

    def refuse():
        raise OSError("Resource temporarily unavailable")

    async def run():
        extraction = Extraction(1)
        extraction.report_to(stats)
        try:
            first = await extraction.extract(*normal, HEADERS)
            extraction.timeout = 1.0  # after a cold start (see time_limit)
            extraction._start_worker = refuse
            slow = await extraction.extract(*slow_page(), HEADERS)
            alive = extraction.alive
            after = await extraction.extract(*normal, HEADERS)  # with no worker left: read here
            return first, slow, alive, after
        finally:
            extraction.close()

    first, slow, alive, after = asyncio.run(run())
    assert slow.reason == "timed-out" and not slow.final and alive == 0
    assert asdict(after) == asdict(first) == asdict(extract_page(*normal, HEADERS))
    assert stats.get_value("corpus/extract/timeouts") == 1


def test_no_workers_extracts_in_this_process():
    pages = varied_pages(3)
    results, alive, stats = in_workers(0, pages)
    assert alive == 0 and pool_failed(stats) == 0
    assert as_dicts(results) == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]


def test_with_no_workers_a_page_that_takes_too_long_is_rejected_and_the_others_are_not():
    pages = [*varied_pages(2), slow_page(), *varied_pages(3)]
    results, alive, stats = in_workers(0, pages, during=time_limit(1.0))
    assert results[2] == Rejection("timed-out", "extraction took more than 1 s and was stopped")
    others = pages[:2] + pages[3:]
    assert as_dicts(results[:2] + results[3:]) == [asdict(extract_page(body, url, HEADERS)) for body, url in others]
    assert stats.get_value("corpus/extract/timeouts") == 1 and alive == 0


def test_an_alarm_swallowed_in_a_callback_goes_off_again_and_is_not_reported(monkeypatch):
    # The garbage collector's finalisers and weakref callbacks run anywhere: an alarm raised inside
    # one is swallowed there ("exception ignored"). Here the first alarm lands in such a callback.
    class Thing:
        pass

    def page_with_a_callback(body, url, headers):
        thing = Thing()
        ref = weakref.ref(thing, lambda _: time.sleep(0.5))  # the limit (0.2 s) passes in here
        del thing
        assert ref() is None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # a page that would take 10 s more
            pass
        return extract_page(body, url, headers)

    reported = []
    monkeypatch.setattr("crawler.extraction.extract_page", page_with_a_callback)
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    started = time.monotonic()
    result = extract_in_time(*varied_pages(1)[0], HEADERS, 0.2)
    assert result.reason == "timed-out" and time.monotonic() - started < 3
    assert reported == [] and sys.unraisablehook == reported.append


class OtherAlarm(BaseException):
    pass


def other_alarm(signum, frame):
    raise OtherAlarm


def test_an_alarm_set_by_someone_else_is_kept(monkeypatch):
    hook = sys.unraisablehook
    previous = signal.signal(signal.SIGALRM, other_alarm)
    try:
        # due later than the page's limit: ours runs, and theirs is set again with the time it had left
        signal.setitimer(signal.ITIMER_REAL, 100)
        assert isinstance(extract_in_time(*varied_pages(1)[0], HEADERS, 5), ExtractedPage)
        assert extract_in_time(*slow_page(), HEADERS, 1).reason == "timed-out"
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 80 < remaining <= 99 and signal.getsignal(signal.SIGALRM) is other_alarm
        assert gc.isenabled() and sys.unraisablehook is hook  # what it held back for the page, restored
        # due first: it goes off as its owner asked, not as a timed-out page
        monkeypatch.setattr("crawler.extraction.extract_page", busy_page)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(OtherAlarm):
            extract_in_time(*varied_pages(1)[0], HEADERS, 30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def busy_page(body, url, headers):
    """A page that takes 10 s to read, all of it in the interpreter."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pass
    return extract_page(body, url, headers)


def test_however_short_the_limit_every_page_ends_typed_and_nothing_is_left_set():
    # A limit so short that the alarm goes off anywhere: before, inside or after the page.
    hook, outer = sys.unraisablehook, signal.getitimer(signal.ITIMER_REAL)[0] > 0  # (pytest-timeout's)
    page = varied_pages(1)[0]
    for i in range(300):
        result = extract_in_time(*page, HEADERS, 1e-6 * (1 + i % 50))
        assert isinstance(result, ExtractedPage) or result.reason == "timed-out"
        assert (signal.getitimer(signal.ITIMER_REAL)[0] > 0) == outer  # an outer alarm is set again
        assert signal.getsignal(signal.SIGALRM) is not None and gc.isenabled() and sys.unraisablehook is hook


def test_the_crawl_records_a_page_that_timed_out_as_an_error_and_tries_the_next_capture():
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.extract.page import timed_out
    from crawler.wayback.cdx import CdxRow
    from spiders.mofcom import MofcomSpider

    class TimesOut:
        async def extract(self, body, url, headers):
            return timed_out(60)

    crawler = get_crawler(MofcomSpider, {"CORPUS_EXTRACT_WORKERS": 0, "WAYBACK_BASE_URL": "http://127.0.0.1:9"})
    crawler.stats = crawl_stats()
    spider = MofcomSpider.from_crawler(crawler)
    spider.extraction = TimesOut()
    row, older = (CdxRow("cn,gov,mofcom)/article/x", ts, SEED_URL, "text/html", "200", f"D{ts}", 1000)
                  for ts in ("20231221091931", "20231201000000"))
    meta = {"cdx_row": row, "fallbacks": [older], "listing": False, "seen": None,
            "wayback": {"kind": "memento", "timestamp": row.timestamp, "original": SEED_URL}}
    request = Request(f"http://127.0.0.1:9/web/{row.timestamp}id_/{SEED_URL}", meta=meta)
    response = HtmlResponse(request.url, status=200, headers=HEADERS, body=SEED.read_bytes(), request=request)

    async def outputs():
        return [output async for output in spider.parse_capture(response)]

    capture, retry = asyncio.run(outputs())
    assert (capture.outcome, capture.reason, capture.timestamp) == ("error", "timed-out", row.timestamp)
    assert capture.body == SEED.read_bytes()  # kept, as every fetched capture's
    assert isinstance(retry, Request) and retry.meta["cdx_row"] == older
