"""The CDX query engine: ``/cdx/search/cdx`` answered the way the Wayback Machine's CDX server does.

It follows the reference server (internetarchive/wayback ``CDXServer``, ``UrlSurtRangeComputer``,
``FieldRegexFilter``, ``CollapseFieldFilter``, ``ForwardRevisitResolver``, the plain-text and JSON
writers) and the recorded production answers in ``tests/fixtures/ia-recordings``:

- the scan runs over the SURT-sorted index from a start key to an end key set by ``matchType``;
  ``from`` (or a ``resumeKey``, which supersedes it) moves the start; ``offset`` skips raw lines;
- ``from``/``to`` compare as strings (so partial timestamps work; ``to=2011`` keeps all of 2011);
- filters are full-match regexes (``statuscode:2`` matches nothing), ``!`` negates, ``~`` is a substring
  test; collapse compares adjacent output lines only;
- ``limit`` > 0 stops after N written lines and (with ``showResumeKey``) prints the key
  ``urlencode(urlkey + " " + incLastChar(timestamp))``; ``limit`` < 0 keeps the last N;
  ``limit=-1`` returns the latest line;
- ``resolveRevisits=true`` gives a ``warc/revisit`` line the mimetype and status of an *earlier* line with
  the same digest in the same answer (as production does), leaving earlier revisits as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import surt

from crawler.replay.captures import CDX_FIELDS, Capture, Index

TEXT_TYPE = "text/plain;charset=UTF-8"
JSON_TYPE = "application/json"
DEFAULT_MAX_LIMIT = 150_000
MATCH_TYPES = ("exact", "prefix", "host", "domain")
BLOCKED_ERROR = (
    "org.archive.util.io.RuntimeIOException: org.archive.wayback.exception."
    "AdministrativeAccessControlException: Blocked Site Error"
)


class CdxError(Exception):
    """A query the CDX server refuses, with the HTTP status and the one-line body it answers."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


@dataclass
class CdxQuery:
    url: str
    match_type: str | None = None
    from_: str = ""
    to: str = ""
    filters: list[str] = field(default_factory=list)
    collapse: list[str] = field(default_factory=list)
    output: str = "text"
    fl: list[str] | None = None
    limit: int = 0
    offset: int = 0
    show_resume_key: bool = False
    resume_key: str = ""
    resolve_revisits: bool = False
    gzip: bool | None = None


@dataclass
class CdxAnswer:
    fields: list[str]
    rows: list[list[str]]
    resume_key: str | None = None


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


