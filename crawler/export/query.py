"""The one streaming query behind every export format, with its filters.

Rows come from a single SQLite cursor, one at a time, so memory stays flat whatever the corpus size.
Documents are joined to the capture they were taken from (for its digest and, with ``--with-html``,
its archived bytes); the WARC export walks the stored captures of the same filtered documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..store.documents import decompress_body
from ..store.records import page_text, seed_record, ts14_to_datetime
from ..store.schema import DOCUMENT_COLUMNS
from ..store.search import match_expression, matching_ids_sql
from .fields import DERIVED, FIELD_NAMES, FIELDS

_DATE_BOUND = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_LINK_FIELDS = [f.name for f in FIELDS if f.kind == "links"]
_DOC_COLUMNS = [n for n in FIELD_NAMES if n not in DERIVED and n in DOCUMENT_COLUMNS]
assert set(_DOC_COLUMNS) | DERIVED == set(FIELD_NAMES), "every exported field needs a source"

# The document's date for filtering: its publish date, else its capture's day.
_DAY = (
    "COALESCE(NULLIF(d.publish_date, ''), CASE WHEN d.capture_timestamp IS NOT NULL THEN "
    "substr(d.capture_timestamp, 1, 4) || '-' || substr(d.capture_timestamp, 5, 2) || '-' || "
    "substr(d.capture_timestamp, 7, 2) END)"
)
_SECTION_PATH = "substr(d.section, instr(d.section, ':') + 1)"
# Captures a WARC export carries: those that hold a page that was kept.
EXPORTABLE_OUTCOMES = ("stored", "imported")


@dataclass
class ExportFilters:
    """Which documents to export. Empty filters export everything.

    ``since``/``until`` are inclusive bounds on the publish date (else the capture date) written
    ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; ``until="2023"`` includes all of 2023. ``departments``
    and ``sections`` match any of their values (a section also matches its sub-sections);
    ``language`` is the document's language (zh, en, other); ``query`` is searched exactly as
    ``corpus search`` does (Chinese substrings, stemmed English), in ``query_lang`` or the query's
    own language.
    """

    since: str | None = None
    until: str | None = None
    departments: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    language: str | None = None
    query: str | None = None
    query_lang: str | None = None
    limit: int | None = None

    def describe(self) -> dict[str, Any]:
        """The filters that are set, for logs and the dataset card."""
        out = {
            "since": self.since,
            "until": self.until,
            "department": list(self.departments) or None,
            "section": list(self.sections) or None,
            "language": self.language,
            "query": self.query,
            "query_lang": self.query_lang,
            "limit": self.limit,
        }
        return {k: v for k, v in out.items() if v}


def where_clause(filters: ExportFilters) -> tuple[str, list[Any]]:
    """SQL conditions on ``documents d`` for ``filters`` (``"1"`` when none), and their parameters.

    Raises ValueError on a malformed date bound or a query with nothing searchable in it.
    """
    conditions: list[str] = []
    params: list[Any] = []
    for name, value, op in (("since", filters.since, ">="), ("until", filters.until, "<=")):
        if value is None:
            continue
        if not _DATE_BOUND.match(value):
            raise ValueError(f"--{name} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
        # Comparing the same-length prefix makes "2023" and "2023-05" whole periods at either end.
        conditions.append(f"substr({_DAY}, 1, {len(value)}) {op} ?")
        params.append(value)
    if filters.since and filters.until and _starts_after(filters.since, filters.until):
        raise ValueError(f"--since {filters.since} is after --until {filters.until}")
    if filters.departments:
        conditions.append(f"d.department IN ({', '.join('?' * len(filters.departments))})")
        params.extend(filters.departments)
    if filters.sections:
        parts = []
        for section in filters.sections:
            section = section.strip("/")
            # Sections off the main site read "fms:zcjd": a section given without a site matches any site.
            column = "d.section" if ":" in section else _SECTION_PATH
            parts.append(f"({column} = ? OR {column} LIKE ? ESCAPE '\\')")
            params.extend([section, _like_escape(section) + "/%"])
        conditions.append("(" + " OR ".join(parts) + ")")
    if filters.language:
        conditions.append("d.language = ?")
        params.append(filters.language)
    if filters.query is not None:
        lang, match = match_expression(filters.query, filters.query_lang)  # type: ignore[arg-type]
        if not match:
            raise ValueError(f"--query {filters.query!r} has nothing searchable in it")
        conditions.append(f"d.id IN ({matching_ids_sql(lang)})")
        params.append(match)
    return (" AND ".join(conditions) or "1"), params


def _starts_after(since: str, until: str) -> bool:
    n = min(len(since), len(until))
    return since[:n] > until[:n]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _limit(filters: ExportFilters) -> str:
    return f" LIMIT {int(filters.limit)}" if filters.limit is not None else ""


def count_documents(db: sqlite_utils.Database, filters: ExportFilters) -> int:
    where, params = where_clause(filters)
    sql = f"SELECT count(*) FROM (SELECT d.id FROM documents d WHERE {where}{_limit(filters)})"
    return db.execute(sql, params).fetchone()[0]


def iter_records(
    db: sqlite_utils.Database, filters: ExportFilters, *, with_html: bool = False
) -> Iterator[dict[str, Any]]:
    """The export records of the documents matching ``filters``, in id order, one at a time.

    Each record has :data:`~crawler.export.fields.FIELD_NAMES` as keys, in order; ``policy_links``
    and ``attachments`` are lists. ``html`` is the archived page decoded with the stored charset
    when ``with_html``, else None.
    """
    where, params = where_clause(filters)
    body = "c.body" if with_html else "NULL"
    columns = ", ".join(f"d.{c}" for c in _DOC_COLUMNS)
    sql = (
        f"SELECT {columns}, c.digest AS digest, {body} AS body "
        f"FROM documents d LEFT JOIN captures c ON c.id = d.capture_id "
        f"WHERE {where} ORDER BY d.id{_limit(filters)}"
    )
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        yield make_record(row, page_text(row["body"], row.get("charset")) if with_html else None)


def make_record(row: dict[str, Any], html: str | None = None) -> dict[str, Any]:
    """One export record from a joined documents/captures row."""
    record = seed_record(row, html)
    for name in FIELD_NAMES[len(record):]:
        record[name] = row.get(name)
    record["capture_date"] = ts14_to_datetime(row.get("capture_timestamp") or "") or None
    record["requested_date"] = ts14_to_datetime(row.get("requested_timestamp") or "") or None
    for name in _LINK_FIELDS:
        record[name] = parse_links(record[name])
    return record


def parse_links(value: str | None) -> list[dict[str, Any]]:
    """A stored JSON list of links; [] when there is none. A corrupt value is an error, not a skip."""
    if not value:
        return []
    links = json.loads(value)
    if not isinstance(links, list):
        raise ValueError(f"stored link list is not a JSON list: {value[:80]!r}")
    return links


def count_captures(db: sqlite_utils.Database, filters: ExportFilters) -> int:
    sql, params = _captures_sql(filters, "c.id")
    return db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]


def iter_captures(db: sqlite_utils.Database, filters: ExportFilters) -> Iterator[dict[str, Any]]:
    """The stored captures (outcome stored or imported, with a body) of the documents matching
    ``filters``, in id order, one at a time; ``body`` is the raw archived bytes. With no document
    filter, captures not tied to a document are included too."""
    columns = (
        "c.id, c.urlkey, c.timestamp, c.requested_timestamp, c.original_url, c.canonical_url, "
        "c.wayback_url, c.status, c.mimetype, c.digest, c.length, c.response_headers, c.body, "
        "c.body_size, c.fetched_at, c.outcome, c.document_id, d.url AS document_url"
    )
    sql, params = _captures_sql(filters, columns)
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["body"] = decompress_body(row["body"])
        yield row


def _captures_sql(filters: ExportFilters, columns: str) -> tuple[str, list[Any]]:
    where, params = where_clause(filters)
    # "+c.outcome": not through the outcome index, whose order would make SQLite sort every page
    # (bodies included) into a temporary B-tree before the first row; walking the table in id
    # order streams instead.
    outcomes = ", ".join(f"'{o}'" for o in EXPORTABLE_OUTCOMES)
    sql = (
        f"SELECT {columns} FROM captures c LEFT JOIN documents d ON d.id = c.document_id "
        f"WHERE +c.outcome IN ({outcomes}) AND c.body IS NOT NULL AND {where} "
        f"ORDER BY c.id{_limit(filters)}"
    )
    return sql, params
