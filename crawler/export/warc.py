"""WARC: the stored captures as a standard web archive, replayable by any WARC tool.

One ``response`` record per stored capture (its archived HTTP headers and its raw bytes,
``WARC-Target-URI`` the original URL, ``WARC-Date`` the capture time), each followed by a
``metadata`` record (``WARC-Concurrent-To`` / ``WARC-Refers-To`` the response) carrying the capture's
Wayback URL and CDX row. Each record is gzipped on its own (warcio), so the file can be indexed and
read at any record's offset. Record ids derive from the capture, so the same capture always gets the
same id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .. import __version__
from ..store.records import payload_digest

# Hop-by-hop and transfer framing: the stored body is the de-chunked payload, its length recomputed.
_DROPPED_HEADERS = {"transfer-encoding", "content-length", "connection", "keep-alive"}
_WAYBACK_ORIG_PREFIX = "x-archive-orig-"
_RECORD_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-4d4f46434f52")


def warc_date(ts14: str) -> str:
    """``20231221091931`` -> ``2023-12-21T09:19:31Z`` (short timestamps padded as Wayback does)."""
    ts = (ts14 + "00000000000000")[:14]
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


def record_id(capture: Mapping[str, Any], kind: str) -> str:
    key = f"{capture['urlkey']} {capture['timestamp']} {capture['digest'] or ''} {kind}"
    return f"<urn:uuid:{uuid.uuid5(_RECORD_NAMESPACE, key)}>"


def archived_headers(stored: str | None, body: bytes, mimetype: str | None) -> list[tuple[str, str]]:
    """The capture's archived HTTP headers as (name, value) pairs, ready to frame ``body``.

    ``stored`` is ``captures.response_headers``: a JSON object, or a list of pairs. When it holds the
    Wayback playback's ``X-Archive-Orig-*`` copies, those are the archived headers. Framing headers
    are dropped and ``Content-Length`` set to the body's size; a claimed gzip ``Content-Encoding`` is
    dropped when the body is not gzip (the fetch already decoded it). With no stored headers, a minimal
    block is made from the CDX mimetype.
    """
    pairs: list[tuple[str, str]] = []
    if stored:
        value = json.loads(stored)
        items = value.items() if isinstance(value, Mapping) else value
        pairs = [(str(k), str(v)) for k, v in items]
    if any(k.lower().startswith(_WAYBACK_ORIG_PREFIX) for k, _ in pairs):
        orig = [(k[len(_WAYBACK_ORIG_PREFIX):], v) for k, v in pairs if k.lower().startswith(_WAYBACK_ORIG_PREFIX)]
        # Wayback passes Content-Type through unprefixed; the rest of its own headers are not archived.
        content_type = [(k, v) for k, v in pairs if k.lower() == "content-type"]
        pairs = content_type + [(k, v) for k, v in orig if k.lower() != "content-type"]
    if not pairs and mimetype:
        pairs = [("Content-Type", mimetype)]
    kept = []
    for name, val in pairs:
        lower = name.lower()
        if lower in _DROPPED_HEADERS:
            continue
        if lower == "content-encoding" and "gzip" in val.lower() and body[:2] != b"\x1f\x8b":
            continue
        kept.append((name, val))
    kept.append(("Content-Length", str(len(body))))
    return kept


def status_line(status: int | None) -> str:
    code = status or 200
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def cdx_line(capture: Mapping[str, Any], body: bytes) -> str:
    """The capture's CDX row: urlkey timestamp original mimetype statuscode digest length."""
    fields = [
        capture["urlkey"],
        capture["timestamp"],
        capture["original_url"].replace(" ", "%20"),
        capture.get("mimetype") or "-",
        str(capture["status"]) if capture.get("status") is not None else "-",
        capture.get("digest") or payload_digest(body),
        str(capture["length"]) if capture.get("length") is not None else "-",
    ]
    return " ".join(fields)


def metadata_fields(capture: Mapping[str, Any], body: bytes) -> bytes:
    lines = {
        "wayback-url": capture.get("wayback_url"),
        "cdx": cdx_line(capture, body),
        "requested-timestamp": capture.get("requested_timestamp"),
        "canonical-url": capture.get("canonical_url"),
        "document-url": capture.get("document_url"),
        "outcome": capture.get("outcome"),
        "fetched-at": capture.get("fetched_at"),
    }
    return "".join(f"{k}: {v}\r\n" for k, v in lines.items() if v).encode("utf-8")


def write_warc(
    captures: Iterable[Mapping[str, Any]], stream: BinaryIO, *, filename: str = "", info: Mapping[str, Any] | None = None
) -> int:
    """Write a ``warcinfo`` record, then a ``response`` and a ``metadata`` record per capture; returns
    how many captures. Each capture needs urlkey, timestamp, original_url and its raw ``body``."""
    writer = WARCWriter(stream, gzip=True)
    warcinfo = {
        "software": f"mofcom-corpus/{__version__} (corpus export --format warc; warcio)",
        "format": "WARC File Format 1.0",
        "description": "MOFCOM policy-interpretation pages as archived by the Wayback Machine",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **(info or {}),
    }
    writer.write_record(writer.create_warcinfo_record(filename, warcinfo))
    count = 0
    for capture in captures:
        body: bytes = capture["body"]
        response_id = record_id(capture, "response")
        date = warc_date(capture["timestamp"])
        http_headers = StatusAndHeaders(
            status_line(capture.get("status")),
            archived_headers(capture.get("response_headers"), body, capture.get("mimetype")),
            protocol="HTTP/1.1",
        )
        response = writer.create_warc_record(
            capture["original_url"],
            "response",
            payload=BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Record-ID": response_id, "WARC-Date": date},
        )
        writer.write_record(response)
        fields = metadata_fields(capture, body)
        metadata = writer.create_warc_record(
            capture["original_url"],
            "metadata",
            payload=BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": record_id(capture, "metadata"),
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
                "WARC-Refers-To": response_id,
            },
        )
        writer.write_record(metadata)
        count += 1
    return count
