"""Retries with exponential backoff, in place of Scrapy's immediate ``RetryMiddleware``.

For Wayback requests the answer's kind decides (see :mod:`crawler.wayback.memento`): archived
content is never retried, whatever its status (an archived 404, 429 or 503 is a page); a live 5xx
is retried after ``WAYBACK_RETRY_BACKOFF * 2**(n-1)`` seconds; a live 429 is retried once the
politeness pause it caused is over (it waits in the limiter, not here); timeouts, refused and reset
connections are retried with the same backoff. When the retries run out, the request's errback
receives :class:`~crawler.wayback.errors.WaybackUnavailable` with the reason, so the spider can
record the capture as an error; stats ``wayback/retry/count``, ``wayback/retry/reason_count/<why>``
and ``wayback/retry/max_reached`` count it all.

Other requests get Scrapy's rules (``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``, ``RETRY_TIMES``)
with the same backoff between tries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, NotConfigured, ResponseDataLossError
from scrapy.utils.misc import load_object
from twisted.internet.error import TimeoutError as TxTimeoutError

from crawler.wayback.errors import WaybackUnavailable
from crawler.wayback.memento import Kind, classify
from crawler.wayback.urls import endpoint_of

from .politeness import connection_failure

logger = logging.getLogger(__name__)

TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (DownloadTimeoutError, TxTimeoutError, TimeoutError)


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): base, 2·base, 4·base... ≤ cap."""
    return min(cap, base * 2 ** max(0, attempt - 1))


class BackoffRetryMiddleware:
    def __init__(self, crawler: Any, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.sleep = sleep
        self.wayback_retries = settings.getint("WAYBACK_RETRY_TIMES")
        self.other_retries = settings.getint("RETRY_TIMES")
        self.backoff = settings.getfloat("WAYBACK_RETRY_BACKOFF")
        self.backoff_max = settings.getfloat("WAYBACK_RETRY_BACKOFF_MAX")
        self.retry_http_codes = {int(x) for x in settings.getlist("RETRY_HTTP_CODES")}
        self.priority_adjust = settings.getint("RETRY_PRIORITY_ADJUST")
        self.exceptions = tuple(
            load_object(x) if isinstance(x, str) else x for x in settings.getlist("RETRY_EXCEPTIONS")
        )

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_response(self, request: Any, response: Any) -> Any:
        if request.meta.get("dont_retry", False):
            return response
        wayback = endpoint_of(request.url) is not None
        if wayback:
            kind = classify(response.status, response.headers)
            if kind is Kind.RATE_LIMITED:
                reason, delay = "live 429", False  # the politeness pause is the wait
            elif kind is Kind.SERVER_ERROR:
                reason, delay = f"live {response.status}", True
            else:
                return response  # archived content, or the archive's own answer: never retried
        elif response.status in self.retry_http_codes:
            reason, delay = f"http {response.status}", True
        else:
            return response
        retry = await self._retry(request, reason, delay)
        if retry is not None:
            return retry
        if wayback:
            self._give_up(request, reason)
        return response

    async def process_exception(self, request: Any, exception: BaseException) -> Any:
        if isinstance(exception, IgnoreRequest) or request.meta.get("dont_retry", False):
            return None
        retryable = isinstance(exception, (*self.exceptions, *TIMEOUT_ERRORS)) or connection_failure(exception)
        if not retryable:
            return None
        reason = _exception_reason(exception)
        retry = await self._retry(request, reason)
        if retry is not None:
            return retry
        if endpoint_of(request.url) is not None:
            self._give_up(request, reason, cause=exception)
        return None

    async def _retry(self, request: Any, reason: str, delay: bool = True) -> Any:
        """The next attempt (after its backoff), or None when the retries are spent."""
        wayback = endpoint_of(request.url) is not None
        spider = self.crawler.spider
        new = get_retry_request(
            request,
            spider=spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.wayback_retries if wayback else self.other_retries),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            stats_base_key="wayback/retry" if wayback else "retry",
            logger=logger,
        )
        if new is None:
            return None
        if delay:
            seconds = backoff_delay(new.meta["retry_times"], self.backoff, self.backoff_max)
            if seconds > 0:
                self.stats.inc_value("wayback/retry/backoff_seconds" if wayback else "retry/backoff_seconds", seconds)
                await self.sleep(seconds)
        return new

    def _give_up(self, request: Any, reason: str, cause: BaseException | None = None) -> NoReturn:
        attempts = request.meta.get("retry_times", 0) + 1
        failure = WaybackUnavailable(f"{reason} after {attempts} attempts", request.meta.get("wayback"))
        if cause is not None:
            raise failure from cause
        raise failure


def _exception_reason(exception: BaseException) -> str:
    kind = connection_failure(exception)
    if kind is not None:
        return f"connection {kind}"
    if isinstance(exception, TIMEOUT_ERRORS):
        return "timeout"
    if isinstance(exception, ResponseDataLossError):
        return "body cut short"
    return type(exception).__name__
