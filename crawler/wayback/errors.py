"""Why a Wayback request ended without archived content: what the spider's errback receives.

Each carries ``reason`` (a short phrase for the capture's ``reason`` column) and ``final``: True
when trying again on a later crawl cannot help (a redirect loop is a property of the archive),
False when it may (the archive was down or refusing us).
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest


class WaybackFailure(Exception):
    """A Wayback request that produced no archived content."""

    final = False

    def __init__(self, reason: str, wayback: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wayback = wayback or {}


class WaybackUnavailable(WaybackFailure):
    """Live failures (5xx, 429, timeouts, refused connections) outlasted every retry."""


class RedirectLoop(WaybackFailure):
    """The archive's redirects came back to a capture already visited."""

    final = True


class TooManyHops(WaybackFailure):
    """More redirects than ``WAYBACK_MAX_HOPS``."""

    final = True


class LedgerSkip(IgnoreRequest):
    """The capture is already in the corpus (``outcome`` "known") or its payload is (``outcome``
    "duplicate", already recorded by the ledger): not fetched. An ``IgnoreRequest``, so Scrapy
    stays quiet; an errback sees it and must not record an error for it."""

    def __init__(self, outcome: str, capture_id: int | None, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.capture_id = capture_id
