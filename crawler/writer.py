"""Writing the crawl's items to the corpus, a batch per transaction: here, or in a writer process.

:func:`write_batch` writes one batch in one transaction, each item in its own savepoint, and returns
the batch's counts. :class:`WriterProcess` runs it in a child process of its own, so the crawl's
process (which runs Scrapy's engine on one core) only hands the batch over: SQLite, FTS5 indexing
and zlib then run on another core. One batch is in flight at a time, in order; the next waits for
the one before it to commit, so a writer that falls behind holds the engine back instead of piling
batches up in memory.

The crawl's process keeps the batch it handed over until the writer confirms it. If the writer dies
(killed, crashed) that batch comes back with :class:`WriterDied`, to be written again elsewhere: the
upserts are idempotent, so a batch that had committed just before the writer died is written again
as unchanged, and nothing is lost or counted twice.

The writer ignores Ctrl-C (the crawl's process closes it once the last batch is written) and ends
when the crawl's process goes away: a crawl killed outright loses at most the batches not yet
written, never what is stored.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .items import CaptureItem, DocumentItem
from .processes import forkserver_context
from .store import open_corpus, upsert_capture, upsert_document, write_transaction

log = logging.getLogger(__name__)

Item = DocumentItem | CaptureItem


def capture_row(capture: CaptureItem, run_id: int | None) -> dict[str, Any]:
    return {**capture.to_row(), "run_id": run_id}  # upsert_capture encodes the headers and the body


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
            connection.send((write_batch(db, batch, run_id), time.process_time()))
    finally:
        db.close()


class WriterDied(RuntimeError):
    """The writer process is gone (killed, crashed). ``unconfirmed``: the items handed over that it
    had not confirmed stored, to be written again; ``counts``: those of a batch it did confirm."""

    def __init__(self, message: str, unconfirmed: list[Item], counts: Counter | None = None) -> None:
        super().__init__(message)
        self.unconfirmed = unconfirmed
        self.counts = counts or Counter()


class WriterProcess:
    """A writer process for one crawl. ``submit(batch)`` waits for the batch before it to commit,
    hands ``batch`` over and returns the earlier batch's counts; ``close()`` returns the last batch's
    counts and stops the process. Both raise :class:`WriterDied` when the process is gone."""

    def __init__(self, db_path: str | Path, run_id: int | None) -> None:
        context = forkserver_context()
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, str(db_path), run_id),
                                       name="corpus-writer", daemon=False)
        self.process.start()
        child.close()
        self.held: list[Item] = []  # the batch handed over and not yet confirmed
        self.cpu_seconds = 0.0  # CPU time the writer had spent when it last confirmed a batch

    def _settle(self) -> Counter:
        held, self.held = self.held, []
        if not held:
            return Counter()
        try:
            counts, self.cpu_seconds = self.connection.recv()
            return counts
        except (EOFError, OSError):
            raise WriterDied("the corpus writer process died before it confirmed its batch", held) from None

    def submit(self, batch: list[Item]) -> Counter:
        counts = self._settle()
        try:
            self.connection.send(batch)
        except OSError:  # ``batch`` never reached it: still the caller's to write
            raise WriterDied("the corpus writer process is gone", [], counts) from None
        self.held = batch
        return counts

    def close(self) -> Counter:
        try:
            return self._settle()
        finally:
            with contextlib.suppress(OSError):  # a writer that died has nothing to stop
                self.connection.send(None)
            self.process.join(timeout=60)
            self.connection.close()
