"""Start a replay server for a test or a benchmark: ``with running_replay(folder, cdx_limit=5) as server:``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.replay.captures import CaptureStore
from crawler.replay.faults import Faults
from crawler.replay.server import ReplayServer


@contextmanager
def running_replay(source: str | Path | CaptureStore | None = None, **faults) -> Iterator[ReplayServer]:
    """A replay server on a free 127.0.0.1 port, serving ``source``, stopped on exit.

    ``source``: a captures folder (WARCs + optional manifest.json), a ``CaptureStore``, or None (empty).
    Keyword arguments are ``Faults`` fields (``cdx_limit``, ``playback_limit``, ``window``, ``ban_after``,
    ``ban_seconds``, ``error_rate``, ``latency``, ``duplicate_rows``, ``gzip_bodies``, ``truncate_rate``,
    ``seed``) plus ``max_cdx_limit``. The server has ``.base_url``, ``.stats`` and ``.store``.
    """
    store = source if source is None or isinstance(source, CaptureStore) else CaptureStore.from_folder(source)
    max_cdx_limit = faults.pop("max_cdx_limit", None)
    options = {"max_cdx_limit": max_cdx_limit} if max_cdx_limit else {}
    server = ReplayServer(store, port=0, faults=Faults(**faults), **options).start()
    try:
        yield server
    finally:
        server.stop()