def _int(name: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise CdxError(400, f"Invalid value for {name}: {value}") from None


def _timestamp(name: str, value: str) -> str:
    value = value.strip()
    if value and not (value.isdigit() and len(value) <= 14):
        raise CdxError(400, f"Invalid value for {name}: {value} (1 to 14 digits)")
    return value


def parse_query(params: Iterable[tuple[str, str]]) -> CdxQuery:
    """Build a query from decoded query-string pairs (repeatable ``filter`` and ``collapse``)."""
    query = CdxQuery(url="")
    url = None
    for name, value in params:
        if name == "url":
            url = value
        elif name == "matchType":
            if value not in MATCH_TYPES:
                raise CdxError(400, f"Sorry, matchType={value} is not supported by this server")
            query.match_type = value
        elif name == "from":
            query.from_ = _timestamp("from", value)
        elif name == "to":
            query.to = _timestamp("to", value)
        elif name == "filter":
            query.filters.append(value)
        elif name == "collapse":
            query.collapse.append(value)
        elif name == "output":
            query.output = "json" if value.lower() == "json" else "text"
        elif name == "fl":
            query.fl = [f.strip() for f in unquote_plus(value).split(",") if f.strip()]
        elif name == "limit":
            query.limit = _int("limit", value)
        elif name == "offset":
            query.offset = _int("offset", value)
        elif name == "showResumeKey":
            query.show_resume_key = _flag(value)
        elif name == "resumeKey":
            query.resume_key = value
        elif name == "resolveRevisits":
            query.resolve_revisits = _flag(value)
        elif name == "gzip":
            query.gzip = _flag(value)
        elif name in ("page", "showNumPages", "showPagedIndex"):
            raise CdxError(
                400, "Sorry, this server is not configured to support paged query. Remove page= param and try again."
            )
    if not url:
        raise CdxError(400, "url parameter is required")
    query.url = url
    if query.fl is not None:
        unknown = [f for f in query.fl if f not in CDX_FIELDS]
        if unknown:
            raise CdxError(400, f"Unknown field(s) in fl: {', '.join(unknown)}; known: {' '.join(CDX_FIELDS)}")
    return query


def inc_last_char(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1) if text else text


def java_urlencode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``: keeps ``A-Za-z0-9.-*_``, space becomes ``+``."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in ".-*_"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def key_range(url: str, match_type: str) -> tuple[str, str]:
    """The [start, end) range of index lines a query scans (``UrlSurtRangeComputer.determineRange``)."""
    if url.startswith("."):
        url = url[1:]
    try:
        key = surt.surt(url, path_strip_trailing_slash_unless_empty=match_type != "prefix")
    except Exception as error:
        raise CdxError(400, f"java.net.URISyntaxException: {error}") from error
    host, _, path = key.partition(")")
    host = host.split(":", 1)[0]
    if match_type == "prefix" and path in ("", "/"):
        match_type = "host"
    if match_type == "exact":
        return key, key + "!"
    if match_type == "prefix":
        return key, inc_last_char(key)
    if match_type == "host":
        return host + ")/", host + "*"
    return host + ")/", host + "-"


@dataclass
class _Filter:
    index: int  # -1: the whole line
    regex: re.Pattern | None
    contains: str | None
    inverted: bool

    def matches(self, fields: tuple[str, ...]) -> bool:
        value = " ".join(fields) if self.index < 0 else fields[self.index]
        hit = (self.contains in value) if self.contains is not None else bool(self.regex.fullmatch(value))
        return hit != self.inverted


def _field_index(name: str) -> int:
    if re.fullmatch(r"-?\d+", name):
        index = int(name)
        if index >= len(CDX_FIELDS):
            raise CdxError(400, f"Field index {index} out of range (0-{len(CDX_FIELDS) - 1})")
        return index
    # An unknown name falls back to the whole line, as the reference server does.
    return CDX_FIELDS.index(name) if name in CDX_FIELDS else -1


def parse_filter(spec: str) -> _Filter:
    text, contains = spec, False
    if text.startswith("~"):
        text, contains = text[1:], True
    inverted = text.startswith("!")
    if inverted:
        text = text[1:]
    name, sep, pattern = text.partition(":")
    index = _field_index(name) if sep else -1
    if not sep:
        pattern = text
    if contains:
        return _Filter(index, None, pattern, inverted)
    try:
        return _Filter(index, re.compile(pattern), None, inverted)
    except re.error as error:
        raise CdxError(400, f"java.util.regex.PatternSyntaxException: {error} near index {error.pos}") from error


class _Collapser:
    """``CollapseFieldFilter``: keep a line only if every field differs from the last kept value."""

    def __init__(self, specs: list[str]):
        self.matchers: list[list] = []
        for spec in specs:
            spec = unquote_plus(spec)
            name, sep, count = spec.partition(":")
            length = int(count) if sep and count.strip().lstrip("-").isdigit() else -1
            index = _field_index(name)
            if index < 0:
                raise CdxError(400, f"Unknown collapse field: {name}")
            self.matchers.append([index, length, None])

    def include(self, fields: tuple[str, ...]) -> bool:
        for matcher in self.matchers:
            index, length, previous = matcher
            value = fields[index]
            if 0 < length <= len(value):
                value = value[:length]
            if previous is not None and value == previous:
                return False
            matcher[2] = value
        return True


def run(
    index: Index, query: CdxQuery, *, max_limit: int = DEFAULT_MAX_LIMIT, duplicate_rows: int = 1
) -> CdxAnswer:
    """Answer a CDX query from a sorted index. ``duplicate_rows`` > 1 repeats every index line."""
    url = query.url
    match_type = query.match_type
    if match_type is None:
        if url.startswith("*."):
            match_type, url = "domain", url[2:]
        elif url.endswith("*"):
            match_type, url = "prefix", url[:-1]
        else:
            match_type = "exact"
    start, end = key_range(url, match_type)
    if index.is_excluded(start):
        raise CdxError(403, BLOCKED_ERROR, [("X-Archive-Wayback-Runtime-Error", BLOCKED_ERROR)])

    limit = query.limit
    reverse = limit == -1
    if reverse:
        limit = 1
    last_n = 0
    if limit < 0:
        last_n, write_limit = min(-limit, max_limit), 0
    else:
        write_limit = max_limit if limit == 0 else min(limit, max_limit)

    if query.resume_key:
        search = unquote_plus(query.resume_key)
    elif query.from_:
        search = start + " " + query.from_
    else:
        search = start
    lines = index.range_reversed(search, end) if reverse else index.range(search, end)
    filters = [parse_filter(spec) for spec in query.filters if spec]
    collapser = _Collapser([spec for spec in query.collapse if spec]) if query.collapse else None
    fields_out = query.fl or list(CDX_FIELDS)
    positions = [CDX_FIELDS.index(name) for name in fields_out]
    originals: dict[str, tuple[str, str] | None] = {}

    rows: list[list[str]] = []
    last: Capture | None = None
    offset = query.offset
    read = 0
    for capture in _repeated(lines, duplicate_rows):
        if read >= max_limit or (write_limit and len(rows) >= write_limit):
            break
        read += 1
        if offset > 0:
            offset -= 1
            continue
        ts = capture.timestamp
        if query.from_ and ts < query.from_:
            continue
        if query.to and ts > query.to and not ts.startswith(query.to):
            if match_type == "exact" and not reverse:
                break
            continue
        if index.excluded and index.is_excluded(capture.urlkey):
            continue
        fields = capture.fields
        if filters and not all(f.matches(fields) for f in filters):
            continue
        if collapser and not collapser.include(fields):
            continue
        if query.resolve_revisits:
            fields = _resolve_revisit(fields, originals)
        rows.append([fields[i] for i in positions])
        last = capture

    if last_n:
        rows = rows[-last_n:]
    resume = None
    if query.show_resume_key and last is not None and write_limit > 0 and len(rows) >= write_limit:
        resume = java_urlencode(f"{last.urlkey} {inc_last_char(last.timestamp)}")
    return CdxAnswer(fields_out, rows, resume)


def _repeated(captures: Iterator[Capture], copies: int) -> Iterator[Capture]:
    for capture in captures:
        for _ in range(max(1, copies)):
            yield capture


def _resolve_revisit(fields: tuple[str, ...], originals: dict[str, tuple[str, str] | None]) -> tuple[str, ...]:
    digest, is_revisit = fields[5], fields[3] == "warc/revisit"
    seen = originals.get(digest)
    if seen is None and not is_revisit:
        originals[digest] = (fields[3], fields[4])
    elif seen is not None and is_revisit:
        return fields[:3] + seen + fields[5:]
    return fields


def render(answer: CdxAnswer, output: str) -> tuple[bytes, str]:
    """The response body and Content-Type, byte for byte as the CDX server writes them."""
    if output == "json":
        if not answer.rows:
            return b"[]\n", JSON_TYPE
        parts = ["[" + ",".join(json.dumps(name) for name in answer.fields) + "]"]
        parts += ["[" + ",".join(json.dumps(value) for value in row) + "]" for row in answer.rows]
        text = "[" + ",\n".join(parts)
        if answer.resume_key is not None:
            text += ",\n[],\n" + json.dumps([answer.resume_key])
        return (text + "]\n").encode("utf-8"), JSON_TYPE
    if not answer.rows:
        return b"", TEXT_TYPE
    text = "".join(" ".join(row) + "\n" for row in answer.rows)
    if answer.resume_key is not None:
        text += "\n" + answer.resume_key + "\n"
    return text.encode("utf-8"), TEXT_TYPE
