"""Politeness toward the Wayback Machine: per-endpoint rate limits, the live-429 pause, ban backoff.

One :class:`Limiter` per crawl holds every concurrent request of the process: each Wayback request
awaits its turn in ``process_request`` (Scrapy 2.13+ awaits async middleware methods), so the
limits hold however many requests Scrapy has in flight.

- CDX (and TimeMaps, the same pool at the archive) and playback have separate rates, each
  "N requests per window seconds", spread evenly: one request every (window + slack)/N seconds,
  counted from the moment the previous one really left. The archive counts arrivals and a request
  can be held up on its way (a busy CPU, the network), so ``WAYBACK_RATE_SLACK`` seconds per window
  keep a late request and an early one from landing in the same window.
- A live 429 (no ``Memento-Datetime``) pauses *all* Wayback traffic for ``WAYBACK_429_PAUSE``
  seconds and multiplies that pool's rate by ``WAYBACK_RATE_DECREASE``; the rate climbs back one
  step after each ``WAYBACK_RATE_RECOVERY`` seconds without another 429.
- Connection refusals and resets are how the archive's firewall answers a client that kept going:
  ``WAYBACK_BAN_THRESHOLD`` in a row pause everything for ``WAYBACK_BAN_BACKOFF_START`` seconds,
  doubling while they go on, up to ``WAYBACK_BAN_BACKOFF_MAX``; any answer resets the backoff.

Retrying the failed requests is :mod:`crawler.middlewares.retry`'s job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scrapy.exceptions import DownloadConnectionRefusedError, DownloadFailedError
from twisted.internet import error as tx_error
from twisted.web.client import RequestTransmissionFailed, ResponseFailed

from crawler.wayback.memento import Kind, classify
from crawler.wayback.urls import CDX, PLAYBACK, endpoint_of

logger = logging.getLogger(__name__)

REFUSED_ERRORS: tuple[type[BaseException], ...] = (
    DownloadConnectionRefusedError,
    tx_error.ConnectionRefusedError,
    tx_error.ConnectError,
    ConnectionRefusedError,
)
# A body cut short (ResponseDataLossError) is retried, but is no sign of a firewall.
RESET_ERRORS: tuple[type[BaseException], ...] = (
    DownloadFailedError,
    ResponseFailed,
    RequestTransmissionFailed,
    tx_error.ConnectionLost,
    tx_error.ConnectionDone,
    ConnectionResetError,
    ConnectionAbortedError,
)


def connection_failure(exception: BaseException) -> str | None:
    """``"refused"``, ``"reset"`` or None: is this exception the archive's firewall talking?"""
    if isinstance(exception, REFUSED_ERRORS):
        return "refused"
    if isinstance(exception, RESET_ERRORS):
        return "reset"
    return None


@dataclass
class Pool:
    """One of the archive's rate-limit pools, as this crawl spends it."""

    name: str
    rate: float  # requests per window, now
    window: float  # seconds
    max_rate: float  # the configured rate; recovery never goes above it
    min_rate: float
    slack: float = 0.0  # seconds added to each window (see WAYBACK_RATE_SLACK)
    next_slot: float = 0.0  # clock time the next request may start
    lowered_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def interval(self) -> float:
        return (self.window + self.slack) / self.rate


class Turn(NamedTuple):
    waited: float  # seconds spent waiting for it
    epoch: int  # the limiter's pause count when it was taken
    at: float  # clock time it was taken


@dataclass
class Limiter:
    pools: dict[str, Pool]
    pause_after_429: float = 60.0
    rate_decrease: float = 0.5
    rate_recovery: float = 600.0
    ban_threshold: int = 3
    ban_backoff_start: float = 60.0
    ban_backoff_max: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    epoch: int = 0  # bumped by every pause; requests sent before it are not counted twice
    paused_until: float = 0.0
    ban_level: int = 0
    connection_failures: int = 0

    async def acquire(self, pool_name: str) -> Turn:
        """Wait for this pool's next turn (and out any pause).

        Turns are handed out one at a time, in arrival order, and spaced from the moment each was
        actually taken, so a late wake-up never lets the next request come early.
        """
        pool = self.pools[pool_name]
        started = self.clock()
        async with pool.lock:
            while True:
                now = self.clock()
                wait = max(self.paused_until, pool.next_slot) - now
                if wait > 0:
                    # Sleep, then look again: a pause may have begun meanwhile.
                    await self.sleep(wait)
                    continue
                self._maybe_recover(pool, now)
                pool.next_slot = now + pool.interval
                return Turn(now - started, self.epoch, now)

    def pause(self, seconds: float) -> float:
        """Stop all pools for ``seconds`` from now; returns how much the pause was extended by."""
        now = self.clock()
        until = now + seconds
        added = max(0.0, until - max(self.paused_until, now))
        self.paused_until = max(self.paused_until, until)
        self.epoch += 1
        for pool in self.pools.values():
            pool.next_slot = self.paused_until
        return added

    def on_rate_limited(self, pool_name: str, sent_in_epoch: int) -> float:
        """A live 429. Returns the pause it started (0 if a request sent before the current
        pause already caused one: in-flight requests answer 429 together)."""
        if sent_in_epoch < self.epoch:
            return 0.0
        pool = self.pools[pool_name]
        pool.rate = max(pool.min_rate, pool.rate * self.rate_decrease)
        pool.lowered_at = self.clock()
        return self.pause(self.pause_after_429)

    def on_connection_failure(self, sent_in_epoch: int) -> float:
        """A refused or reset connection. Returns the ban backoff it started, or 0."""
        if sent_in_epoch < self.epoch:
            return 0.0
        self.connection_failures += 1
        # Once backing off, a single further failure means the block is still on.
        if self.ban_level == 0 and self.connection_failures < self.ban_threshold:
            return 0.0
        seconds = min(self.ban_backoff_max, self.ban_backoff_start * 2**self.ban_level)
        self.ban_level += 1
        self.connection_failures = 0
        return self.pause(seconds)

    def on_answer(self) -> None:
        """Any HTTP answer: the archive is talking to us again."""
        self.connection_failures = 0
        self.ban_level = 0

    def _maybe_recover(self, pool: Pool, now: float) -> None:
        if pool.lowered_at is None or now - pool.lowered_at < self.rate_recovery:
            return
        pool.rate = min(pool.max_rate, pool.rate / self.rate_decrease)
        pool.lowered_at = None if pool.rate >= pool.max_rate else now


