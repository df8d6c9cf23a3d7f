"""``corpus serve``: the corpus in Datasette, read-only."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..store import CorpusError
from .common import console, db_option


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. 127.0.0.1 serves this machine only; 0.0.0.0 publishes it on every network interface.")
@click.option("--open", "open_browser", is_flag=True, help="Open the corpus in your web browser once it is served.")
@click.option("--immutable", is_flag=True, help="Serve a finished corpus that nothing writes to any more as an unchanging snapshot (faster counts). Refused while a crawl may be writing it.")
@db_option
def serve(port: int, host: str, open_browser: bool, immutable: bool, db_path: Path) -> None:
    """Serve the corpus read-only in Datasette: browse, facet and search it in Chinese and English.

    Each document's page shows the Chinese and the English side by side, with links to the Wayback
    capture it came from and to the original URL. Canned queries: Chinese search (any query length:
    赋, 外资, 数字化赋能), English search, the latest interpretations, departments, and the documents
    still missing a translation or summary. Nothing in the served instance can change the corpus,
    and SQL queries stop after a time limit. Ctrl-C stops the server.

    \b
    Examples:
      corpus serve                          # http://127.0.0.1:8001/corpus
      corpus serve --db demo/corpus.db --port 8080 --open
      corpus serve --immutable --host 0.0.0.0   # publish a finished corpus

    \b
    Plain Datasette works too (name the file corpus.db):
      datasette corpus.db -m crawler/serve/metadata.yaml \\
        --template-dir crawler/serve/templates --plugins-dir crawler/serve/plugins
    """

    from ..serve import serve as serve_api  # Datasette: imported only when serving (half a second)

    def ready(url: str) -> None:
        mode = "immutable snapshot" if immutable else "read-only"
        console.print(f"Serving [bold]{db_path}[/] ({mode}) at [bold]{url}[/]  (Ctrl-C stops)")

    try:
        serve_api(db_path, host=host, port=port, open_browser=open_browser, immutable=immutable, on_ready=ready)
    except KeyboardInterrupt:
        console.print("Stopped.")
    except CorpusError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        reason = os.strerror(e.errno) if e.errno else str(e)
        raise click.ClickException(f"cannot listen on {host}:{port} ({reason}): choose another --port or --host") from e
