"""What a playback answer is: archived content, a hop of the archive's own, or a live failure.

The one rule that decides (wayback-api.md §2): a response that carries ``Memento-Datetime`` *is*
archived content, whatever its status; an archived 404 or 429 is a page, not an error of the
archive, and is never retried. Without that header the answer comes from the Wayback Machine
itself: a 302 to the nearest capture, "not archived", "excluded", a live rate limit, an outage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    MEMENTO = "memento"  # archived content (2xx, or any status not covered below)
    ARCHIVED_REDIRECT = "archived_redirect"  # 3xx with Memento-Datetime: the site redirected at crawl time
    ARCHIVED_ERROR = "archived_error"  # 4xx/5xx with Memento-Datetime: the site's own error page
    WAYBACK_REDIRECT = "wayback_redirect"  # 3xx without it: the archive's hop to the nearest capture
    NOT_ARCHIVED = "not_archived"  # 404 without it
    RATE_LIMITED = "rate_limited"  # 429 without it: slow down, all of us
    BLOCKED = "blocked"  # 403 without it, or the "excluded" page
    SERVER_ERROR = "server_error"  # 5xx without it: retry later
    UNEXPECTED = "unexpected"  # anything else without Memento-Datetime (a view-mode page, a 400...)

    @property
    def is_archived(self) -> bool:
        """Archived content: store it, never retry it."""
        return self in (Kind.MEMENTO, Kind.ARCHIVED_REDIRECT, Kind.ARCHIVED_ERROR)

    @property
    def is_live_failure(self) -> bool:
        """A failure of the archive right now, worth another try later."""
        return self in (Kind.RATE_LIMITED, Kind.SERVER_ERROR)


_EXCLUDED_TEXT = (b"This URL has been excluded from the Wayback Machine", b"AccessControlException")
_NOT_ARCHIVED_TEXT = (b"has not archived that URL", b"ResourceNotInArchiveException")
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[A-Za-z0-9_*-]+\s*=\s*(?:\"[^\"]*\"|[^;,\s]*))*)")
_LINK_PARAM = re.compile(r";\s*([A-Za-z0-9_*-]+)\s*=\s*(?:\"([^\"]*)\"|([^;,\s]*))")
_FOUND_AT = re.compile(r"found capture at (\d{14})")

HeadersLike = Mapping[Any, Any] | Iterable[tuple[Any, Any]]


def header(headers: HeadersLike | None, name: str) -> str | None:
    """The first value of header ``name`` (any case) from Scrapy ``Headers``, a dict (values may
    be lists, str or bytes) or a list of pairs; None when absent."""
    values = header_values(headers, name)
    return values[0] if values else None


def header_values(headers: HeadersLike | None, name: str) -> list[str]:
    if headers is None:
        return []
    wanted = name.lower()
    if hasattr(headers, "getlist"):  # scrapy.http.Headers: case-insensitive already
        return [_text(v) for v in headers.getlist(name)]
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[str] = []
    for key, value in items:
        if _text(key).lower() != wanted:
            continue
        if isinstance(value, list | tuple):
            out.extend(_text(v) for v in value)
        else:
            out.append(_text(value))
    return out


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


ARCHIVE_HEADER_PREFIX = "x-archive-orig-"


def archived_headers(headers: HeadersLike | None) -> dict[str, str]:
    """The headers the origin server sent when the page was archived (``X-Archive-Orig-*``, prefix
    dropped, names lower-cased), plus the archived ``Content-Type`` that ``id_`` playback passes
    through unchanged."""
    if headers is None:
        return {}
    out: dict[str, str] = {}
    for key, value in headers.items():
        name = _text(key).lower()
        text = _text(value[-1] if isinstance(value, list | tuple) else value)
        if name.startswith(ARCHIVE_HEADER_PREFIX):
            out[name[len(ARCHIVE_HEADER_PREFIX):]] = text
        elif name == "content-type":
            out.setdefault("content-type", text)
    return out


def memento_datetime(headers: HeadersLike | None) -> str | None:
    """``Memento-Datetime`` as a 14-digit UTC timestamp; None when absent or unreadable."""
    value = header(headers, "Memento-Datetime")
    return http_date_to_ts14(value) if value else None


def http_date_to_ts14(value: str) -> str | None:
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def links(headers: HeadersLike | None) -> list[tuple[str, dict[str, str]]]:
    """The ``Link`` header as ``(url, params)`` pairs, in order (``rel`` may hold several words)."""
    out = []
    for value in header_values(headers, "Link"):
        for m in _LINK.finditer(value):
            params = {p.group(1).lower(): p.group(2) if p.group(2) is not None else p.group(3)
                      for p in _LINK_PARAM.finditer(m.group(2))}
            # The archive HTML-escapes some Link URLs (`&amp;` in query strings).
            out.append((html.unescape(m.group(1).strip()), params))
    return out


def original_url(headers: HeadersLike | None) -> str | None:
    """The URL actually captured, from ``Link: <...>; rel="original"``."""
    for url, params in links(headers):
        if "original" in params.get("rel", "").split():
            return url
    return None


def redirect_reason_timestamp(headers: HeadersLike | None) -> str | None:
    """The TS14 in ``X-Archive-Redirect-Reason: found capture at <ts>``, if any."""
    value = header(headers, "X-Archive-Redirect-Reason") or ""
    m = _FOUND_AT.search(value)
    return m.group(1) if m else None


def classify(status: int, headers: HeadersLike | None, body: bytes | None = None) -> Kind:
    """Sort a playback answer into a :class:`Kind` by its status and ``Memento-Datetime``.

    ``body`` (optional) tells the archive's "excluded" page, which comes as a plain 200, apart
    from other answers without ``Memento-Datetime``.
    """
    if header(headers, "Memento-Datetime"):
        if 300 <= status < 400:
            return Kind.ARCHIVED_REDIRECT
        if status >= 400:
            return Kind.ARCHIVED_ERROR
        return Kind.MEMENTO
    runtime_error = (header(headers, "X-Archive-Wayback-Runtime-Error") or "").encode()
    if 300 <= status < 400:
        return Kind.WAYBACK_REDIRECT
    if status == 429:
        return Kind.RATE_LIMITED
    if status >= 500:
        return Kind.SERVER_ERROR
    if status == 403 or any(t in runtime_error for t in _EXCLUDED_TEXT):
        return Kind.BLOCKED
    if status == 404:
        return Kind.NOT_ARCHIVED
    if body and any(t in body[:200_000] for t in _EXCLUDED_TEXT):
        return Kind.BLOCKED
    if body and status == 200 and any(t in body[:200_000] for t in _NOT_ARCHIVED_TEXT):
        return Kind.NOT_ARCHIVED
    return Kind.UNEXPECTED
