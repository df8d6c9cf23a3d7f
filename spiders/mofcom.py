"""The MOFCOM spider: discovery through the Wayback CDX index, and the hand-off of each capture to
the extractor.

How a crawl goes:

1. One CDX prefix query per place interpretations have lived (``crawler/sources.toml``), paged to
   the end with resume keys. Rows are grouped by canonical URL: several spellings, one article.
2. When discovery goes quiet (the ``spider_idle`` signal), each newly found URL is planned: for an
   article, its captures are ordered (newest first by default, ``capture=oldest`` for the other way)
   and the first is fetched; if it is rejected, the next one is tried. Captures not needed are
   recorded as ``skipped``, so the ledger knows them. Listing pages are fetched too, and any article
   they link that CDX did not list is looked up with an exact CDX query, then planned the same way.
3. Each playback response goes to :func:`crawler.extract.extract_page` (in this process or in a
   worker, ``crawler/extraction.py``); the result is yielded as a ``DocumentItem`` (or a rejected
   ``CaptureItem``) for the pipeline to store.

Politeness, retries, redirects and the ledger are downloader middlewares (``crawler/middlewares``),
configured in ``crawler/settings.py``; this module only decides what to ask and reads the answers.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract import Rejection, find_listing_links, is_listing_url
from crawler.extraction import DEFAULT_TIMEOUT, Extraction, worker_count
from crawler.items import CaptureItem, DocumentItem
from crawler.urls import canonical_url, section_of, site_of, urlkey
from crawler.wayback.cdx import CdxQuery, CdxRow, parse_cdx
from crawler.wayback.errors import WaybackFailure
from crawler.wayback.memento import archived_headers, classify
from crawler.wayback.urls import input_url, playback_url, public_url

PLAYBACK_OK = {200}


def load_prefixes(path: str | Path | None = None) -> list[dict[str, str]]:
    """The CDX prefixes to crawl: ``crawler/sources.toml`` by default, or a TOML file of your own."""
    if path:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    else:
        data = tomllib.loads(resources.files("crawler").joinpath("sources.toml").read_text(encoding="utf-8"))
    prefixes = data.get("prefix", [])
    if not prefixes or not all("url" in p for p in prefixes):
        raise ValueError(f"{path or 'sources.toml'}: needs [[prefix]] tables, each with a url")
    return prefixes


def _ts_seconds(ts: str) -> float:
    ts = (ts + "00000101000000"[len(ts):])[:14] if len(ts) < 14 else ts[:14]
    try:
        return datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:  # 2000-era captures with month or day 00
        return float(ts)


@dataclass
class UrlPlan:
    """Every capture CDX knows of one canonical URL, and what has been asked of them."""

    url: str
    rows: dict[tuple[str, str | None], CdxRow] = field(default_factory=dict)
    planned: set[tuple[str, str | None]] = field(default_factory=set)

    def add(self, row: CdxRow) -> bool:
        key = (row.timestamp, row.digest)
        if key in self.rows:
            return False
        self.rows[key] = row
        return True

    def unplanned(self) -> list[CdxRow]:
        return [r for k, r in self.rows.items() if k not in self.planned]


class MofcomSpider(scrapy.Spider):
    name = "mofcom"

    def __init__(
        self,
        from_: str | None = None,
        to: str | None = None,
        capture: str = "newest",
        as_of: str | None = None,
        sources: str | None = None,
        prefixes: str | None = None,
        **kwargs: Any,
    ) -> None:
        from_ = from_ or kwargs.pop("from", None)  # `scrapy crawl mofcom -a from=2020`
        super().__init__(**kwargs)
        if capture not in ("newest", "oldest"):
            raise ValueError("capture must be 'newest' or 'oldest'")
        self.from_ts = from_
        self.to_ts = to
        self.capture_order = capture
        # "The archive as it stood at as_of": each article is requested at that timestamp, and the
        # Wayback Machine answers with its nearest capture (the seed record was made this way).
        self.as_of = as_of
        if prefixes:
            self.prefixes = [{"url": p.strip()} for p in prefixes.split(",") if p.strip()]
        else:
            self.prefixes = load_prefixes(sources)
        self.plans: dict[str, UrlPlan] = {}
        self.run_arguments = {
            "from": self.from_ts,
            "to": self.to_ts,
            "capture": capture,
            "as_of": as_of,
            "prefixes": [p["url"] for p in self.prefixes],
        }

    @classmethod
    def from_crawler(cls, crawler: scrapy.crawler.Crawler, *args: Any, **kwargs: Any) -> MofcomSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        workers = worker_count(crawler.settings.get("CORPUS_EXTRACT_WORKERS"))
        spider.extraction = Extraction(workers, crawler.settings.getfloat("CORPUS_EXTRACT_TIMEOUT", DEFAULT_TIMEOUT))
        crawler.signals.connect(spider.extraction.close, signal=signals.spider_closed)
        return spider

    # -- settings read at use time, so `-s NAME=VALUE` works ----------------------------------------
    @property
    def base_url(self) -> str:
        return self.settings.get("WAYBACK_BASE_URL")

    def cdx_query(self, url: str, match_type: str = "prefix") -> CdxQuery:
        return CdxQuery(
            url=url,
            match_type=match_type,
            from_ts=self.from_ts,
            to_ts=self.to_ts,
            filters=list(self.settings.getlist("CDX_FILTERS")),
            collapse=list(self.settings.getlist("CDX_COLLAPSE")),
            limit=self.settings.getint("WAYBACK_CDX_LIMIT"),
        )

    # -- discovery ------------------------------------------------------------------------------------
    async def start(self) -> Any:
        self.extraction.report_to(self.crawler.stats)
        for prefix in self.prefixes:
            # The archive keys a column's listing pages without the slash (.../gkzcjd?2), so a prefix
            # that kept it would miss them: ask for the column's path without its trailing slash.
            yield self.cdx_request(self.cdx_query(prefix["url"].rstrip("/")))

    def cdx_request(self, query: CdxQuery, purpose: str = "prefix") -> scrapy.Request:
        self.crawler.stats.inc_value(f"corpus/cdx/queries/{purpose}")
        return scrapy.Request(
            query.url_for(self.base_url),
            callback=self.parse_cdx,
            errback=self.cdx_failed,
            meta={"cdx_query": query, "cdx_purpose": purpose},
            dont_filter=True,
        )

    def parse_cdx(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        if response.status != 200:
            stats.inc_value(f"corpus/cdx/failed/status_{response.status}")
            self.logger.error("CDX query %s answered %s", response.url, response.status)
            return
        page = parse_cdx(response.body, response.headers.get("Content-Type", b"").decode("latin-1"))
        stats.inc_value("corpus/cdx/pages")
        stats.inc_value("corpus/cdx/rows", len(page.rows))
        if page.skipped:
            stats.inc_value("corpus/cdx/rows_malformed", page.skipped)
        for row in page.rows:
            self.add_row(row)
        if page.resume_key:
            query: CdxQuery = response.meta["cdx_query"]
            yield self.cdx_request(query.next_page(page.resume_key), response.meta["cdx_purpose"])

    def add_row(self, row: CdxRow) -> None:
        url = canonical_url(row.original)
        plan = self.plans.get(url)
        if plan is None:
            plan = self.plans[url] = UrlPlan(url)
            self.crawler.stats.inc_value("corpus/found/urls")
        if plan.add(row):
            self.crawler.stats.inc_value("corpus/found/captures")

    def cdx_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("corpus/cdx/failed")
        self.logger.error("CDX query failed for good: %s (%s)", failure.request.url, failure.getErrorMessage())

    def on_idle(self) -> None:
        """Discovery went quiet: plan the captures found since the last time.

        Planning runs as the callback of a local ``data:`` request, so what it yields (requests and
        items) takes the ordinary path through the engine."""
        if any(plan.unplanned() for plan in self.plans.values()):
            self.crawler.engine.crawl(
                scrapy.Request("data:,", callback=self.plan_pending, dont_filter=True, priority=-10)
            )
            raise DontCloseSpider

    def plan_pending(self, response: Response) -> Iterator[scrapy.Request | CaptureItem]:
        for plan in list(self.plans.values()):
            yield from self.plan_url(plan)

    def plan_url(self, plan: UrlPlan) -> Iterator[scrapy.Request | CaptureItem]:
        rows = plan.unplanned()
        if not rows:
            return
        plan.planned.update((r.timestamp, r.digest) for r in rows)
        usable = [r for r in rows if r.is_revisit or r.status in PLAYBACK_OK]
        for row in rows:
            if row not in usable:
                yield self.capture_item(row, "skipped", reason=f"cdx status {row.statuscode}")
        if not usable:
            return
        if self.as_of:
            target = _ts_seconds(self.as_of)
            usable.sort(key=lambda r: abs(_ts_seconds(r.timestamp) - target))
        else:
            usable.sort(key=lambda r: r.timestamp, reverse=self.capture_order == "newest")
        if is_listing_url(plan.url):
            keep = self.settings.getint("LISTING_CAPTURES_PER_URL")
            for row in usable[:keep]:
                self.crawler.stats.inc_value("corpus/planned/listings")
                yield self.playback_request(row, [], listing=True)
            for row in usable[keep:]:
                yield self.capture_item(row, "skipped", reason="older listing capture")
            return
        self.crawler.stats.inc_value("corpus/planned/articles")
        seen = sorted(r.timestamp for r in plan.rows.values())
        yield self.playback_request(usable[0], usable[1:], seen=(seen[0], seen[-1]))

    def playback_request(
        self, row: CdxRow, fallbacks: list[CdxRow], *, listing: bool = False, seen: tuple[str, str] | None = None
    ) -> scrapy.Request:
        timestamp = self.as_of if self.as_of and not listing else row.timestamp
        return scrapy.Request(
            playback_url(self.base_url, timestamp, row.original),
            callback=self.parse_capture,
            errback=self.playback_failed,
            meta={"cdx_row": row, "fallbacks": fallbacks, "listing": listing, "seen": seen},
            dont_filter=True,
        )

    # -- captures ----------------------------------------------------------------------------------
    def capture_item(self, row: CdxRow, outcome: str, reason: str | None = None, **extra: Any) -> CaptureItem:
        """The ledger row for a CDX row; ``extra`` fields (what the fetch learned) override the CDX's."""
        fields: dict[str, Any] = {
            "urlkey": row.urlkey or urlkey(row.original),
            "timestamp": row.timestamp,
            "original_url": row.original,
            "canonical_url": canonical_url(row.original),
            "wayback_url": public_url(row.timestamp, row.original),
            "outcome": outcome,
            "reason": reason,
            "status": row.status,
            "mimetype": row.mimetype,
            "digest": row.digest or None,
            "length": row.length,
        }
        fields.update(extra)
        return CaptureItem(**fields)

    def next_or_skip(self, fallbacks: list[CdxRow], meta: dict, skip_reason: str | None) -> Iterator:
        """After a capture that did not give the document: try the next one, or (when ``skip_reason``
        says the document is settled) record the rest as skipped."""
        if skip_reason is not None:
            for row in fallbacks:
                yield self.capture_item(row, "skipped", reason=skip_reason)
        elif fallbacks:
            self.crawler.stats.inc_value("corpus/fallbacks")
            yield self.playback_request(fallbacks[0], fallbacks[1:], seen=meta.get("seen"))

    async def parse_capture(self, response: Response) -> AsyncIterator[Any]:
        """One playback response -> a document, a rejection, or listing links. A bug here must not lose
        the capture: it is recorded as an error with the exception, and the crawl goes on."""
        try:
            async for output in self._parse_capture(response):
                yield output
        except Exception as exc:
            self.logger.exception("could not process %s", response.url)
            self.crawler.stats.inc_value("corpus/spider_errors")
            yield self.capture_item(response.meta["cdx_row"], "error", reason=f"processing failed: {exc!r}"[:300])

    async def _parse_capture(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        row: CdxRow = meta["cdx_row"]
        wayback = meta.get("wayback") or {}
        actual_ts = wayback.get("timestamp") or row.timestamp
        requested_ts = wayback.get("requested_timestamp") or row.timestamp
        original = wayback.get("original") or row.original
        headers = archived_headers(response.headers)
        kind = str(wayback.get("kind") or classify(response.status, response.headers, response.body))
        self.crawler.stats.inc_value("corpus/fetched")
        capture = dict(
            requested_timestamp=requested_ts,
            status=response.status,
            response_headers=headers,
            body=response.body,
        )
        base = self.capture_item(row, "stored", **capture)
        base.timestamp = actual_ts
        base.original_url = original
        base.wayback_url = public_url(actual_ts, original)
        if actual_ts != row.timestamp:
            base.digest = None  # the digest CDX gave belongs to the capture asked for, not this one
        if kind != "memento" or response.status not in PLAYBACK_OK:
            base.outcome = "rejected"
            base.reason = f"archived {response.status}" if kind.startswith("archived") or kind == "memento" else kind
            yield base
            for output in self.next_or_skip(meta["fallbacks"], meta, None):
                yield output
            return
        if meta.get("listing"):
            links = find_listing_links(response.body, original, headers)
            base.outcome, base.reason = "listing", f"{len(links)} links"
            yield base
            self.crawler.stats.inc_value("corpus/listing/links", len(links))
            for link in links:
                if canonical_url(link) not in self.plans:
                    self.crawler.stats.inc_value("corpus/listing/new_links")
                    self.plans[canonical_url(link)] = UrlPlan(canonical_url(link))
                    yield self.cdx_request(self.cdx_query(link, match_type="exact"), "listing-link")
            return
        result = await self.extraction.extract(response.body, original, headers)
        if isinstance(result, Rejection):
            # A rejection that is not final (extraction stopped) is an error: the next crawl tries again.
            base.outcome, base.reason = "rejected" if result.final else "error", result.reason
            yield base
            for output in self.next_or_skip(meta["fallbacks"], meta, None):
                yield output
            return
        seen = meta.get("seen") or (actual_ts, actual_ts)
        url = canonical_url(original)
        document = {
            **result.to_document(),
            "url": url,
            "site": site_of(url),
            "section": section_of(url),
            "original_url": original,
            "capture_timestamp": actual_ts,
            "requested_timestamp": requested_ts,
            "input_url": input_url(requested_ts, original),
            "returned_url": public_url(actual_ts, original),
            "first_seen": min(seen[0], actual_ts),
            "last_seen": max(seen[1], actual_ts),
        }
        if result.language == "en":
            # An English original is its own English text: English search and exports find it there.
            document.update(
                translated_title=result.title, translated_title_engine="original",
                translated_content=result.resulting_text, translated_content_engine="original",
            )
        yield DocumentItem(capture=base, document=document)
        for output in self.next_or_skip(meta["fallbacks"], meta, f"document taken from {actual_ts}"):
            yield output

    def playback_failed(self, failure: Failure) -> Iterable[Any]:
        request = failure.request
        row: CdxRow = request.meta["cdx_row"]
        fallbacks = request.meta.get("fallbacks", [])
        if failure.check(IgnoreRequest):
            # The ledger knows this capture. If it gave the document (or is a duplicate of one that
            # did), the document is settled; otherwise the next capture may still give it.
            outcome = request.meta.get("ledger_outcome")
            settled = outcome in ("stored", "duplicate", "imported", "listing")
            yield from self.next_or_skip(fallbacks, request.meta, "document settled earlier" if settled else None)
            return
        self.crawler.stats.inc_value("corpus/playback/failed")
        if failure.check(WaybackFailure):
            # A redirect loop is a property of the archive (final: rejected); a live failure that
            # outlasted the retries is worth another try on the next crawl (error).
            error = failure.value
            outcome = "rejected" if error.final else "error"
            self.logger.warning("capture %s %s: %s", row.timestamp, row.original, error.reason)
            yield self.capture_item(row, outcome, reason=error.reason[:200])
            if error.final:
                yield from self.next_or_skip(fallbacks, request.meta, None)
            return
        reason = failure.getErrorMessage()[:200] or failure.type.__name__
        self.logger.warning("capture %s %s failed for good: %s", row.timestamp, row.original, reason)
        yield self.capture_item(row, "error", reason=f"{failure.type.__name__}: {reason}")
