"""What the corpus holds: documents by section, year, language and translation state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlite_utils

from .schema import schema_version

_YEAR = "substr(coalesce(publish_date, capture_timestamp), 1, 4)"
_TRANSLATION_STATE = """
    CASE
      WHEN language = 'en' THEN 'english original'
      WHEN translated_title IS NOT NULL AND translated_content IS NOT NULL THEN 'translated'
      WHEN translation_error IS NOT NULL THEN 'failed'
      ELSE 'pending'
    END
"""
_SUMMARY_STATE = "CASE WHEN english_summary IS NULL THEN 'missing' ELSE coalesce(english_summary_kind, 'unknown') END"


@dataclass
class CorpusStats:
    path: str
    schema_version: int
    documents: int
    captures: int
    size_bytes: int
    by_section: dict[str, int] = field(default_factory=dict)
    by_year: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)
    by_translation: dict[str, int] = field(default_factory=dict)
    by_summary: dict[str, int] = field(default_factory=dict)
    captures_by_outcome: dict[str, int] = field(default_factory=dict)
    last_run: dict | None = None

    @property
    def pending_translation(self) -> int:
        return self.by_translation.get("pending", 0) + self.by_translation.get("failed", 0)

    def to_dict(self) -> dict:
        return {**asdict(self), "pending_translation": self.pending_translation}


def _group(db: sqlite_utils.Database, expr: str, table: str = "documents", order: str = "n DESC") -> dict[str, int]:
    sql = f"SELECT coalesce({expr}, '(unknown)') AS k, count(*) AS n FROM {table} GROUP BY k ORDER BY {order}"
    return {str(k): n for k, n in db.execute(sql).fetchall()}


RUN_SUMMARY_KEYS = {
    "corpus/found/urls": "found",
    "corpus/fetched": "fetched",
    "corpus/captures/stored": "stored",
    "ledger/known": "known",
    "ledger/duplicate": "duplicates",
    "corpus/captures/rejected": "rejected",
    "corpus/captures/error": "errors",
    "read": "read",
    "inserted": "inserted",
    "updated": "updated",
    "unchanged": "unchanged",
    "rejected": "rejected",
}


def run_summary(counts: dict) -> str:
    """The few figures of a run worth a line: found, fetched, stored, ... (or read, inserted, ...)."""
    parts = [f"{label} {counts[key]:,}" for key, label in RUN_SUMMARY_KEYS.items() if counts.get(key)]
    for key, value in counts.items():
        if key not in RUN_SUMMARY_KEYS and isinstance(value, int) and "/" not in key and ":" not in key:
            parts.append(f"{key} {value:,}")
    return ", ".join(parts) or "nothing done"


def corpus_stats(db: sqlite_utils.Database) -> CorpusStats:
    path = db.execute("PRAGMA database_list").fetchone()[2]
    last = list(db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1"))
    last_run = None
    if last:
        last_run = dict(last[0])
        for key in ("arguments", "counts"):
            if last_run.get(key):
                last_run[key] = json.loads(last_run[key])
    return CorpusStats(
        path=path,
        schema_version=schema_version(db),
        documents=db["documents"].count,
        captures=db["captures"].count,
        size_bytes=Path(path).stat().st_size if path and Path(path).exists() else 0,
        by_section=_group(db, "section"),
        by_year=_group(db, _YEAR, order="k DESC"),
        by_language=_group(db, "language"),
        by_translation=_group(db, _TRANSLATION_STATE),
        by_summary=_group(db, _SUMMARY_STATE),
        captures_by_outcome=_group(
            db, "outcome || CASE WHEN outcome IN ('rejected', 'error') THEN coalesce(': ' || reason, '') ELSE '' END",
            table="captures",
        ),
        last_run=last_run,
    )
