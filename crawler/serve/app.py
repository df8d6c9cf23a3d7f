"""The corpus in Datasette: one read-only app with the corpus metadata, templates and plugins.

:func:`build_datasette` makes the app for a corpus file, :func:`serve` runs it in the foreground
(``corpus serve``) and :func:`running_server` in a background thread (tests, notebooks). The database
is always called ``corpus`` whatever the file's name, so the metadata, the canned queries and the
document page template (``row-corpus-documents.html``) apply to any corpus file.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from datasette.app import Datasette
from datasette.utils import parse_metadata

from ..store import CorpusError, open_corpus

SERVE_DIR = Path(__file__).parent
METADATA_PATH = SERVE_DIR / "metadata.yaml"
TEMPLATES_DIR = SERVE_DIR / "templates"
PLUGINS_DIR = SERVE_DIR / "plugins"
DATABASE_NAME = "corpus"

# Datasette settings for the served corpus (see `datasette --help-settings`).
SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": 3000,  # any query (custom SQL, canned query, table page) stops after 3 s
    "facet_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "truncate_cells_html": 240,  # long Chinese and English bodies stay readable in table views
    "allow_download": False,  # the corpus file is not offered for download
    "suggest_facets": False,  # 50-odd columns: suggesting facets would cost a query per column per page
}


def load_metadata(path: str | Path = METADATA_PATH) -> dict[str, Any]:
    """The Datasette metadata kept in the repository (title, license, tables, facets, canned queries)."""
    return parse_metadata(Path(path).read_text(encoding="utf-8"))


def check_corpus(db_path: str | Path, *, immutable: bool = False) -> Path:
    """The corpus file to serve, checked without writing to it: it exists, is a corpus, and is at the
    current schema version. Raises :class:`CorpusError` with what to do otherwise."""
    path = Path(db_path)
    open_corpus(path, readonly=True).close()
    wal = path.with_name(path.name + "-wal")
    if immutable and wal.exists() and wal.stat().st_size > 0:
        raise CorpusError(
            f"{path} has a write-ahead log ({wal.name}): a process may still be writing it, and immutable "
            "mode would not see those writes; serve it without --immutable"
        )
    return path


def build_datasette(
    db_path: str | Path, *, immutable: bool = False, settings: Mapping[str, Any] | None = None
) -> Datasette:
    """A Datasette app serving the corpus at ``db_path`` read-only, as database ``corpus``.

    The file is opened read-only (``mode=ro``), or with ``immutable=True`` as an unchanging snapshot
    (faster; only for a corpus nothing writes to any more). ``settings`` override :data:`SETTINGS`.
    """
    path = check_corpus(db_path, immutable=immutable)
    ds = Datasette(
        files=[] if immutable else [str(path)],
        immutables=[str(path)] if immutable else [],
        metadata=load_metadata(),
        template_dir=str(TEMPLATES_DIR),
        plugins_dir=str(PLUGINS_DIR),
        settings={**SETTINGS, **(settings or {})},
    )
    database = next(db for db in ds.databases.values() if db.path == str(path))
    if database.name != DATABASE_NAME:
        ds.remove_database(database.name)
        ds.add_database(database, name=DATABASE_NAME)
    return ds


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free port). Raises OSError if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def server_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/{DATABASE_NAME}"


def serve(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    open_browser: bool = False,
    immutable: bool = False,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve the corpus until interrupted (Ctrl-C). ``on_ready`` receives the corpus URL once the port
    is bound; ``open_browser`` opens it in the default web browser."""
    ds = build_datasette(db_path, immutable=immutable)
    sock = bind_socket(host, port)
    url = server_url(sock)
    if on_ready:
        on_ready(url)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(ds.app(), log_level=log_level, lifespan="on", workers=1)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def running_server(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    immutable: bool = False,
    settings: Mapping[str, Any] | None = None,
    startup_timeout_s: float = 30.0,
) -> Iterator[str]:
    """Serve the corpus from a background thread for the ``with`` block; yields its URL
    (``http://127.0.0.1:PORT/corpus``). Port 0 picks a free port."""
    ds = build_datasette(db_path, immutable=immutable, settings=settings)
    sock = bind_socket(host, port)
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="on", workers=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Datasette server did not start")
            time.sleep(0.02)
        yield server_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        for database in ds.databases.values():
            database.close()
