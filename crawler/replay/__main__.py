"""``python -m crawler.replay``: run the local Wayback Machine stand-in."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from crawler.replay.captures import CaptureError, CaptureStore
from crawler.replay.faults import Faults
from crawler.replay.manifest import ManifestError
from crawler.replay.server import ReplayServer
from crawler.replay.warcs import WarcError


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  # serve the bundled captures, as a crawl or `make demo` would use them
  python -m crawler.replay --captures tests/fixtures/captures --port 8765
  curl 'http://127.0.0.1:8765/cdx/search/cdx?url=mofcom.gov.cn/article/*&output=json&limit=5'
  curl -i 'http://127.0.0.1:8765/web/20231224001357id_/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml'

\b
  # rehearse politeness: 30 CDX requests a minute, 429 beyond, a 1-hour ban after 60 s of 429s
  python -m crawler.replay --captures tests/fixtures/captures --port 8765 --cdx-limit 30

\b
  # a flaky archive: 10% 502/503/504, 0.3 s added to every answer, duplicated CDX lines,
  # 20% of bodies left gzip-compressed without Content-Encoding
  python -m crawler.replay --captures DIR --port 8765 --error-rate 0.1 --latency 0.3 \\
      --duplicate-rows 3 --gzip-bodies 0.2 --seed 7

\b
Endpoints: /cdx/search/cdx, /web/<ts><mod>/<url>, /web/timemap/link/<url>,
/web/timemap/json?url=..., /wayback/available?url=...  Each request is logged at debug level (-v).
""",
)
@click.option("--captures", "captures", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of *.warc.gz / *.warc files (+ optional manifest.json). Empty archive if omitted.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address; only 127.0.0.1 is accepted.")
@click.option("--cdx-limit", type=int, help="CDX+timemap requests per window per client; more get a live 429.")
@click.option("--playback-limit", type=int, help="Playback (/web/) requests per window per client.")
@click.option("--window-seconds", type=float, default=60.0, show_default=True, help="Length of the rate window.")
@click.option("--ban-after", type=float, help="Seconds a client may keep sending after its first 429 before a "
              "ban (default: one window).")
@click.option("--ban-seconds", type=float, default=3600.0, show_default=True,
              help="Ban length: connections are reset with no HTTP answer. Doubles on each repeat.")
@click.option("--error-rate", type=float, default=0.0, show_default=True, help="Share of answers that are 502/503/504.")
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option("--duplicate-rows", type=int, default=1, show_default=True, help="Copies of every CDX line (IA repeats lines).")
@click.option("--gzip-bodies", type=float, default=0.0, show_default=True,
              help="Share of mementos sent gzip-compressed with no Content-Encoding header.")
@click.option("--truncate-rate", type=float, default=0.0, show_default=True,
              help="Share of bodies cut short (Content-Length kept, connection closed).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault RNG.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def main(captures, port, host, cdx_limit, playback_limit, window_seconds, ban_after, ban_seconds, error_rate,
         latency, duplicate_rows, gzip_bodies, truncate_rate, seed, verbose) -> None:
    """A local stand-in for the Wayback Machine (CDX, playback, faults), serving WARC captures."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(message)s")
    try:
        faults = Faults(
            cdx_limit=cdx_limit, playback_limit=playback_limit, window=window_seconds, ban_after=ban_after,
            ban_seconds=ban_seconds, error_rate=error_rate, latency=latency, duplicate_rows=duplicate_rows,
            gzip_bodies=gzip_bodies, truncate_rate=truncate_rate, seed=seed,
        )
        store = CaptureStore.from_folder(captures) if captures else CaptureStore()
        server = ReplayServer(store, port=port, host=host, faults=faults)
    except (ValueError, CaptureError, ManifestError, WarcError, OSError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"replay: {len(store)} captures from {captures or '(none)'} at {server.base_url}  (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        click.echo(f"replay: stopped; {dict(sorted(server.stats.snapshot().items()))}", err=True)


if __name__ == "__main__":
    sys.exit(main())