def limiter_from_settings(settings: Any) -> Limiter:
    """The :class:`Limiter` that ``WAYBACK_*`` settings describe (see crawler/settings.py)."""
    cdx_rate = settings.getfloat("WAYBACK_CDX_RATE")
    playback_rate = settings.getfloat("WAYBACK_PLAYBACK_RATE")
    cdx_window = settings.getfloat("WAYBACK_RATE_WINDOW")
    playback_window = settings.getfloat("WAYBACK_PLAYBACK_WINDOW")
    floor = settings.getfloat("WAYBACK_MIN_RATE_SHARE")
    slack = settings.getfloat("WAYBACK_RATE_SLACK")
    for name, value in (("WAYBACK_CDX_RATE", cdx_rate), ("WAYBACK_PLAYBACK_RATE", playback_rate),
                        ("WAYBACK_RATE_WINDOW", cdx_window), ("WAYBACK_PLAYBACK_WINDOW", playback_window)):
        if value <= 0:
            raise ValueError(f"{name} must be positive, not {value}")
    decrease = settings.getfloat("WAYBACK_RATE_DECREASE")
    if not 0 < decrease <= 1:
        raise ValueError(f"WAYBACK_RATE_DECREASE must be in (0, 1], not {decrease}")
    return Limiter(
        pools={
            CDX: Pool(CDX, cdx_rate, cdx_window, cdx_rate, cdx_rate * floor, slack),
            PLAYBACK: Pool(PLAYBACK, playback_rate, playback_window, playback_rate, playback_rate * floor, slack),
        },
        pause_after_429=settings.getfloat("WAYBACK_429_PAUSE"),
        rate_decrease=decrease,
        rate_recovery=settings.getfloat("WAYBACK_RATE_RECOVERY"),
        ban_threshold=settings.getint("WAYBACK_BAN_THRESHOLD"),
        ban_backoff_start=settings.getfloat("WAYBACK_BAN_BACKOFF_START"),
        ban_backoff_max=settings.getfloat("WAYBACK_BAN_BACKOFF_MAX"),
    )


class PolitenessMiddleware:
    """Downloader middleware: every Wayback request waits for its pool's turn; live 429s and
    firewall symptoms slow the whole crawl down. Stats under ``wayback/``."""

    def __init__(self, crawler: Any, limiter: Limiter | None = None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.limiter = limiter or limiter_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Any) -> None:
        pool = endpoint_of(request.url)
        if pool is None:
            return None
        turn = await self.limiter.acquire(pool)
        request.meta["wayback_epoch"] = turn.epoch
        self.stats.inc_value(f"wayback/requests/{pool}")
        if turn.waited > 0:
            self.stats.inc_value("wayback/wait_seconds", round(turn.waited, 3))
        return None

    def process_response(self, request: Any, response: Any) -> Any:
        pool = endpoint_of(request.url)
        if pool is None:
            return response
        self.limiter.on_answer()
        if classify(response.status, response.headers) is Kind.RATE_LIMITED:
            self.stats.inc_value("wayback/live_429")
            self.stats.inc_value(f"wayback/live_429/{pool}")
            paused = self.limiter.on_rate_limited(pool, request.meta.get("wayback_epoch", self.limiter.epoch))
            if paused:
                rate = self.limiter.pools[pool]
                self.stats.inc_value("wayback/pauses")
                self.stats.inc_value("wayback/pause_seconds", round(paused, 3))
                self.stats.inc_value("wayback/rate_decreases")
                self.stats.set_value(f"wayback/rate/{pool}", round(rate.rate, 4))
                logger.warning(
                    "Wayback answered 429 Too Many Requests (%s): all Wayback traffic paused for %.1f s, "
                    "%s rate lowered to %.3g per %g s", pool, paused, pool, rate.rate, rate.window,
                )
        return response

    def process_exception(self, request: Any, exception: BaseException) -> None:
        pool = endpoint_of(request.url)
        if pool is None:
            return None
        kind = connection_failure(exception)
        if kind is None:
            return None
        self.stats.inc_value(f"wayback/connection/{kind}")
        backoff = self.limiter.on_connection_failure(request.meta.get("wayback_epoch", self.limiter.epoch))
        if backoff:
            self.stats.inc_value("wayback/ban_backoffs")
            self.stats.inc_value("wayback/ban_backoff_seconds", round(backoff, 3))
            self.stats.inc_value("wayback/pause_seconds", round(backoff, 3))
            logger.warning(
                "Wayback connections %s repeatedly (a firewall block?): all Wayback traffic paused for %.0f s",
                kind, backoff,
            )
        return None


__all__ = [
    "CDX",
    "PLAYBACK",
    "Limiter",
    "PolitenessMiddleware",
    "Pool",
    "Turn",
    "connection_failure",
    "limiter_from_settings",
]
