"""Live progress while a crawl runs, and the run report when it ends.

Both read the crawl's stats (the same figures the run log keeps), so what the screen shows is what
``crawl_runs.counts`` records. Progress goes to stderr and refreshes once a second; the report is a
table printed at the end (and logged, for `scrapy crawl` runs whose stderr is a log file).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def _sum(stats: Mapping[str, Any], prefix: str) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))


def progress_figures(stats: Mapping[str, Any], elapsed: float) -> dict[str, Any]:
    """found, fetched, stored, rejected, rate (captures/s) and ETA (s) from the crawl stats."""
    planned = stats.get("corpus/planned/articles", 0) + stats.get("corpus/planned/listings", 0)
    planned += stats.get("corpus/fallbacks", 0)
    fetched = stats.get("corpus/fetched", 0)
    done = fetched + stats.get("corpus/playback/failed", 0) + stats.get("ledger/known", 0)
    done += stats.get("ledger/duplicate", 0)
    rate = fetched / elapsed if elapsed > 0 else 0.0
    remaining = max(planned - done, 0)
    return {
        "found": stats.get("corpus/found/urls", 0),
        "captures": stats.get("corpus/found/captures", 0),
        "cdx pages": stats.get("corpus/cdx/pages", 0),
        "planned": planned,
        "fetched": fetched,
        "stored": stats.get("corpus/captures/stored", 0),
        "duplicates": stats.get("ledger/duplicate", 0),
        "known": stats.get("ledger/known", 0),
        "rejected": stats.get("corpus/captures/rejected", 0),
        "errors": stats.get("corpus/captures/error", 0),
        "rate": rate,
        "eta": remaining / rate if rate > 0 and remaining else None,
        "paused": stats.get("wayback/pause_seconds", 0),
    }


def progress_line(figures: Mapping[str, Any]) -> Text:
    eta = figures["eta"]
    eta_s = "—" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
    return Text.assemble(
        ("crawl ", "bold"),
        f"found {figures['found']:,} URLs ({figures['captures']:,} captures, {figures['cdx pages']} CDX pages) · ",
        f"fetched {figures['fetched']:,}/{figures['planned']:,} · ",
        ("stored ", "green"), f"{figures['stored']:,} · ",
        f"known {figures['known']:,} · dup {figures['duplicates']:,} · ",
        ("rejected ", "yellow"), f"{figures['rejected']:,} · ",
        ("errors ", "red"), f"{figures['errors']:,} · ",
        f"{figures['rate']:.1f}/s · ETA {eta_s}",
    )


def report_table(stats: Mapping[str, Any]) -> Table:
    """The run report: found, fetched, stored, duplicates, rejected by reason, errors, archive faults."""
    table = Table(title="crawl report", title_justify="left", show_header=False, show_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows: list[tuple[str, Any]] = [
        ("run", f"#{stats.get('corpus/run_id', '?')} {stats.get('corpus/run_status', stats.get('finish_reason', ''))}"),
        ("CDX pages", stats.get("corpus/cdx/pages", 0)),
        ("found URLs", stats.get("corpus/found/urls", 0)),
        ("found captures", stats.get("corpus/found/captures", 0)),
        ("fetched", stats.get("corpus/fetched", 0)),
        ("stored documents", stats.get("corpus/captures/stored", 0)),
    ]
    for change in ("inserted", "updated", "unchanged"):
        rows.append((f"  {change}", stats.get(f"corpus/documents/{change}", 0)))
    rows += [
        ("listing pages", stats.get("corpus/captures/listing", 0)),
        ("already known (ledger)", stats.get("ledger/known", 0)),
        ("duplicates (same digest)", stats.get("ledger/duplicate", 0)),
        ("skipped captures", stats.get("corpus/captures/skipped", 0)),
        ("rejected", stats.get("corpus/captures/rejected", 0)),
    ]
    rows += [(f"  {k.removeprefix('corpus/rejected/')}", v) for k, v in sorted(stats.items()) if k.startswith("corpus/rejected/")]
    rows.append(("errors", stats.get("corpus/captures/error", 0)))
    rows += [(f"  {k.removeprefix('corpus/error/')}", v) for k, v in sorted(stats.items()) if k.startswith("corpus/error/")]
    if stats.get("corpus/cdx/failed"):
        rows.append(("CDX queries failed", stats["corpus/cdx/failed"]))
    faults = [(k, v) for k, v in sorted(stats.items()) if k.startswith("wayback/") and v]
    if faults:
        rows.append(("archive traffic", ""))
        rows += [(f"  {k.removeprefix('wayback/')}", v) for k, v in faults]
    for label, value in rows:
        if isinstance(value, float):
            value = f"{value:,.1f}"
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    return table


class CrawlProgress:
    """Scrapy extension: a live status line on stderr (``CORPUS_PROGRESS``), and the report at the end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.console = Console(stderr=True, highlight=False)
        self.live: Live | None = None
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()
        self.last_line = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        if not crawler.settings.getbool("CORPUS_PROGRESS", True):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def figures(self) -> dict[str, Any]:
        return progress_figures(self.crawler.stats.get_stats(), time.monotonic() - self.started)

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        if self.console.is_terminal:
            self.live = Live(progress_line(self.figures()), console=self.console, refresh_per_second=2, transient=False)
            self.live.start()
        self.loop = task.LoopingCall(self.tick, spider)
        self.loop.start(self.crawler.settings.getfloat("CORPUS_PROGRESS_INTERVAL", 1.0), now=True)

    def tick(self, spider: Spider) -> None:
        line = progress_line(self.figures())
        if self.live is not None:
            self.live.update(line)
        elif line.plain != self.last_line:  # a log file or a pipe: one line per change
            self.console.print(line)
            self.last_line = line.plain

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.update(progress_line(self.figures()))
            self.live.stop()
        else:
            self.console.print(progress_line(self.figures()))
        self.console.print(report_table(self.crawler.stats.get_stats()))
