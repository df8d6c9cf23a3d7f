"""WARC records in and out: what the capture store indexes, reads back on demand, and writes.

A capture's *payload* is the body as ``id_`` playback serves it: de-chunked and decoded. The WARC
keeps it the way the origin sent it (chunked when the archived headers say ``Transfer-Encoding:
chunked``, gzip when they say ``Content-Encoding: gzip``), so a WARC written here reads back, with
warcio or any other tool, to the same archived headers and the same payload.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

Headers = list[tuple[str, str]]

_TS14 = re.compile(r"^\d{14}$")


class WarcError(ValueError):
    """A WARC file or record that cannot be indexed or read."""


@dataclass(frozen=True)
class IndexedRecord:
    """One ``response`` or ``revisit`` record found while scanning a WARC file."""

    kind: str  # "response" | "revisit"
    url: str
    timestamp: str
    status: str  # "200", or "-" for a revisit without HTTP headers
    mimetype: str
    digest: str
    offset: int
    length: int
    refers_to_url: str | None = None
    refers_to_timestamp: str | None = None


@dataclass(frozen=True)
class StoredResponse:
    """The archived HTTP response of one record: status line, headers (order and repeats kept), payload."""

    status: int
    reason: str
    headers: Headers
    payload: bytes


def payload_digest(payload: bytes) -> str:
    """The CDX digest: base32 of the SHA-1 of the payload (32 characters, A-Z2-7)."""
    return base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


def mimetype_of(headers: Headers) -> str:
    """The CDX mimetype: the archived Content-Type without parameters, lower case; ``unk`` if none."""
    value = header_value(headers, "Content-Type")
    if not value:
        return "unk"
    return value.split(";", 1)[0].strip().lower() or "unk"


def header_value(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def timestamp_from_warc_date(value: str) -> str:
    """``2023-12-21T09:19:31Z`` (any sub-second precision) -> ``20231221091931``."""
    digits = re.sub(r"\D", "", value or "")[:14]
    if len(digits) < 14:
        raise WarcError(f"unreadable WARC-Date {value!r}")
    return digits


def warc_date(timestamp: str) -> str:
    """``20231221091931`` -> ``2023-12-21T09:19:31Z``."""
    if not _TS14.match(timestamp):
        raise WarcError(f"timestamp must be 14 digits, got {timestamp!r}")
    t = timestamp
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def record_id(*parts: str) -> str:
    """A WARC-Record-ID derived from content, so rebuilding gives identical bytes."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ' '.join(parts))}>"


def _digest_from_header(value: str | None) -> str | None:
    if not value:
        return None
    algo, _, encoded = value.partition(":")
    if algo.lower() != "sha1" or not encoded:
        return None
    if re.fullmatch(r"[0-9a-fA-F]{40}", encoded):
        return base64.b32encode(bytes.fromhex(encoded)).decode("ascii")
    return encoded.upper()


def index_warc(path: Path) -> Iterator[IndexedRecord]:
    """Scan one WARC (``.warc`` or ``.warc.gz``) and yield its response and revisit records.

    Payloads are streamed through SHA-1, never held; every other record type is skipped.
    """
    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        try:
            for record in iterator:
                if record.rec_type not in ("response", "revisit"):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                if not url or not url.lower().startswith(("http:", "https:")):
                    continue
                timestamp = timestamp_from_warc_date(record.rec_headers.get_header("WARC-Date"))
                http = record.http_headers
                if record.rec_type == "response":
                    if http is None:
                        continue
                    sha1 = hashlib.sha1()
                    content = record.content_stream()
                    while chunk := content.read(65536):
                        sha1.update(chunk)
                    digest = base64.b32encode(sha1.digest()).decode("ascii")
                    status = http.get_statuscode() or "-"
                    mimetype = mimetype_of(http.headers)
                    refers_url = refers_ts = None
                else:
                    digest = _digest_from_header(record.rec_headers.get_header("WARC-Payload-Digest")) or "-"
                    status, mimetype = "-", "warc/revisit"
                    refers_url = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
                    refers_date = record.rec_headers.get_header("WARC-Refers-To-Date")
                    refers_ts = timestamp_from_warc_date(refers_date) if refers_date else None
                    record.raw_stream.read()
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()
                yield IndexedRecord(
                    kind=record.rec_type,
                    url=url,
                    timestamp=timestamp,
                    status=status,
                    mimetype=mimetype,
                    digest=digest,
                    offset=offset,
                    length=length,
                    refers_to_url=refers_url,
                    refers_to_timestamp=refers_ts,
                )
        except (zlib.error, EOFError, OSError) as error:
            raise WarcError(f"{path}: unreadable WARC data ({error})") from error


