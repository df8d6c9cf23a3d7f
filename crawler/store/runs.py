"""The run log: every crawl, load, translation or summary run, its arguments, counts and outcome."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from .. import __version__
from .schema import now_iso
from .transaction import write_transaction


def start_run(db: sqlite_utils.Database, kind: str, arguments: Mapping[str, Any] | None = None) -> int:
    with write_transaction(db):
        return db["crawl_runs"].insert(
            {
                "kind": kind,
                "started_at": now_iso(),
                "status": "running",
                "arguments": json.dumps(dict(arguments or {}), ensure_ascii=False, default=str),
                "counts": "{}",
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "version": __version__,
            }
        ).last_pk


def update_run_counts(db: sqlite_utils.Database, run_id: int, counts: Mapping[str, Any]) -> None:
    with write_transaction(db):
        db["crawl_runs"].update(run_id, {"counts": json.dumps(dict(counts), ensure_ascii=False)})


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    status: str,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"finished_at": now_iso(), "status": status, "error": error}
    if counts is not None:
        values["counts"] = json.dumps(dict(counts), ensure_ascii=False)
    with write_transaction(db):
        db["crawl_runs"].update(run_id, values)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def close_abandoned_runs(db: sqlite_utils.Database) -> int:
    """Mark runs left 'running' by a killed process as 'interrupted' (called when a new run starts).

    A run still going in another process of this machine (a translation beside a crawl) is left alone;
    so is one started on another machine, which cannot be checked from here."""
    host = socket.gethostname()
    running = db.execute("SELECT id, host, pid FROM crawl_runs WHERE status = 'running'").fetchall()
    dead = [
        run_id for run_id, run_host, pid in running
        if pid is None or (run_host == host and pid != os.getpid() and not _process_alive(pid))
    ]
    if not dead:
        return 0
    with write_transaction(db):
        db.execute(
            f"UPDATE crawl_runs SET status = 'interrupted', finished_at = ? "
            f"WHERE id IN ({', '.join('?' for _ in dead)})",
            [now_iso(), *dead],
        )
    return len(dead)
