"""The capture ledger: never fetch a capture the corpus already accounts for.

The ``captures`` table is the ledger, keyed on (urlkey, timestamp, digest). Before a playback
request for a CDX row goes out:

- the capture is already there with a final outcome (anything but ``error``): skip it
  (stat ``ledger/known``);
- its digest is the digest of a capture already stored for the same canonical URL (the page did
  not change, or this is a ``warc/revisit`` of it): write a ``duplicate`` row for it, pointing at
  the stored one, and skip it (stat ``ledger/duplicate``);
- otherwise fetch it. A capture whose last attempt ended as ``error`` is always tried again.

So a second crawl over an unchanged archive sends CDX requests only. Skips raise
:class:`~crawler.wayback.errors.LedgerSkip` (an ``IgnoreRequest``): quiet in the log, visible to an
errback, counted in the stats.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from scrapy import signals

from crawler.store import open_corpus, upsert_capture, write_transaction
from crawler.urls import canonical_url
from crawler.wayback.cdx import CdxRow
from crawler.wayback.errors import LedgerSkip
from crawler.wayback.urls import PLAYBACK, endpoint_of, public_url

logger = logging.getLogger(__name__)

FINAL_OUTCOMES_SQL = "outcome IS NOT NULL AND outcome != 'error'"
CONTENT_OUTCOMES = ("stored", "imported")


@dataclass(frozen=True)
class LedgerDecision:
    outcome: str  # "new", "known" or "duplicate"
    capture_id: int | None = None  # the capture that makes it known / the duplicate row written
    capture_outcome: str | None = None  # that capture's own outcome (stored, rejected, duplicate...)


def known_capture(db: sqlite_utils.Database, row: CdxRow) -> tuple[int, str] | None:
    """(id, outcome) of a capture with a final outcome for this CDX row: same (urlkey, timestamp,
    digest), or one that was fetched *for* this row (its requested timestamp) and landed elsewhere."""
    found = db.execute(
        f"SELECT id, outcome FROM captures WHERE urlkey = ? AND {FINAL_OUTCOMES_SQL} "
        "AND ((timestamp = ? AND digest IS ?) OR requested_timestamp = ?) ORDER BY id LIMIT 1",
        [row.urlkey, row.timestamp, row.digest or None, row.timestamp],
    ).fetchone()
    return (found[0], found[1]) if found else None


def stored_with_digest(db: sqlite_utils.Database, canonical: str, digest: str) -> int | None:
    """The id of a stored capture of ``canonical`` whose payload digest is ``digest``."""
    if not digest:
        return None
    placeholders = ", ".join("?" for _ in CONTENT_OUTCOMES)
    found = db.execute(
        f"SELECT id FROM captures WHERE canonical_url = ? AND digest = ? AND outcome IN ({placeholders}) "
        "ORDER BY id LIMIT 1",
        [canonical, digest, *CONTENT_OUTCOMES],
    ).fetchone()
    return found[0] if found else None


def record_duplicate(db: sqlite_utils.Database, row: CdxRow, of_capture: int, run_id: int | None = None) -> int:
    """Write the ``duplicate`` capture row for ``row`` (no fetch needed); returns its id."""
    with write_transaction(db):
        return upsert_capture(db, {
            "urlkey": row.urlkey,
            "timestamp": row.timestamp,
            "requested_timestamp": row.timestamp,
            "original_url": row.original,
            "canonical_url": canonical_url(row.original),
            "wayback_url": public_url(row.timestamp, row.original),
            "status": row.status,
            "mimetype": row.mimetype,
            "digest": row.digest or None,
            "length": row.length,
            "outcome": "duplicate",
            "reason": f"same payload digest as capture {of_capture}",
            "run_id": run_id,
        })


def check_capture(db: sqlite_utils.Database, row: CdxRow, run_id: int | None = None) -> LedgerDecision:
    """What the ledger says about ``row``; a duplicate is recorded on the way."""
    known = known_capture(db, row)
    if known is not None:
        return LedgerDecision("known", *known)
    same = stored_with_digest(db, canonical_url(row.original), row.digest)
    if same is not None:
        return LedgerDecision("duplicate", record_duplicate(db, row, same, run_id), "duplicate")
    return LedgerDecision("new")


class LedgerMiddleware:
    """Downloader middleware over :func:`check_capture` for playback requests carrying
    ``meta["cdx_row"]``. Opens the corpus named by ``CORPUS_DB``; the crawl's run id, for the
    duplicate rows it writes, is the spider's ``run_id`` attribute when it has one.

    A skipped request gets ``meta["ledger_outcome"]`` (the outcome recorded for the capture that
    settles it: ``stored``, ``rejected``, ``duplicate``...) and ``meta["ledger_capture_id"]``."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = crawler.settings.get("CORPUS_DB")
        self.db: sqlite_utils.Database | None = None
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> LedgerMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        row = request.meta.get("cdx_row")
        if row is None or request.meta.get("ledger_checked") or endpoint_of(request.url) != PLAYBACK:
            return None
        request.meta["ledger_checked"] = True
        if self.db is None:
            self.db = open_corpus(self.db_path)
        self.stats.inc_value("ledger/checked")
        run_id = getattr(self.crawler.spider, "run_id", None)
        decision = check_capture(self.db, row, run_id)
        if decision.outcome == "new":
            return None
        self.stats.inc_value(f"ledger/{decision.outcome}")
        request.meta["ledger_outcome"] = decision.capture_outcome
        request.meta["ledger_capture_id"] = decision.capture_id
        raise LedgerSkip(
            decision.outcome,
            decision.capture_id,
            f"capture {row.timestamp} {row.original} is {decision.outcome} (capture {decision.capture_id})",
        )

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
