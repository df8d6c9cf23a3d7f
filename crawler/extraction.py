"""Where a crawl extracts its pages: in its own process, or in a pool of worker processes.

Extraction is pure CPU (lxml and regular expressions), and the crawl's own process is already busy
running Scrapy's engine. With ``CORPUS_EXTRACT_WORKERS`` = N > 0 the pages go to N worker processes,
so a machine with spare cores extracts while the engine fetches and stores. ``auto`` takes one
worker per core beyond the two that the engine and the store keep busy, at most ``MAX_AUTO_WORKERS``.
The default is 0 (extract in the crawl's own process): against the real archive, at 3 captures a
second, extraction (about a millisecond a page) is never the bottleneck, and on a 2-core machine a
worker only competes with the engine (measured in BENCHMARKS.md). Workers pay off when replaying
large local archives on a machine with cores to spare.

A worker that dies (killed, out of memory) does not lose a page: the pool is dropped, the page and
every later one are extracted in the crawl's process, and ``corpus/extract/pool_failed`` says so.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .extract import ExtractedPage, Rejection, extract_page

log = logging.getLogger(__name__)

MAX_AUTO_WORKERS = 8


def worker_count(setting: Any, cpus: int | None = None) -> int:
    """The number of worker processes ``CORPUS_EXTRACT_WORKERS`` asks for: an integer, or ``auto``."""
    if setting is None or str(setting).strip().lower() in ("", "auto"):
        cpus = cpus if cpus is not None else (os.cpu_count() or 1)
        return max(0, min(MAX_AUTO_WORKERS, cpus - 2))
    workers = int(setting)
    if workers < 0:
        raise ValueError(f"CORPUS_EXTRACT_WORKERS must be 0 or more, or 'auto', not {setting!r}")
    return workers


def _preload() -> None:
    """Runs once in each worker: import the extractor before the first page arrives."""
    import crawler.extract  # noqa: F401


class Extraction:
    """``await extraction.extract(body, url, headers)``: :func:`extract_page`, here or in a worker."""

    def __init__(self, workers: int = 0, on_pool_failed: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.on_pool_failed = on_pool_failed
        self.pool: ProcessPoolExecutor | None = None
        if workers:
            # forkserver, not fork: the crawl's process runs threads (Scrapy's DNS resolver, the
            # reactor's), and forking a threaded process can copy a held lock into the child.
            context = multiprocessing.get_context("forkserver")
            self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_preload)

    async def extract(self, body: bytes, url: str, headers: Mapping[str, str] | None) -> ExtractedPage | Rejection:
        if self.pool is None:
            return extract_page(body, url, headers)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.pool, extract_page, body, url, headers)
        except BrokenProcessPool:
            if self.pool is not None:
                log.error("an extraction worker died; extracting in the crawl's process from now on")
                if self.on_pool_failed is not None:
                    self.on_pool_failed()
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            return extract_page(body, url, headers)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