def read_response(stream: io.BufferedIOBase) -> StoredResponse:
    """Read the record that starts at the stream's position: its archived status, headers and payload."""
    iterator = ArchiveIterator(stream)
    for record in iterator:
        http = record.http_headers
        payload = record.content_stream().read()
        if http is None:
            return StoredResponse(0, "", [], payload)
        code = int(http.get_statuscode() or 0)
        reason = http.statusline.partition(" ")[2].strip()
        return StoredResponse(code, reason, list(http.headers), payload)
    raise WarcError("no WARC record at this offset")


def _transmitted(payload: bytes, headers: Headers) -> bytes:
    """The payload as the origin would have sent it under these headers."""
    body = payload
    encoding = (header_value(headers, "Content-Encoding") or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        body = gzip.compress(body, mtime=0)
    elif encoding == "deflate":
        body = zlib.compress(body)
    if "chunked" in (header_value(headers, "Transfer-Encoding") or "").lower():
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return body


def status_line(status: int, reason: str | None) -> str:
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return f"{status} {reason}".rstrip()


def write_response(
    writer: WARCWriter,
    url: str,
    timestamp: str,
    payload: bytes,
    status: int = 200,
    headers: Headers | None = None,
    reason: str | None = None,
) -> None:
    """Append one ``response`` record (deterministic ID and date)."""
    headers = list(headers or [])
    http = StatusAndHeaders(status_line(status, reason), headers, protocol="HTTP/1.1")
    digest = payload_digest(payload)
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(_transmitted(payload, headers)),
        http_headers=http,
        warc_headers_dict={
            "WARC-Date": warc_date(timestamp),
            "WARC-Record-ID": record_id("response", url, timestamp, digest, str(status)),
        },
    )
    writer.write_record(record)


def write_revisit(
    writer: WARCWriter,
    url: str,
    timestamp: str,
    digest: str,
    refers_to_url: str,
    refers_to_timestamp: str,
    status: int | None = None,
    headers: Headers | None = None,
    reason: str | None = None,
) -> None:
    """Append one ``revisit`` record (identical payload digest) of an earlier capture."""
    http = None
    if status is not None:
        http = StatusAndHeaders(status_line(status, reason), list(headers or []), protocol="HTTP/1.1")
    record = writer.create_revisit_record(
        url,
        digest=f"sha1:{digest}",
        refers_to_uri=refers_to_url,
        refers_to_date=warc_date(refers_to_timestamp),
        http_headers=http,
        warc_headers_dict={
            "WARC-Date": warc_date(timestamp),
            "WARC-Record-ID": record_id("revisit", url, timestamp, digest),
        },
    )
    writer.write_record(record)


def write_warcinfo(writer: WARCWriter, filename: str, timestamp: str, fields: dict[str, str]) -> None:
    record = writer.create_warcinfo_record(filename, fields)
    record.rec_headers.replace_header("WARC-Date", warc_date(timestamp))
    record.rec_headers.replace_header("WARC-Record-ID", record_id("warcinfo", filename, timestamp))
    writer.write_record(record)
