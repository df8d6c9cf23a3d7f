"""Writing documents and captures: idempotent upserts that keep both search indexes in step."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any, Literal

import sqlite_utils

from .schema import CAPTURE_COLUMNS, DOCUMENT_COLUMNS, now_iso
from .segment import segment

Change = Literal["inserted", "updated", "unchanged"]

# Fields that say when or from where, not what: they never make a document "changed".
_VOLATILE = {"id", "first_seen", "last_seen", "created_at", "updated_at", "content_hash"}
_TITLE_TRANSLATION = [c for c in DOCUMENT_COLUMNS if c.startswith("translated_title")]
_BODY_TRANSLATION = [
    c for c in DOCUMENT_COLUMNS if c.startswith(("translated_content", "english_summary"))
]
_JSON_FIELDS = ("policy_links", "attachments")


def _normalise(doc: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(doc) - set(DOCUMENT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown document fields: {sorted(unknown)}")
    out = dict(doc)
    for key in _JSON_FIELDS:
        value = out.get(key)
        if value is not None and not isinstance(value, str):
            out[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return out


def _sql_value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list | tuple) else value


# The crawl writes a row per capture: plain prepared statements here, because sqlite-utils'
# ``table.insert``/``update`` spend more time inspecting the schema (three queries a call) and
# checking the row exists than SQLite spends writing it. Column names are checked against the
# schema's lists by the callers before they reach these.
def _insert_row(db: sqlite_utils.Database, table: str, values: Mapping[str, Any]) -> int:
    columns = ", ".join(f'"{c}"' for c in values)
    marks = ", ".join("?" for _ in values)
    cursor = db.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', [_sql_value(v) for v in values.values()])
    return cursor.lastrowid


def _update_row(db: sqlite_utils.Database, table: str, row_id: int, values: Mapping[str, Any]) -> None:
    if not values:
        return
    assignments = ", ".join(f'"{c}" = ?' for c in values)
    db.execute(f'UPDATE "{table}" SET {assignments} WHERE id = ?', [*map(_sql_value, values.values()), row_id])


def content_hash(doc: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in doc.items() if k not in _VOLATILE}
    blob = json.dumps(stable, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def _min(a: str | None, b: str | None) -> str | None:
    return min(x for x in (a, b) if x) if (a or b) else None


def _max(a: str | None, b: str | None) -> str | None:
    return max(x for x in (a, b) if x) if (a or b) else None


def upsert_document(db: sqlite_utils.Database, doc: Mapping[str, Any]) -> tuple[int, Change]:
    """Insert or update the document keyed by ``doc["url"]``; returns its id and what happened.

    Only the fields given are written. When the Chinese title or body changes and the caller gives
    no new translation of it, the old translation is cleared so the document is pending again.
    Must run inside a write transaction (see :func:`write_transaction`) so that the row and its
    index entries land together.
    """
    doc = _normalise(doc)
    if not doc.get("url"):
        raise ValueError("a document needs its canonical url")
    digest = content_hash(doc)
    now = now_iso()
    row = db.execute(
        "SELECT id, title, resulting_text, content_hash, first_seen, last_seen FROM documents WHERE url = ?",
        [doc["url"]],
    ).fetchone()
    if row is None:
        values = {**doc, "content_hash": digest, "created_at": now, "updated_at": now}
        values.pop("id", None)
        doc_id = _insert_row(db, "documents", values)
        _index_zh(db, doc_id, values.get("title"), values.get("resulting_text"))
        return doc_id, "inserted"

    doc_id, old_title, old_body, old_hash, first_seen, last_seen = row
    seen = {
        "first_seen": _min(first_seen, doc.get("first_seen")),
        "last_seen": _max(last_seen, doc.get("last_seen")),
    }
    if old_hash == digest:
        if seen != {"first_seen": first_seen, "last_seen": last_seen}:
            _update_row(db, "documents", doc_id, seen)
        return doc_id, "unchanged"

    values = {k: v for k, v in doc.items() if k not in ("id", "url")}
    title_changed = "title" in doc and doc["title"] != old_title
    body_changed = "resulting_text" in doc and doc["resulting_text"] != old_body
    if title_changed and "translated_title" not in doc:
        values.update(dict.fromkeys(_TITLE_TRANSLATION))
    if body_changed and "translated_content" not in doc:
        values.update(dict.fromkeys(_BODY_TRANSLATION))
    values.update(seen, content_hash=digest, updated_at=now)
    if title_changed or body_changed:
        _unindex_zh(db, doc_id, old_title, old_body)
    _update_row(db, "documents", doc_id, values)
    if title_changed or body_changed:
        _index_zh(db, doc_id, doc.get("title", old_title), doc.get("resulting_text", old_body))
    return doc_id, "updated"


def update_document_fields(db: sqlite_utils.Database, doc_id: int, values: Mapping[str, Any]) -> None:
    """Set fields that are not the Chinese text (translations, summaries, links) on one document."""
    if {"title", "resulting_text", "url"} & set(values):
        raise ValueError("use upsert_document to change a document's url, title or text")
    values = _normalise(values)
    _update_row(db, "documents", doc_id, {**values, "updated_at": now_iso()})


def _index_zh(db: sqlite_utils.Database, doc_id: int, title: str | None, body: str | None) -> None:
    db.execute(
        "INSERT INTO documents_zh_fts(rowid, title, resulting_text) VALUES (?, ?, ?)",
        [doc_id, segment(title), segment(body)],
    )


def _unindex_zh(db: sqlite_utils.Database, doc_id: int, title: str | None, body: str | None) -> None:
    # A contentless FTS5 table forgets a row only when given the exact values it indexed.
    db.execute(
        "INSERT INTO documents_zh_fts(documents_zh_fts, rowid, title, resulting_text) "
        "VALUES ('delete', ?, ?, ?)",
        [doc_id, segment(title), segment(body)],
    )


def delete_document(db: sqlite_utils.Database, doc_id: int) -> None:
    row = db.execute("SELECT title, resulting_text FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None:
        return
    _unindex_zh(db, doc_id, *row)
    db.execute("UPDATE captures SET document_id = NULL WHERE document_id = ?", [doc_id])
    db["documents"].delete(doc_id)


def compress_body(body: bytes | None) -> bytes | None:
    return None if body is None else zlib.compress(body, 6)


def decompress_body(blob: bytes | None) -> bytes | None:
    return None if blob is None else zlib.decompress(blob)


def upsert_capture(db: sqlite_utils.Database, capture: Mapping[str, Any], *, only_if_new: bool = False) -> int:
    """Insert or update the capture keyed by (urlkey, timestamp, digest); returns its id.

    ``body`` is given raw and stored zlib-compressed; ``response_headers`` may be a dict.
    ``only_if_new`` leaves an existing row as it is (a capture skipped this run keeps the outcome
    an earlier run gave it).
    """
    values = dict(capture)
    unknown = set(values) - set(CAPTURE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown capture fields: {sorted(unknown)}")
    values.pop("id", None)
    key = [values["urlkey"], values["timestamp"], values.get("digest")]
    row = db.execute(
        "SELECT id FROM captures WHERE urlkey = ? AND timestamp = ? AND digest IS ?", key
    ).fetchone()
    if row is not None and only_if_new:
        return row[0]
    if isinstance(values.get("response_headers"), Mapping):
        values["response_headers"] = json.dumps(values["response_headers"], ensure_ascii=False)
    if values.get("body") is not None:
        raw = values["body"]
        values["body_size"] = len(raw)
        values["body"] = compress_body(raw)
    values.setdefault("fetched_at", now_iso())
    if row is None:
        return _insert_row(db, "captures", values)
    _update_row(db, "captures", row[0], values)
    return row[0]
