"""Writing the crawl's items to the corpus, a batch per transaction: here, or in a writer process.

:func:`write_batch` writes one batch in one transaction, each item in its own savepoint, and returns
the batch's counts. :class:`WriterProcess` runs it in a child process of its own, so the crawl's
process (which runs Scrapy's engine on one core) only hands the batch over: SQLite, FTS5 indexing
and zlib then run on another core. One batch is in flight at a time, in order; the next waits for
the one before it to commit, so a writer that falls behind holds the engine back instead of piling
batches up in memory.

The writer ignores Ctrl-C (the crawl's process closes it once the last batch is written) and ends
when the crawl's process goes away: a crawl killed outright loses at most the batches not yet
written, never what is stored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from .items import CaptureItem, DocumentItem
from .store import open_corpus, upsert_capture, upsert_document, write_transaction

log = logging.getLogger(__name__)

Item = DocumentItem | CaptureItem


def capture_row(capture: CaptureItem, run_id: int | None) -> dict[str, Any]:
    row = capture.to_row()
    if capture.response_headers is not None:
        row["response_headers"] = json.dumps(capture.response_headers, ensure_ascii=False)
    row["run_id"] = run_id
    return row


def _store_capture(db: Any, capture: CaptureItem, run_id: int | None) -> list[str]:
    upsert_capture(db, capture_row(capture, run_id), only_if_new=capture.outcome == "skipped")
    counts = [f"corpus/captures/{capture.outcome}"]
    if capture.reason and capture.outcome in ("rejected", "error"):
        counts.append(f"corpus/{capture.outcome}/{capture.reason}")
    return counts


def _store_document(db: Any, item: DocumentItem, run_id: int | None) -> list[str]:
    capture_id = upsert_capture(db, capture_row(item.capture, run_id))
    doc_id, change = upsert_document(db, {**item.document, "capture_id": capture_id})
    db.execute("UPDATE captures SET document_id = ? WHERE id = ?", [doc_id, capture_id])
    return ["corpus/captures/stored", f"corpus/documents/{change}"]


def write_batch(db: Any, batch: list[Item], run_id: int | None) -> Counter:
    """Write ``batch`` in one transaction, each item in its own savepoint; returns its counts (stat
    name -> count). Never raises: an item that cannot be stored is rolled back alone, logged and
    counted as ``corpus/store_errors``; a transaction that fails as a whole counts the whole batch."""
    counts: Counter = Counter()
    try:
        with write_transaction(db):
            for item in batch:
                try:
                    with write_transaction(db):  # nested: a savepoint
                        if isinstance(item, DocumentItem):
                            counts.update(_store_document(db, item, run_id))
                        else:
                            counts.update(_store_capture(db, item, run_id))
                except Exception:
                    capture = item.capture if isinstance(item, DocumentItem) else item
                    log.exception("could not store capture %s %s", capture.timestamp, capture.original_url)
                    counts["corpus/store_errors"] += 1
    except Exception:  # disk full, locked for too long...: nothing of this batch is stored
        log.exception("could not store a batch of %d captures; the next crawl fetches them again", len(batch))
        return Counter({"corpus/store_errors": len(batch)})
    return counts


def _serve(connection: Any, db_path: str, run_id: int | None) -> None:
    """The writer process: batches in, counts out, until the crawl says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s [corpus-writer] %(levelname)s: %(message)s")
    db = open_corpus(db_path)
    try:
        while True:
            try:
                batch = connection.recv()
            except (EOFError, OSError):  # the crawl's process is gone
                break
            if batch is None:
                break
            connection.send(write_batch(db, batch, run_id))
    finally:
        db.close()


class WriterDied(RuntimeError):
    """The writer process is gone (killed, crashed)."""


class WriterProcess:
    """A writer process for one crawl. ``send(batch)`` hands a batch over; ``settle()`` waits for the
    batch handed over last to commit and returns its counts; ``close()`` settles and stops it. The
    first two raise :class:`WriterDied` when the process is gone."""

    def __init__(self, db_path: str | Path, run_id: int | None) -> None:
        context = multiprocessing.get_context("forkserver")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, str(db_path), run_id),
                                       name="corpus-writer", daemon=False)
        self.process.start()
        child.close()
        self.in_flight = False

    def settle(self) -> Counter:
        if not self.in_flight:
            return Counter()
        self.in_flight = False
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            raise WriterDied("the corpus writer process died before its batch committed") from None

    def send(self, batch: list[Item]) -> None:
        self.settle()  # one batch at a time (callers settle first to read the counts)
        try:
            self.connection.send(batch)
        except OSError:
            raise WriterDied("the corpus writer process is gone") from None
        self.in_flight = True

    def close(self) -> Counter:
        try:
            return self.settle()
        finally:
            with contextlib.suppress(OSError):  # a writer that died has nothing to stop
                self.connection.send(None)
            self.process.join(timeout=60)
            self.connection.close()
