"""Extraction in worker processes (CORPUS_EXTRACT_WORKERS): the same results as in the crawl's own
process, and a worker that dies loses no page."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from crawler.extract import extract_page
from crawler.extraction import Extraction, worker_count

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = PAGES / "era-b" / "seed-20231203462051.html"
SEED_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
HEADERS = {"Content-Type": "text/html; charset=UTF-8"}


@pytest.mark.parametrize("setting, cpus, expected", [
    ("auto", 1, 0), ("auto", 2, 0), ("auto", 4, 2), ("auto", 64, 8), (None, 3, 1), ("", 6, 4),
    ("0", 16, 0), (3, 2, 3), ("AUTO", 10, 8),
])
def test_worker_count(setting, cpus, expected):
    assert worker_count(setting, cpus) == expected


def test_a_negative_worker_count_is_refused():
    with pytest.raises(ValueError, match="CORPUS_EXTRACT_WORKERS"):
        worker_count(-1, 4)


def test_workers_give_what_the_crawls_own_process_gives():
    pages = [(SEED.read_bytes(), SEED_URL), (b"\x00\x01binary", SEED_URL), (b"", SEED_URL),
             ("<html><body><p>短</p></body></html>".encode("gb18030"), SEED_URL)]

    async def run():
        extraction = Extraction(2)
        try:
            return await asyncio.gather(*(extraction.extract(body, url, HEADERS) for body, url in pages))
        finally:
            extraction.close()

    got = asyncio.run(run())
    assert [asdict(r) for r in got] == [asdict(extract_page(body, url, HEADERS)) for body, url in pages]
    assert got[0].title.startswith("商务部服贸司负责人解读")


def test_a_worker_that_dies_loses_no_page():
    failures = []

    async def run():
        extraction = Extraction(1, lambda: failures.append(1))
        try:
            first = await extraction.extract(SEED.read_bytes(), SEED_URL, HEADERS)
            for pid in list(extraction.pool._processes):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            second = await extraction.extract(SEED.read_bytes(), SEED_URL, HEADERS)
            third = await extraction.extract(SEED.read_bytes(), SEED_URL, HEADERS)
            return first, second, third, extraction.pool
        finally:
            extraction.close()

    first, second, third, pool = asyncio.run(run())
    assert asdict(first) == asdict(second) == asdict(third)
    assert failures == [1] and pool is None  # counted once; the rest extracted in this process
