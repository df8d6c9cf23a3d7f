"""Bulk loading records in the seed's shape (JSON or JSONL), in batches, resumable."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from .records import import_record
from .runs import close_abandoned_runs, finish_run, start_run
from .transaction import write_transaction


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records from a JSONL file (one per line), or a JSON file holding one record or a list, streamed."""
    path = Path(path)
    with path.open("r", encoding="utf-8-sig") as f:
        first = f.read(1)
        while first and first.isspace():
            first = f.read(1)
        f.seek(0)
        if not first:
            return
        if first == "[":
            yield from json.load(f)
            return
        first_line = f.readline()
        try:
            first_record = json.loads(first_line)
        except json.JSONDecodeError:
            f.seek(0)  # one pretty-printed JSON object
            yield json.load(f)
            return
        yield first_record
        for number, line in enumerate(f, 2):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{number}: not a JSON object ({e.msg})") from e


def load_records(
    db: sqlite_utils.Database,
    records: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 500,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> Counter:
    """Store records in batches of ``batch_size``, one transaction each; returns the counts.

    A process killed mid-way leaves whole batches only; loading the same records again completes
    the work and changes nothing that was already stored. Bad records are counted and skipped.
    """
    close_abandoned_runs(db)
    run_id = start_run(db, "load", {"source": source, "batch_size": batch_size})
    counts: Counter = Counter()
    batch: list[Mapping[str, Any]] = []

    def flush() -> None:
        with write_transaction(db):
            for record in batch:
                try:
                    _, change = import_record(db, record, run_id)
                except (ValueError, TypeError, KeyError) as e:
                    counts["rejected"] += 1
                    counts[f"rejected: {str(e)[:60]}"] += 1
                    continue
                counts[change] += 1
        if progress:
            progress(len(batch))
        batch.clear()

    try:
        for record in records:
            counts["read"] += 1
            batch.append(record)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    except BaseException as e:
        finish_run(db, run_id, "interrupted" if isinstance(e, KeyboardInterrupt) else "failed", counts, repr(e))
        raise
    finish_run(db, run_id, "finished", counts)
    return counts
