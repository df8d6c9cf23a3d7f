"""Running a crawl from Python: the settings a run gets, and the run itself.

``corpus crawl`` is a thin shell over :func:`run_crawl`. Scrapy's reactor runs once per process, so
a program that crawls twice runs each crawl in its own process (as the tests do, through the CLI).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from .store import open_corpus


@dataclass
class CrawlOutcome:
    run_id: int | None
    status: str
    counts: dict[str, Any] = field(default_factory=dict)


def crawl_settings(
    db_path: str | Path,
    wayback_url: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    settings = get_project_settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("CORPUS_DB", str(db_path), priority="cmdline")
    if wayback_url:
        settings.set("WAYBACK_BASE_URL", wayback_url.rstrip("/"), priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(
    db_path: str | Path,
    *,
    wayback_url: str | None = None,
    from_ts: str | None = None,
    to_ts: str | None = None,
    capture: str = "newest",
    as_of: str | None = None,
    sources: str | Path | None = None,
    prefixes: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> CrawlOutcome:
    """Crawl into the corpus at ``db_path``; returns the run's id, final status and counts."""
    open_corpus(db_path).close()  # refuse a foreign file before Scrapy starts, create a new one
    settings = crawl_settings(db_path, wayback_url, overrides)
    process = CrawlerProcess(settings)
    spider_args: dict[str, Any] = {"from_": from_ts, "to": to_ts, "capture": capture, "as_of": as_of}
    if sources:
        spider_args["sources"] = str(sources)
    if prefixes:
        spider_args["prefixes"] = ",".join(prefixes)
    crawler = process.create_crawler("mofcom")
    process.crawl(crawler, **spider_args)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    run_id = stats.get("corpus/run_id")
    db = open_corpus(db_path)
    try:
        row = db.execute("SELECT status, counts FROM crawl_runs WHERE id = ?", [run_id]).fetchone() if run_id else None
    finally:
        db.close()
    if row is None:
        return CrawlOutcome(run_id, "failed", {"error": "the crawl did not start"})
    return CrawlOutcome(run_id, row[0], json.loads(row[1] or "{}"))
