"""Opening a corpus file: recognise it, refuse foreign files, set WAL, migrate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from .schema import APPLICATION_ID, LATEST_VERSION, migrate, schema_version

SQLITE_MAGIC = b"SQLite format 3\x00"


class CorpusError(Exception):
    """A corpus file that cannot be used, with a message that says what to do."""


class NoCorpusError(CorpusError):
    pass


class ForeignDatabaseError(CorpusError):
    pass


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise CorpusError(f"{path} is a directory, not a corpus file")
    with path.open("rb") as f:
        header = f.read(16)
    if header and header != SQLITE_MAGIC:
        raise ForeignDatabaseError(f"{path} is not a SQLite database, so not a corpus: refusing to touch it")


def open_corpus(
    path: str | Path = "corpus.db",
    *,
    create: bool = True,
    readonly: bool = False,
    busy_timeout_ms: int = 60_000,
) -> sqlite_utils.Database:
    """Open (and if need be create and upgrade) the corpus at ``path``.

    ``create=False`` raises :class:`NoCorpusError` when the file does not exist, for commands that
    only read. ``readonly`` opens the file with ``mode=ro`` and never migrates. A SQLite file that
    is not a corpus raises :class:`ForeignDatabaseError`, and one made by a newer version of this
    tool raises :class:`CorpusError`; neither is modified.
    """
    path = Path(path)
    exists = path.exists()
    if not exists and (readonly or not create):
        raise NoCorpusError(
            f"no corpus at {path}: build one with `corpus crawl --db {path}` (or `make demo`), "
            "or point --db at an existing corpus.db"
        )
    if exists:
        _check_file(path)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db = sqlite_utils.Database(conn)
    try:
        _check_identity(db, path)
        if not readonly:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db)
        elif schema_version(db) != LATEST_VERSION:
            raise CorpusError(
                f"{path} is at schema version {schema_version(db)}, this tool needs {LATEST_VERSION}: "
                "open it once without read-only mode (any `corpus` command) to upgrade it in place"
            )
    except BaseException:
        conn.close()
        raise
    return db


def _check_identity(db: sqlite_utils.Database, path: Path) -> None:
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise ForeignDatabaseError(f"{path} cannot be read as a SQLite database ({e})") from e
    version = schema_version(db)
    tables = db.table_names()
    if app_id == APPLICATION_ID:
        if version > LATEST_VERSION:
            raise CorpusError(
                f"{path} has schema version {version}, newer than this tool's {LATEST_VERSION}: "
                "upgrade mofcom-corpus to use it"
            )
        return
    if app_id == 0 and not tables:
        return  # a new, empty file: ours to initialise
    shown = ", ".join(tables[:6]) + (" ..." if len(tables) > 6 else "")
    raise ForeignDatabaseError(
        f"{path} is a SQLite database but not a MOFCOM corpus (application_id={app_id}, tables: {shown}); "
        "refusing to touch it: choose another --db path"
    )
