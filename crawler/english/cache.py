"""The translation cache: an identical piece of text is translated once per engine, model and prompt.

Entries are written as soon as a piece is translated, each in its own short transaction, so a run
killed in the middle of a long document keeps the pieces it had finished.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlite_utils

from ..store import write_transaction
from ..store.schema import now_iso
from .records import ensure_tables


def cache_key(text: str, *, engine: str, model: str, kind: str, prompt: str) -> str:
    """SHA-256 of everything that decides the answer: the text, engine, model, and the prompt around it."""
    blob = "\x1f".join((engine, model, kind, prompt, text))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class TranslationCache:
    db: sqlite_utils.Database
    reuse: bool = True  # False: translate afresh (and overwrite the stored entries)
    hits: int = 0
    misses: int = 0

    def __post_init__(self) -> None:
        ensure_tables(self.db)
        self._memo: dict[str, str] = {}  # dedupes within a run even when not reusing the table

    def get(self, key: str) -> str | None:
        found = self._memo.get(key)
        if found is None and self.reuse:
            row = self.db.execute("SELECT translation FROM translation_cache WHERE key = ?", [key]).fetchone()
            found = row[0] if row else None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, *, source: str, translation: str, engine: str, model: str, kind: str, version: str) -> None:
        self._memo[key] = translation
        with write_transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO translation_cache "
                "(key, engine, model, kind, source, translation, version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [key, engine, model, kind, source, translation, version, now_iso()],
            )
