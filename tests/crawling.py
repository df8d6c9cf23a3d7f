"""Running `corpus crawl` from tests: each crawl in its own process (Scrapy's reactor starts once per
process), against a replay of the Wayback Machine on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The replay is local: no need to spare it the archive's politeness limits.
FAST = ["--cdx-rate", "60000", "--playback-rate", "500", "--set", "LOG_LEVEL=WARNING"]


def corpus_crawl(db: Path, base_url: str, *args: str, settings: dict | None = None,
                 check: bool = True) -> subprocess.CompletedProcess:
    """`corpus crawl --db DB --wayback-url BASE_URL ARGS`, with `--set NAME=VALUE` for each of ``settings``
    (when given, they replace the fast defaults); asserts a zero exit status when ``check``."""
    options = FAST if settings is None else [x for k, v in settings.items() for x in ("--set", f"{k}={v}")]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--wayback-url", base_url, *options, *args],
        capture_output=True, text=True, timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done
