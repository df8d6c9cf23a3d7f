"""The corpus schema, built and upgraded by numbered migrations.

``PRAGMA user_version`` holds the schema version and ``PRAGMA application_id`` marks the file as a
MOFCOM corpus, so a foreign SQLite file is never written to by mistake. Each migration runs in
one transaction: a corpus is either at the old version or at the new one, never in between.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from .segment import SEGMENTER_VERSION, segment
from .transaction import write_transaction

APPLICATION_ID = 0x4D4F4643  # "MOFC"

DOCUMENT_COLUMNS: dict[str, type] = {
    "id": int,
    "url": str,  # canonical URL: the key of the document
    "site": str,  # www, english, or the department sub-site (fms, wms, ec...)
    "section": str,  # column the page sits in: zwgk/gkzcjd, zhengcejd/bj, zcjd/gnmy...
    "title": str,
    "resulting_text": str,  # the cleaned body, paragraphs separated by blank lines
    "publish_date": str,  # the page's own date: YYYY-MM-DD or YYYY-MM-DD HH:MM:SS
    "source": str,  # 来源
    "department": str,  # issuing department (服贸司...)
    "document_number": str,  # 发文字号
    "index_number": str,  # 索引号
    "policy_links": str,  # JSON list of {"text", "url"}: the policy text(s) interpreted
    "attachments": str,  # JSON list of {"text", "url"}
    "english_url": str,  # link to the English version of the page
    "chinese_url": str,  # on English pages: link to the Chinese counterpart
    "language": str,  # zh / en / other
    "language_score": float,
    "language_method": str,  # han-share / langdetect / import
    "charset": str,  # the charset that decoded the page
    "extractor": str,  # which parser produced the record
    "extractor_version": str,
    "capture_id": int,  # the capture the document was taken from
    "original_url": str,  # URL as archived (captures.original_url of that capture)
    "capture_timestamp": str,  # TS14 of that capture
    "requested_timestamp": str,  # TS14 that was asked of the Wayback Machine
    "input_url": str,  # {requested_ts}/{original url}, as in the seed record
    "returned_url": str,  # https://web.archive.org/web/{capture_ts}/{original url}
    "first_seen": str,  # oldest capture timestamp of this article seen in the archive
    "last_seen": str,  # newest capture timestamp seen
    "translated_title": str,
    "translated_title_engine": str,
    "translated_title_model": str,
    "translated_title_version": str,
    "translated_title_at": str,
    "translated_content": str,
    "translated_content_engine": str,
    "translated_content_model": str,
    "translated_content_version": str,
    "translated_content_at": str,
    "english_summary": str,
    "english_summary_kind": str,  # extractive / abstractive / import
    "english_summary_engine": str,
    "english_summary_model": str,
    "english_summary_version": str,
    "english_summary_at": str,
    "translation_error": str,  # last failure of the translation step, if any
    "content_hash": str,  # SHA-1 of the stored fields: an unchanged reload writes nothing
    "created_at": str,
    "updated_at": str,
}

CAPTURE_COLUMNS: dict[str, type] = {
    "id": int,
    "urlkey": str,  # SURT key
    "timestamp": str,  # actual capture TS14 (Memento-Datetime)
    "requested_timestamp": str,  # TS14 asked for
    "original_url": str,
    "canonical_url": str,
    "wayback_url": str,  # public form: https://web.archive.org/web/{ts}/{original}
    "status": int,  # archived HTTP status (NULL for a '-' revisit row)
    "mimetype": str,
    "digest": str,  # CDX digest: base32 SHA-1 of the payload
    "length": int,  # CDX length (WARC record size)
    "response_headers": str,  # JSON object of the archived response headers
    "body": bytes,  # raw archived bytes, zlib-compressed
    "body_size": int,  # size of the raw bytes before compression
    "fetched_at": str,
    "outcome": str,  # stored / duplicate / rejected / error / skipped / imported
    "reason": str,  # why rejected / errored / skipped
    "document_id": int,
    "run_id": int,
}

RUN_COLUMNS: dict[str, type] = {
    "id": int,
    "kind": str,  # crawl / load / translate / summarize
    "started_at": str,
    "finished_at": str,
    "status": str,  # running / finished / failed / interrupted
    "arguments": str,  # JSON
    "counts": str,  # JSON: found, fetched, stored, duplicates, rejected by reason...
    "error": str,
    "host": str,
    "version": str,
}
# Added by migration 4: the process id of the run (with host, tells a live run from a killed one).


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _m001_core_tables(db: sqlite_utils.Database) -> None:
    db["corpus_meta"].create({"key": str, "value": str}, pk="key")
    db["crawl_runs"].create(RUN_COLUMNS, pk="id")
    db["captures"].create(
        CAPTURE_COLUMNS,
        pk="id",
        not_null={"urlkey", "timestamp", "original_url", "outcome"},
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db["captures"].create_index(["urlkey", "timestamp", "digest"], unique=True)
    db["captures"].create_index(["canonical_url", "digest"])
    db["captures"].create_index(["outcome"])
    db["documents"].create(
        DOCUMENT_COLUMNS,
        pk="id",
        not_null={"url"},
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["documents"].create_index(["url"], unique=True)
    for column in ("publish_date", "section", "department", "language"):
        db["documents"].create_index([column])


def _m002_search_indexes(db: sqlite_utils.Database) -> None:
    # Chinese: contentless FTS5 over the segmented text (see segment.py). Its rows are written by
    # the store in the same transaction as the document row.
    db.execute(
        "CREATE VIRTUAL TABLE documents_zh_fts USING fts5("
        "title, resulting_text, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    for doc_id, title, body in db.execute("SELECT id, title, resulting_text FROM documents"):
        db.execute(
            "INSERT INTO documents_zh_fts(rowid, title, resulting_text) VALUES (?, ?, ?)",
            (doc_id, segment(title), segment(body)),
        )
    # English: external-content FTS5 with Porter stemming over the documents table, kept in sync by
    # triggers; Datasette finds it (content="documents") and uses it for the table's search box.
    db.execute(
        'CREATE VIRTUAL TABLE documents_en_fts USING fts5('
        'translated_title, translated_content, english_summary, '
        'content="documents", content_rowid="id", tokenize=\'porter unicode61 remove_diacritics 2\')'
    )
    cols = "translated_title, translated_content, english_summary"
    new = "new.translated_title, new.translated_content, new.english_summary"
    old = "old.translated_title, old.translated_content, old.english_summary"
    db.execute(
        f"CREATE TRIGGER documents_en_ai AFTER INSERT ON documents BEGIN "
        f"INSERT INTO documents_en_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    db.execute(
        f"CREATE TRIGGER documents_en_ad AFTER DELETE ON documents BEGIN "
        f"INSERT INTO documents_en_fts(documents_en_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    db.execute(
        f"CREATE TRIGGER documents_en_au AFTER UPDATE OF {cols} ON documents BEGIN "
        f"INSERT INTO documents_en_fts(documents_en_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO documents_en_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    db.execute("INSERT INTO documents_en_fts(documents_en_fts) VALUES ('rebuild')")
    db["corpus_meta"].upsert({"key": "segmenter_version", "value": str(SEGMENTER_VERSION)}, pk="key")


# The date a document sorts by: its publish date, else the day it was captured (as YYYY-MM-DD).
SORT_DATE_SQL = (
    "coalesce(publish_date, substr(capture_timestamp, 1, 4) || '-' || substr(capture_timestamp, 5, 2)"
    " || '-' || substr(capture_timestamp, 7, 2), '')"
)


def _m003_date_order(db: sqlite_utils.Database) -> None:
    # Search results come newest first: walking this index from the top and stopping after a page
    # of hits is what keeps a common two-character query fast on a large corpus.
    db.execute(f"CREATE INDEX idx_documents_sort_date ON documents({SORT_DATE_SQL}, id)")


def _m004_english_and_run_owners(db: sqlite_utils.Database) -> None:
    # The translation cache (one translation per text, engine and model) and the per-document checks
    # of the English (glossary violations, Chinese left in the answer).
    db.execute(
        "CREATE TABLE IF NOT EXISTS translation_cache (key TEXT PRIMARY KEY, engine TEXT NOT NULL, "
        "model TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, translation TEXT NOT NULL, "
        "version TEXT, created_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS english_checks (document_id INTEGER PRIMARY KEY REFERENCES documents(id) "
        "ON DELETE CASCADE, glossary TEXT, glossary_violations INTEGER, glossary_missing TEXT, "
        "chinese_left INTEGER, summary_note TEXT, checked_at TEXT)"
    )
    # Which process owns a running run: a crawl and a translation may run at once, and only a run
    # whose process is gone may be marked interrupted.
    db["crawl_runs"].add_column("pid", int)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m001_core_tables,
    _m002_search_indexes,
    _m003_date_order,
    _m004_english_and_run_owners,
]
LATEST_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, target: int = LATEST_VERSION) -> list[int]:
    """Bring ``db`` up to ``target``, one transaction per migration; returns the versions applied."""
    applied = []
    version = schema_version(db)
    while version < target:
        step = MIGRATIONS[version]
        with write_transaction(db):
            step(db)
            version += 1
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {version}")
            db["corpus_meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")
            db["corpus_meta"].upsert({"key": "migrated_at", "value": now_iso()}, pk="key")
        applied.append(version)
    return applied
