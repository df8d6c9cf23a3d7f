"""Fault injection: rate limits with live 429s, firewall bans, 5xx, latency, and damaged bodies.

All off by default. Rate limits follow what IA staff describe (wayback-api.md §4.1): a budget of N
requests per window per client IP, one pool for CDX + timemap (+ availability), another for playback.
Every request counts against its pool, answered or refused, so a client that keeps sending stays over
the limit; one that pauses for a window is under it again. A client still sending more than
``ban_after`` seconds after its first 429 is banned: its connections are reset without an HTTP answer
for ``ban_seconds``, doubling on each repeat ban.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

POOLS = ("cdx", "playback")


@dataclass(frozen=True)
class Faults:
    """What to break. Rates are probabilities per response (0..1), drawn from one RNG seeded by ``seed``."""

    cdx_limit: int | None = None  # requests per window per client, CDX + timemap + availability
    playback_limit: int | None = None  # requests per window per client, /web/
    window: float = 60.0  # seconds
    ban_after: float | None = None  # seconds of 429s before a ban; default: one window
    ban_seconds: float = 3600.0
    error_rate: float = 0.0  # share of answers replaced by 502/503/504
    latency: float = 0.0  # seconds added to every answer
    duplicate_rows: int = 1  # copies of every CDX index line (IA sometimes returns 2-3)
    gzip_bodies: float = 0.0  # share of mementos sent gzip-compressed with no Content-Encoding
    truncate_rate: float = 0.0  # share of bodies cut short (Content-Length kept, connection closed)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "gzip_bodies", "truncate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("window", "ban_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("cdx_limit", "playback_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no limit)")
        if self.latency < 0 or self.duplicate_rows < 1:
            raise ValueError("latency must be >= 0 and duplicate_rows >= 1")

    def limit_for(self, pool: str) -> int | None:
        return self.cdx_limit if pool == "cdx" else self.playback_limit

    @property
    def ban_delay(self) -> float:
        return self.window if self.ban_after is None else self.ban_after


class Stats(dict):
    """Counters, safe to bump from many threads; read it like a dict (missing keys read as 0)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __missing__(self, key: str) -> int:
        return 0

    def incr(self, key: str, amount: int = 1) -> None:
        with self._lock:
            dict.__setitem__(self, key, dict.get(self, key, 0) + amount)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self)


@dataclass
class _Client:
    seen: dict[str, deque] = field(default_factory=lambda: {pool: deque() for pool in POOLS})
    first_429: float | None = None
    banned_until: float = 0.0
    bans: int = 0


class Gate:
    """Decides, per request, whether a client is admitted, limited (429) or banned (reset)."""

    ADMIT, LIMIT, BAN, BANNED = "admit", "limit", "ban", "banned"  # BAN: a ban starts now

    def __init__(self, faults: Faults, clock=time.monotonic):
        self.faults = faults
        self.clock = clock
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()
        self._random = random.Random(faults.seed)

    def is_banned(self, client: str) -> bool:
        with self._lock:
            state = self._clients.get(client)
            return state is not None and state.banned_until > self.clock()

    def check(self, client: str, pool: str | None) -> str:
        """The verdict for one request of ``client`` to an endpoint of ``pool`` (None: not limited)."""
        now = self.clock()
        with self._lock:
            state = self._clients.get(client)
            if state is not None and state.banned_until > now:
                return self.BANNED
            limit = self.faults.limit_for(pool) if pool else None
            if limit is None:
                return self.ADMIT
            if state is None:
                state = self._clients[client] = _Client()
            seen = state.seen[pool]
            while seen and seen[0] <= now - self.faults.window:
                seen.popleft()
            over = len(seen) >= limit
            seen.append(now)
            if not over:
                state.first_429 = None
                return self.ADMIT
            if state.first_429 is None:
                state.first_429 = now
            elif now - state.first_429 > self.faults.ban_delay:
                state.bans += 1
                state.banned_until = now + self.faults.ban_seconds * 2 ** (state.bans - 1)
                state.first_429 = None
                for pool_seen in state.seen.values():
                    pool_seen.clear()
                return self.BAN
            return self.LIMIT

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def pick(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._random.choice(options)
