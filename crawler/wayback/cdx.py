"""The CDX index: building prefix queries, reading their answers, paging with resume keys.

The requests themselves go through Scrapy (one downloader, one politeness policy for all traffic);
this module only turns a :class:`CdxQuery` into a URL and an answer body into a :class:`CdxPage`.

What the real index sends, and what :func:`parse_cdx` makes of it (see wayback-api.md §1):

- plain text (``url ts original mime status digest length`` per line, then a blank line and the
  resume key) or JSON (header row, one array of strings per capture, then ``[]`` and ``["key"]``);
- an empty body, or ``[]``, when nothing matched;
- the same line repeated (one capture indexed in several shards): kept once;
- ``warc/revisit`` rows whose status is ``-``; lengths of ``-``;
- impossible timestamps (``20000012170449``) and junk originals (``mailto:``, ``data:`` URIs,
  paths without a host): skipped and counted, never silently.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from waybackpy.cdx_snapshot import CDXSnapshot
from waybackpy.cdx_utils import check_collapses, check_filters, check_match_type, full_url
from waybackpy.exceptions import WaybackError

from crawler.urls import urlkey as surt_urlkey

CDX_PATH = "/cdx/search/cdx"
CDX_FIELDS: tuple[str, ...] = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")

# The archive answers a query about an excluded site with a Java exception line, sometimes inside a 200.
_BLOCKED = re.compile(r"(AdministrativeAccessControlException|RobotAccessControlException|Blocked Site Error|Blocked By Robots)")
_TS_DIGITS = re.compile(r"^\d+$")
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9_])?)+\.?$", re.I)
_DATA_URI = re.compile(r"(^|[/\"'=]|%22|%27)data:[a-z]+/", re.I)


class CdxError(ValueError):
    """A CDX answer that is not an index page (bad query, excluded site...)."""


class CdxBlocked(CdxError):
    """The archive excludes this site (robots.txt or the owner's request)."""


@dataclass(frozen=True)
class CdxQuery:
    """One CDX query; ``url(base)`` gives the request URL, ``next_page(key)`` the following page."""

    url: str
    match_type: str | None = "prefix"
    from_ts: str | None = None
    to_ts: str | None = None
    filters: list[str] = field(default_factory=list)
    collapse: list[str] = field(default_factory=list)
    limit: int = 1000
    fl: tuple[str, ...] = CDX_FIELDS
    output: Literal["json", "text"] = "json"
    resume_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", list(self.filters))
        object.__setattr__(self, "collapse", list(self.collapse))
        object.__setattr__(self, "fl", tuple(self.fl))
        try:
            check_filters(self.filters)
            check_collapses(self.collapse)
            check_match_type(self.match_type, self.url)
        except WaybackError as e:
            raise ValueError(f"bad CDX query: {e}") from e
        if not self.url.strip():
            raise ValueError("bad CDX query: url is empty")
        for name, ts in (("from_ts", self.from_ts), ("to_ts", self.to_ts)):
            if ts is not None and not (_TS_DIGITS.match(ts) and 1 <= len(ts) <= 14):
                raise ValueError(f"bad CDX query: {name}={ts!r} is not 1-14 digits")
        if self.limit <= 0:
            # Negative limits mean "the last N" and cannot page; we never need them.
            raise ValueError(f"bad CDX query: limit must be positive to page with resume keys, not {self.limit}")
        unknown = set(self.fl) - set(CDX_FIELDS)
        if unknown or not {"timestamp", "original"} <= set(self.fl):
            raise ValueError(f"bad CDX query: fl must name CDX fields incl. timestamp and original, not {self.fl}")
        if self.output not in ("json", "text"):
            raise ValueError(f"bad CDX query: output must be json or text, not {self.output!r}")

    def params(self) -> dict[str, str]:
        """The query string, in the order the archive's own clients send it."""
        p: dict[str, str] = {"url": self.url}
        if self.match_type and self.match_type != "exact":
            p["matchType"] = self.match_type
        if self.from_ts:
            p["from"] = self.from_ts
        if self.to_ts:
            p["to"] = self.to_ts
        # full_url() repeats any key that starts with "filter"/"collapse".
        for i, f in enumerate(self.filters):
            p[f"filter{i}"] = f
        for i, c in enumerate(self.collapse):
            p[f"collapse{i}"] = c
        if self.fl != CDX_FIELDS:
            p["fl"] = ",".join(self.fl)
        if self.output == "json":
            p["output"] = "json"
        p["limit"] = str(self.limit)
        p["showResumeKey"] = "true"
        if self.resume_key:
            # Sent verbatim; being already percent-encoded it ends up encoded twice, as the server expects.
            p["resumeKey"] = self.resume_key
        return p

    def url_for(self, base: str) -> str:
        """The request URL on ``base`` (``url`` is the field: the URL or prefix queried)."""
        return full_url(base.rstrip("/") + CDX_PATH + "?", self.params())

    def next_page(self, resume_key: str) -> CdxQuery:
        return replace(self, resume_key=resume_key)


@dataclass(frozen=True)
class CdxRow:
    urlkey: str
    timestamp: str
    original: str
    mimetype: str
    statuscode: str  # three digits, or "-" (revisit records and some others carry no status)
    digest: str
    length: int | None

    @property
    def is_revisit(self) -> bool:
        return self.mimetype == "warc/revisit"

    @property
    def status(self) -> int | None:
        return int(self.statuscode) if len(self.statuscode) == 3 and self.statuscode.isdigit() else None

    def line(self) -> str:
        """The row as the text output prints it."""
        length = "-" if self.length is None else str(self.length)
        return " ".join((self.urlkey, self.timestamp, self.original, self.mimetype, self.statuscode, self.digest, length))


@dataclass
class CdxPage:
    rows: list[CdxRow]
    resume_key: str | None = None
    skipped: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    duplicates: int = 0  # repeated identical rows dropped

    @property
    def is_last(self) -> bool:
        return self.resume_key is None


def cdx_url(base: str, query: CdxQuery) -> str:
    """``{base}/cdx/search/cdx?...`` for ``query`` (same as ``query.url_for(base)``)."""
    return query.url_for(base)


def check_cdx_answer(status: int, body: bytes) -> None:
    """Raise :class:`CdxBlocked` / :class:`CdxError` when an answer is not an index page.

    200 answers pass unless they carry the exclusion message; 400 is a bad query; 403 an excluded
    site. Other statuses (429, 5xx) are the politeness layer's business and never reach here.
    """
    head = body[:2000].decode("utf-8", "replace")
    if _BLOCKED.search(head):
        raise CdxBlocked(f"site excluded from the Wayback Machine: {head.strip()[:200]}")
    if status == 400:
        raise CdxError(f"the CDX server rejected the query: {head.strip()[:200]}")
    if status == 403:
        raise CdxBlocked(f"CDX answered 403: {head.strip()[:200]}")
    if status != 200:
        raise CdxError(f"CDX answered HTTP {status}: {head.strip()[:200]}")


def parse_cdx(body: bytes, content_type: str | bytes | None = None, fields: Iterable[str] | None = None) -> CdxPage:
    """Read one CDX answer (text or JSON) into rows and the resume key of the next page.

    ``fields`` names the columns of a text answer when the query used a custom ``fl``; JSON
    answers name their own. Raises :class:`CdxBlocked` on an exclusion message.
    """
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    text = body.decode("utf-8", "replace")
    stripped = text.strip()
    if _BLOCKED.search(stripped[:2000]):
        raise CdxBlocked(f"site excluded from the Wayback Machine: {stripped[:200]}")
    if not stripped:
        return CdxPage(rows=[])
    is_json = stripped.startswith("[") or "json" in (content_type or "").lower()
    if is_json:
        raw_rows, resume_key = _json_rows(stripped)
    else:
        raw_rows, resume_key = _text_rows(text, tuple(fields or CDX_FIELDS))
    page = CdxPage(rows=[], resume_key=resume_key)
    seen: set[CdxRow] = set()
    for raw in raw_rows:
        row, reason = _make_row(raw)
        if row is None:
            page.skipped += 1
            page.skip_reasons[reason] += 1
            continue
        if row in seen:
            page.duplicates += 1
            continue
        seen.add(row)
        page.rows.append(row)
    return page


def dedupe_rows(rows: Iterable[CdxRow], seen: set[CdxRow] | None = None) -> list[CdxRow]:
    """Rows not met before, in order; pass the same ``seen`` set for every page of a query."""
    seen = set() if seen is None else seen
    out = []
    for row in rows:
        if row not in seen:
            seen.add(row)
            out.append(row)
    return out


def _json_rows(text: str) -> tuple[list[dict[str, str]], str | None]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CdxError(f"CDX answer is not valid JSON ({e}): {text[:200]!r}") from e
    if not isinstance(data, list):
        raise CdxError(f"CDX JSON answer is not an array: {text[:200]!r}")
    if not data:
        return [], None
    header, *rest = data
    if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
        raise CdxError(f"CDX JSON answer has no header row: {text[:200]!r}")
    resume_key = None
    # A resume key ends the array as `[], ["key"]`.
    if len(rest) >= 2 and rest[-2] == [] and isinstance(rest[-1], list) and len(rest[-1]) == 1:
        resume_key = str(rest[-1][0]) or None
        rest = rest[:-2]
    rows = []
    for item in rest:
        if not isinstance(item, list) or len(item) != len(header):
            rows.append({"__bad__": "wrong field count"})
            continue
        rows.append({name: str(value) for name, value in zip(header, item, strict=True)})
    return rows, resume_key


def _text_rows(text: str, fields: tuple[str, ...]) -> tuple[list[dict[str, str]], str | None]:
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    resume_key = None
    # The key follows the last row after one blank line.
    if len(lines) >= 2 and not lines[-2].strip() and lines[-1].strip():
        resume_key = lines[-1].strip()
        lines = lines[:-2]
    rows = []
    for line in lines:
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != len(fields):
            rows.append({"__bad__": "wrong field count"})
            continue
        rows.append(dict(zip(fields, parts, strict=True)))
    return rows, resume_key


def _make_row(raw: dict[str, str]) -> tuple[CdxRow | None, str]:
    if "__bad__" in raw:
        return None, raw["__bad__"]
    original = raw.get("original", "").strip()
    if is_malformed_original(original):
        return None, "malformed original"
    ts = raw.get("timestamp", "").strip()
    if len(ts) == 12 and ts.isdigit():
        ts += "00"  # old Alexa ARC dates; playback pads them the same way
    try:
        # waybackpy's row type parses the timestamp strictly: month 00 or day 00 fail here.
        snap = CDXSnapshot({**dict.fromkeys(CDX_FIELDS, ""), **raw, "timestamp": ts, "original": original})
    except ValueError:
        return None, "bad timestamp"
    if len(ts) != 14:
        return None, "bad timestamp"
    length_s = (snap.length or "").strip()
    length = int(length_s) if length_s.isdigit() else None
    key = snap.urlkey or _urlkey_or_empty(original)
    row = CdxRow(
        urlkey=key,
        timestamp=ts,
        original=original,
        mimetype=snap.mimetype or "unk",
        statuscode=(snap.statuscode or "-").strip(),
        digest=(snap.digest or "").strip(),
        length=length,
    )
    return row, ""


def _urlkey_or_empty(original: str) -> str:
    try:
        return surt_urlkey(original)
    except Exception:  # surt raises a variety of errors on odd URLs
        return ""


def is_malformed_original(original: str) -> bool:
    """True for CDX ``original`` values that name nothing playable: ``mailto:`` addresses,
    ``data:`` URIs glued to a path, strings without a host."""
    if not original or any(c.isspace() for c in original):
        return True
    if original.lower().startswith(("mailto:", "data:", "javascript:")) or _DATA_URI.search(original):
        return True
    candidate = original if "://" in original else "http://" + original
    try:
        parts = urlsplit(candidate)
        _ = parts.port  # raises on a non-numeric port
    except ValueError:
        return True
    if parts.scheme.lower() not in ("http", "https"):
        return True
    if "@" in parts.netloc:  # userinfo: in the index, always a mis-parsed e-mail address
        return True
    return not _HOST.match(parts.hostname or "")
