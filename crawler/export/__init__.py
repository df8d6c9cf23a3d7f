"""Bulk export for researchers: JSONL, CSV, Parquet (Hugging Face layout) and WARC, with provenance.

Every format streams from the one query in :mod:`crawler.export.query`, read in a single read
transaction (the count that sizes the Parquet shards and the rows written see the same snapshot,
even while a crawl writes). Files are written under a temporary name and moved into place when
complete, so an interrupted export never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import sqlite_utils

from .card import dataset_card
from .csv_format import write_csv
from .fields import FIELD_NAMES, FIELDS, Field
from .jsonl import write_jsonl
from .parquet import SHARD_ROWS, write_parquet_shards
from .query import ExportFilters, count_captures, count_documents, iter_captures, iter_records
from .warc import write_warc

Format = Literal["jsonl", "csv", "parquet", "warc"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "warc")
DEFAULT_OUT = {"jsonl": "corpus.jsonl", "csv": "corpus.csv", "parquet": "corpus-parquet", "warc": "corpus.warc.gz"}
STDOUT = "-"
Progress = Callable[[int, int], None]  # (done, total)
PROGRESS_EVERY = 250

__all__ = [
    "DEFAULT_OUT",
    "FIELDS",
    "FIELD_NAMES",
    "FORMATS",
    "ExportFilters",
    "ExportResult",
    "Field",
    "export",
]


@dataclass
class ExportResult:
    format: str
    count: int  # records written (documents; captures for WARC)
    paths: list[Path] = field(default_factory=list)  # files written; empty for stdout
    bytes: int = 0  # bytes written, all files together
    seconds: float = 0.0

    @property
    def path(self) -> Path | None:
        return self.paths[0] if self.paths else None


def export(
    db: sqlite_utils.Database,
    fmt: Format,
    out: str | Path | None = None,
    filters: ExportFilters | None = None,
    progress: Progress | None = None,
    *,
    with_html: bool = False,
    shard_rows: int = SHARD_ROWS,
) -> ExportResult:
    """Export the documents matching ``filters`` (all when None) as ``fmt`` to ``out``.

    ``out`` is a file for jsonl, csv and warc (``"-"``: standard output, jsonl and csv only) and a
    directory for parquet (``data/train-*.parquet`` + ``README.md``); default :data:`DEFAULT_OUT`.
    ``progress(done, total)`` is called as records are written. ``with_html`` fills ``html`` with the
    archived page (jsonl, csv, parquet). Raises ValueError on bad filters or arguments.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    filters = filters or ExportFilters()
    target = str(out if out is not None else DEFAULT_OUT[fmt])
    if target == STDOUT and fmt not in ("jsonl", "csv"):
        raise ValueError(f"{fmt} cannot go to standard output: give --out a path")
    started = time.perf_counter()
    with _read_snapshot(db):
        if fmt == "warc":
            total = count_captures(db, filters)
            items: Iterable[dict[str, Any]] = iter_captures(db, filters)
        else:
            total = count_documents(db, filters)
            items = iter_records(db, filters, with_html=with_html)
        items = _reporting(items, total, progress)
        if fmt == "parquet":
            result = _export_parquet(items, Path(target), total, filters, with_html, shard_rows)
        else:
            writer = {"jsonl": write_jsonl, "csv": write_csv}.get(fmt)
            result = _export_stream(fmt, items, target, writer, filters)
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def _read_snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction around the whole export: the count and the rows see the same corpus."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        yield
    finally:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")  # nothing was written: just end the snapshot


def _reporting(items: Iterable[dict[str, Any]], total: int, progress: Progress | None) -> Iterator[dict[str, Any]]:
    done = 0
    if progress:
        progress(0, total)
    for item in items:
        yield item
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress:
        progress(done, total)


def _export_stream(
    fmt: str,
    items: Iterable[dict[str, Any]],
    target: str,
    writer: Callable[[Iterable[dict[str, Any]], BinaryIO], int] | None,
    filters: ExportFilters,
) -> ExportResult:
    if target == STDOUT:
        counter = _CountingStream(sys.stdout.buffer)
        assert writer is not None
        count = writer(items, counter)
        sys.stdout.buffer.flush()
        return ExportResult(fmt, count, [], counter.written)
    path = Path(target)
    if fmt == "warc" and path.is_dir():
        path = path / DEFAULT_OUT["warc"]
    with _atomic_output(path) as stream:
        if fmt == "warc":
            info = {"isPartOf": "mofcom-corpus", "selection": _describe(filters)}
            count = write_warc(items, stream, filename=path.name, info=info)
        else:
            assert writer is not None
            count = writer(items, stream)
    return ExportResult(fmt, count, [path], path.stat().st_size)


def _export_parquet(
    items: Iterable[dict[str, Any]], out_dir: Path, total: int, filters: ExportFilters, with_html: bool, shard_rows: int
) -> ExportResult:
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file: a Parquet export goes to a directory (data/ and README.md)")
    count, shards = write_parquet_shards(items, out_dir, total, shard_rows)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    card = out_dir / "README.md"
    with _atomic_output(card) as stream:
        stream.write(dataset_card(count, len(shards), filters.describe(), generated, with_html).encode("utf-8"))
    paths = [*shards, card]
    return ExportResult("parquet", count, paths, sum(p.stat().st_size for p in paths))


def _describe(filters: ExportFilters) -> str:
    return ", ".join(f"{k}={v}" for k, v in filters.describe().items()) or "all documents"


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file written as ``PATH.partial`` and renamed to ``PATH`` only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as stream:
            yield stream
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class _CountingStream:
    """A write-only binary stream that counts what passes through it (for standard output)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.raw.write(data)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self.raw.flush()

    @property
    def closed(self) -> bool:
        return False
