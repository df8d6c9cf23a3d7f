"""The seed record's shape, in and out of the store.

Researchers read and write records by the seed record's field names (``title``, ``resulting_text``,
``input_url``, ``returned_url``, ``date``, ``translated_title``, ``translated_content``,
``english_summary``, ``html``); the store keeps more (see :mod:`crawler.store.schema`).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import json
import re
import zlib
from base64 import b32encode
from collections.abc import Iterator, Mapping
from typing import Any

import sqlite_utils

from ..urls import canonical_url, section_of, site_of, urlkey
from ..wayback.urls import parse_input_url, parse_wayback_url, public_url
from .documents import decompress_body, upsert_capture, upsert_document

SEED_FIELDS = (
    "title",
    "resulting_text",
    "input_url",
    "returned_url",
    "date",
    "translated_title",
    "translated_content",
    "english_summary",
    "html",
)

_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[ T](\d{2}):?(\d{2}):?(\d{2}))?")


def ts14_to_datetime(ts: str) -> str:
    """``20231221091931`` -> ``2023-12-21 09:19:31`` (short timestamps padded as Wayback does)."""
    ts = (ts + "00000000000000")[:14] if ts else ""
    if len(ts) != 14:
        return ""
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]} {ts[8:10]}:{ts[10:12]}:{ts[12:14]}"


def normalise_date(value: str | None) -> str | None:
    """A publish date as stored: ``YYYY-MM-DD``, or ``YYYY-MM-DD HH:MM:SS`` when it has a real time."""
    if not value:
        return None
    m = _DATE.match(value.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    day = f"{y}-{mo}-{d}"
    if hh is None or (hh, mm, ss) == ("00", "00", "00"):
        return day
    return f"{day} {hh}:{mm}:{ss}"


def seed_date(publish_date: str | None, capture_timestamp: str | None) -> str | None:
    """The seed record's ``date``: the publish date in ``YYYY-MM-DD HH:MM:SS`` form, else the capture's."""
    if publish_date:
        return publish_date if len(publish_date) > 10 else f"{publish_date} 00:00:00"
    return ts14_to_datetime(capture_timestamp) if capture_timestamp else None


def payload_digest(body: bytes) -> str:
    """The CDX ``digest`` of a payload: base32 of its SHA-1."""
    return b32encode(hashlib.sha1(body).digest()).decode("ascii")


def import_record(db: sqlite_utils.Database, record: Mapping[str, Any], run_id: int | None = None) -> tuple[int, str]:
    """Store one record in the seed's shape (a capture row for its provenance, and the document).

    The caller holds the write transaction. Returns (document id, inserted/updated/unchanged).
    """
    missing = [f for f in ("title", "resulting_text", "returned_url") if not record.get(f)]
    if missing:
        raise ValueError(f"record lacks {', '.join(missing)}")
    returned = parse_wayback_url(record["returned_url"])
    if returned is None:
        raise ValueError(f"returned_url is not a Wayback URL: {record['returned_url']!r}")
    requested = parse_input_url(record["input_url"]) if record.get("input_url") else None
    original = returned.original
    requested_ts = requested.timestamp if requested else returned.timestamp
    html = record.get("html")
    body = html.encode("utf-8") if isinstance(html, str) else None
    capture_id = upsert_capture(
        db,
        {
            "urlkey": urlkey(original),
            "timestamp": returned.timestamp,
            "requested_timestamp": requested_ts,
            "original_url": original,
            "canonical_url": canonical_url(original),
            "wayback_url": public_url(returned.timestamp, original),
            "status": 200,
            "mimetype": "text/html",
            "digest": payload_digest(body) if body is not None else None,
            "body": body,
            "outcome": "imported",
            "run_id": run_id,
        },
    )
    translated = {
        key: record.get(key)
        for key in ("translated_title", "translated_content", "english_summary")
        if record.get(key)
    }
    doc = {
        "url": canonical_url(original),
        "site": site_of(original),
        "section": section_of(original),
        "title": record["title"],
        "resulting_text": record["resulting_text"],
        "publish_date": normalise_date(record.get("date")),
        "language": record.get("language") or "zh",
        "language_method": "import",
        "extractor": "import",
        "capture_id": capture_id,
        "original_url": original,
        "capture_timestamp": returned.timestamp,
        "requested_timestamp": requested_ts,
        "input_url": record.get("input_url") or f"{requested_ts}/{original}",
        "returned_url": public_url(returned.timestamp, original),
        "first_seen": returned.timestamp,
        "last_seen": returned.timestamp,
        **translated,
    }
    if "english_summary" in translated:
        doc["english_summary_kind"] = "import"
    doc_id, change = upsert_document(db, doc)
    db.execute("UPDATE captures SET document_id = ? WHERE id = ?", [doc_id, capture_id])
    return doc_id, change


def seed_record(row: Mapping[str, Any], html: str | None = None) -> dict[str, Any]:
    """A document row (plus, optionally, its page) in the seed record's shape, seed fields first."""
    out: dict[str, Any] = {
        "title": row.get("title"),
        "resulting_text": row.get("resulting_text"),
        "input_url": row.get("input_url"),
        "returned_url": row.get("returned_url"),
        "date": seed_date(row.get("publish_date"), row.get("capture_timestamp")),
        "translated_title": row.get("translated_title"),
        "translated_content": row.get("translated_content"),
        "english_summary": row.get("english_summary"),
        "html": html,
    }
    return out


def get_record(db: sqlite_utils.Database, url: str, with_html: bool = False) -> dict[str, Any] | None:
    """The stored document for ``url`` (any spelling) in the seed's shape, with every stored field after
    the seed's own; None when there is none."""
    rows = list(db.query("SELECT * FROM documents WHERE url = ?", [canonical_url(url)]))
    if not rows:
        return None
    row = rows[0]
    html = _page_html(db, row.get("capture_id"), row.get("charset")) if with_html else None
    record = seed_record(row, html)
    for key, value in row.items():
        if key in ("policy_links", "attachments") and value:
            value = json.loads(value)
        record.setdefault(key, value)
    return record


def iter_documents(db: sqlite_utils.Database, where: str = "", params: list | None = None) -> Iterator[dict]:
    sql = "SELECT * FROM documents" + (f" WHERE {where}" if where else "") + " ORDER BY id"
    yield from db.query(sql, params or [])


def _page_html(db: sqlite_utils.Database, capture_id: int | None, charset: str | None) -> str | None:
    if capture_id is None:
        return None
    row = db.execute("SELECT body FROM captures WHERE id = ?", [capture_id]).fetchone()
    return page_text(row[0], charset) if row else None


def page_text(blob: bytes | None, charset: str | None) -> str | None:
    """A stored capture body as text: decompressed, un-gzipped if the archive served it so, decoded with
    the charset that decoded it at extraction (GB2312/GBK read as their superset GB18030)."""
    raw = decompress_body(blob)
    if raw is None:
        return None
    if raw[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):  # not gzip after all: keep the bytes
            raw = gzip.decompress(raw)
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    return raw.decode("gb18030" if codec in ("gb2312", "gbk") else codec, errors="replace")
