"""Items -> corpus.db. Thin: items are collected into batches and written by ``crawler.writer``.

Items wait in memory until ``CORPUS_WRITE_BATCH`` of them are pending or ``CORPUS_WRITE_INTERVAL``
seconds have passed since the last write, then go in one write transaction, each inside its own
savepoint: one item that fails to store is rolled back alone, logged and counted
(``corpus/store_errors``), and the rest of the batch commits. The batch is also written when the
crawl goes idle and when it closes (Ctrl-C included). A crawl killed outright loses at most the
pending batch: those captures are not in the ledger yet, so the next crawl fetches them again.

With ``CORPUS_WRITE_PROCESS`` (the default) batches are written by a writer process, on another
core than Scrapy's engine; a batch's counts reach the crawl's stats once it has committed. If the
writer dies, the crawl writes the batch it held again (idempotent: one it had committed is found
unchanged), and every later batch, in its own process.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from .items import CaptureItem, DocumentItem
from .store import open_corpus
from .store.runs import close_abandoned_runs, finish_run, start_run
from .writer import WriterDied, WriterProcess, write_batch

REPORTED_STAT_PREFIXES = ("corpus/", "wayback/", "ledger/")
logger = logging.getLogger(__name__)


def run_counts(stats: dict[str, Any]) -> dict[str, Any]:
    """The figures of a crawl worth keeping in its run log: ours, and Scrapy's error counters."""
    counts = {k: v for k, v in stats.items() if k.startswith(REPORTED_STAT_PREFIXES)}
    for key, value in stats.items():
        if key.startswith(("downloader/exception_type_count/", "spider_exceptions/", "log_count/ERROR")):
            counts[key] = value
    return dict(sorted(counts.items()))


class CorpusPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = crawler.settings.get("CORPUS_DB")
        self.db = None
        self.run_id: int | None = None
        self.batch_size = max(1, crawler.settings.getint("CORPUS_WRITE_BATCH", 100))
        self.interval = crawler.settings.getfloat("CORPUS_WRITE_INTERVAL", 1.0)
        self.pending: list[DocumentItem | CaptureItem] = []
        self.last_write = time.monotonic()
        self.use_writer = crawler.settings.getbool("CORPUS_WRITE_PROCESS", True)
        self.writer: WriterProcess | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CorpusPipeline:
        pipeline = cls(crawler)
        # The run is closed on spider_closed, which (unlike close_spider) says why the spider closed.
        crawler.signals.connect(pipeline.finish, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.write_pending, signal=signals.spider_idle)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.db = open_corpus(self.db_path)
        interrupted = close_abandoned_runs(self.db)
        if interrupted:
            spider.logger.warning("%d earlier run(s) had been killed; marked interrupted", interrupted)
        arguments = dict(getattr(spider, "run_arguments", {}))
        arguments["wayback_url"] = self.crawler.settings.get("WAYBACK_BASE_URL")
        self.run_id = start_run(self.db, "crawl", arguments)
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        spider.run_id = self.run_id
        self.stats.set_value("corpus/run_id", self.run_id)
        if self.use_writer:
            self.writer = WriterProcess(self.db_path, self.run_id)

    def close_spider(self) -> None:
        # Before spider_closed, so that the run report and the run log count the last batch.
        self.write_pending()
        self._close_writer()

    def finish(self, spider: Spider, reason: str) -> None:
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, "failed")
        if self.stats.get_value("corpus/cdx/failed") and not self.stats.get_value("corpus/cdx/pages"):
            status = "failed"
        self.stats.set_value("corpus/elapsed_seconds", round(time.monotonic() - self.started, 3))
        # CPU time of the crawl's own process; its writer's and extraction workers' have their own keys.
        self.stats.set_value("corpus/cpu_seconds", round(time.process_time() - self.cpu_started, 3))
        counts = run_counts(self.stats.get_stats())
        finish_run(self.db, self.run_id, status, counts, None if status == "finished" else reason)
        self.stats.set_value("corpus/run_status", status)
        self.db.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentItem | CaptureItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size or time.monotonic() - self.last_write >= self.interval:
                self.write_pending()
        return item

    def write_pending(self) -> None:
        """Write the pending items: through the writer process when there is one, else here."""
        self.last_write = time.monotonic()
        if not self.pending or self.db is None:
            return
        batch, self.pending = self.pending, []
        if self.writer is not None:
            try:
                self._count(self.writer.submit(batch))
                return
            except WriterDied as e:
                self._writer_failed(e)
        self._count(write_batch(self.db, batch, self.run_id))

    def _close_writer(self) -> None:
        if self.writer is None:
            return
        try:
            self._count(self.writer.close())
            self.stats.set_value("corpus/cpu_seconds/writer", round(self.writer.cpu_seconds, 3))
        except WriterDied as e:
            self._writer_failed(e)
        self.writer = None

    def _writer_failed(self, error: WriterDied) -> None:
        logger.error("%s; writing its %d captures, and all from now on, in the crawl's own process",
                     error, len(error.unconfirmed))
        self.stats.inc_value("corpus/writer_failed")
        self.writer = None
        self._count(error.counts)
        if error.unconfirmed:
            self._count(write_batch(self.db, error.unconfirmed, self.run_id))

    def _count(self, counts: Counter) -> None:
        for key, value in counts.items():
            self.stats.inc_value(key, value)
