"""What this package writes into the corpus besides the documents' English fields.

Two tables beside ``documents``:

``translation_cache``: every piece of text translated, keyed by a hash of the text, the engine, the
model and the prompt (glossary lines included), so an identical paragraph is translated once.
``english_checks``: per document, the glossary check of its translation, the Chinese words its
translation still holds, and why it has no summary.
Both are created on first use (``CREATE TABLE IF NOT EXISTS``), in the same write transaction style
as every other write.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import sqlite_utils

from ..store import write_transaction
from ..store.schema import now_iso
from .answers import chinese_words
from .engines import Engine
from .glossary import Glossary

TABLES_SQL = (
    """CREATE TABLE IF NOT EXISTS translation_cache (
        key TEXT PRIMARY KEY,
        engine TEXT NOT NULL,
        model TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        translation TEXT NOT NULL,
        version TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS english_checks (
        document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        glossary TEXT,
        glossary_violations INTEGER,
        glossary_missing TEXT,
        chinese_left INTEGER,
        summary_note TEXT,
        checked_at TEXT
    )""",
)


def ensure_tables(db: sqlite_utils.Database) -> None:
    if {"translation_cache", "english_checks"} <= set(db.table_names()):
        return
    with write_transaction(db):
        for sql in TABLES_SQL:
            db.execute(sql)


def provenance(prefix: str, engine: Engine) -> dict[str, str]:
    """The ``{prefix}_engine``, ``_model``, ``_version`` and ``_at`` fields for what ``engine`` made."""
    return {
        f"{prefix}_engine": engine.name,
        f"{prefix}_model": engine.model,
        f"{prefix}_version": engine.version,
        f"{prefix}_at": now_iso(),
    }


def record_glossary_check(
    db: sqlite_utils.Database, doc_id: int, glossary: Glossary, pairs: list[tuple[str, str | None, str | None]]
) -> int:
    """Store the checks of one document's fields ``(field, source, translation)``: glossary entries
    missed, Chinese words left. The caller holds the write transaction. Returns the violations."""
    missing = [
        {"field": name, "chinese": e.chinese, "english": e.english}
        for name, source, translation in pairs
        if translation is not None
        for e in glossary.violations(source, translation)
    ]
    left = sum(len(chinese_words(translation)) for _, _, translation in pairs)
    db.execute(
        "INSERT INTO english_checks (document_id, glossary, glossary_violations, glossary_missing, chinese_left, "
        "checked_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(document_id) DO UPDATE SET glossary = excluded.glossary, "
        "glossary_violations = excluded.glossary_violations, glossary_missing = excluded.glossary_missing, "
        "chinese_left = excluded.chinese_left, checked_at = excluded.checked_at",
        [doc_id, glossary.digest, len(missing), json.dumps(missing, ensure_ascii=False), left, now_iso()],
    )
    return len(missing)


def set_summary_note(db: sqlite_utils.Database, doc_id: int, note: str | None) -> None:
    """Why a document has no (or only a fallback) summary; None clears it. The caller holds the transaction."""
    db.execute(
        "INSERT INTO english_checks (document_id, summary_note, checked_at) VALUES (?, ?, ?) "
        "ON CONFLICT(document_id) DO UPDATE SET summary_note = excluded.summary_note, checked_at = excluded.checked_at",
        [doc_id, note, now_iso()],
    )


def run_counts(counts: Counter, started: float) -> dict[str, float | int]:
    """The counts of a run as logged in ``crawl_runs``: the non-zero ones, and the seconds so far."""
    out: dict[str, float | int] = {k: v for k, v in counts.items() if v}
    out["seconds"] = round(time.monotonic() - started, 1)
    return out
