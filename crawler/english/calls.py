"""Asking an engine with retries and exponential backoff.

Transient failures (timeouts, rate limits, server errors, malformed bodies) are tried again after
``base_delay * 2**n`` seconds (or what the server's Retry-After asks), up to ``attempts`` calls. A
bad answer (Chinese, cut off...) is asked again at once, at a higher temperature, since a
deterministic model would repeat it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .engines import BadAnswer, Engine, EngineError, Reply

T = TypeVar("T")


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 2.0
    max_delay: float = 60.0
    retry_temperature: float = 0.4  # added per retry after a bad answer
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    def delay(self, attempt: int, error: EngineError) -> float:
        if error.retry_after is not None:
            return min(self.max_delay, error.retry_after)
        backoff = self.base_delay * 2 ** (attempt - 1)
        return min(self.max_delay, backoff * (1 + 0.25 * random.random()))


class CallFailed(Exception):
    """Every attempt failed; ``attempts`` says how many were made, ``fatal`` whether to stop the run."""

    def __init__(self, message: str, attempts: int, fatal: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.fatal = fatal


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    bad_answers: int = 0


def ask(
    engine: Engine,
    messages: list[dict[str, str]],
    check: Callable[[Reply, bool], T],
    *,
    max_tokens: int,
    policy: RetryPolicy,
    stats: CallStats | None = None,
) -> T:
    """``check(engine.chat(...), strict)``, retried on transient failures; raises :class:`CallFailed`.

    ``strict`` is False on the last attempt only, so a check may let through there what it would
    rather have the model try again (see :mod:`.answers`)."""
    stats = stats if stats is not None else CallStats()
    temperature: float | None = None  # the engine's own
    for attempt in range(1, policy.attempts + 1):
        stats.calls += 1
        try:
            reply = engine.chat(messages, max_tokens=max_tokens, temperature=temperature)
            return check(reply, attempt < policy.attempts)
        except EngineError as error:
            if isinstance(error, BadAnswer):
                stats.bad_answers += 1
                temperature = min(1.0, policy.retry_temperature * attempt)
            if error.fatal or not error.transient or attempt == policy.attempts:
                raise CallFailed(f"{error} (after {attempt} attempt{'s' if attempt > 1 else ''})", attempt, error.fatal) from error
            stats.retries += 1
            if not isinstance(error, BadAnswer):  # a bad answer is asked again at once: no server to spare
                policy.sleep(policy.delay(attempt, error))
    raise AssertionError("unreachable")  # the loop returns or raises
