"""One way to write: a ``BEGIN IMMEDIATE`` transaction that commits whole or not at all."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlite_utils


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Take the write lock up front (so a concurrent writer waits on busy_timeout instead of failing
    half-way), run the block, commit; roll back on any exception, ``KeyboardInterrupt`` included.
    Nested use joins the outer transaction through a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
