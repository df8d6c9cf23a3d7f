"""Playback: ``/web/<ts><mod>/<url>``, the TimeMap and the availability API.

- exact hit (same SURT key, same 14-digit timestamp): the archived status, reason and payload bytes,
  the archived ``Content-Type`` unprefixed, ``Memento-Datetime``, ``Link`` (original, timemap, timegate,
  first/prev/memento/next/last), ``X-Archive-Orig-*`` for every other archived header, ``X-Archive-Src``;
  an archived ``Location`` is rewritten to ``/web/<same ts><same mod>/<absolute target>``;
- otherwise a ``302 FOUND`` to the nearest capture in time, either direction, no limit, with
  ``X-Archive-Redirect-Reason: found capture at <ts>`` (a partial timestamp aims at the last instant it
  covers; none at all means the latest capture);
- a revisit replays the payload of the capture it refers to;
- view mode (no modifier) serves the same bytes (no banner is injected), except that an archived
  redirect becomes the 200 "Got an HTTP 301 response at crawl time" page, as on the real site.
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

from crawler.replay import pages
from crawler.replay.captures import Capture, CaptureError, CaptureStore, Index, urlkey
from crawler.replay.pages import Reply
from crawler.replay.warcs import StoredResponse, header_value

_PLAYBACK = re.compile(r"^(?P<ts>\d{1,14})(?P<mod>[a-z]{2}\d*_)?/(?P<url>.*)$", re.S)
_TEMPLATE = "00001231235959"


def http_date(timestamp: str) -> str:
    """``20171124151315`` -> ``Fri, 24 Nov 2017 15:13:15 GMT``."""
    return format_datetime(_moment(timestamp), usegmt=True)


def _moment(timestamp: str) -> datetime:
    """A timestamp as a UTC datetime; out-of-range parts (month 00, day 31 in June) are clamped."""
    ts = timestamp + _TEMPLATE[len(timestamp) :]
    year = max(1, int(ts[0:4]))
    month = min(max(1, int(ts[4:6])), 12)
    day = min(max(1, int(ts[6:8])), calendar.monthrange(year, month)[1])
    return datetime(year, month, day, min(int(ts[8:10]), 23), min(int(ts[10:12]), 59), min(int(ts[12:14]), 59), tzinfo=UTC)


def nearest(store: CaptureStore, captures: list[Capture], timestamp: str) -> Capture:
    """The capture closest in time to ``timestamp`` (partial: its last instant), earlier on a tie.

    Like the Wayback Machine, it passes over a capture that redirects to itself (``http://epa.gov/x``
    -> ``https://www.epa.gov/x``: the same SURT key), which would only send the client round in a loop.
    """
    target = _moment(timestamp).timestamp()
    ranked = sorted(captures, key=lambda c: (abs(_moment(c.timestamp).timestamp() - target), c.timestamp))
    for capture in ranked:
        if not _redirects_to_itself(store, capture):
            return capture
    return ranked[0]


def _redirects_to_itself(store: CaptureStore, capture: Capture) -> bool:
    if not capture.status.startswith("3") or capture.source is None:
        return False
    stored = store.read(capture)
    location = header_value(stored.headers, "Location") if stored else None
    if not location:
        return False
    try:
        return urlkey(urljoin(capture.original, location.strip())) == capture.urlkey
    except CaptureError:
        return False


def _fix_scheme(url: str) -> str:
    return re.sub(r"^(https?):/(?!/)", r"\1://", url, flags=re.I)


def _wayback(base: str, timestamp: str, modifier: str, url: str) -> str:
    return f"{base}/web/{timestamp}{modifier}/{url}"


def link_header(base: str, capture: Capture, captures: list[Capture]) -> str:
    """The Memento ``Link`` header, in the recorded order; memento URLs are view-mode."""
    first, last = captures[0], captures[-1]
    earlier = [c for c in captures if c.timestamp < capture.timestamp]
    later = [c for c in captures if c.timestamp > capture.timestamp]

    def memento(c: Capture, rel: str) -> str:
        url = escape(_wayback(base, c.timestamp, "", c.original), quote=False)
        return f'<{url}>; rel="{rel}"; datetime="{http_date(c.timestamp)}"'

    original = escape(capture.original, quote=False)  # the Wayback writes "&" in these URLs as "&amp;"
    links = [
        f'<{original}>; rel="original"',
        f'<{base}/web/timemap/link/{original}>; rel="timemap"; type="application/link-format"',
        f'<{base}/web/{original}>; rel="timegate"',
        memento(first, "first memento"),
    ]
    if earlier:
        links.append(memento(earlier[-1], "prev memento"))
    links.append(memento(capture, "memento"))
    if later:
        links.append(memento(later[0], "next memento"))
    links.append(memento(last, "last memento"))
    return ", ".join(links)


def rewrite_location(base: str, capture: Capture, modifier: str, location: str) -> tuple[str, str]:
    """The archived ``Location`` as a Wayback URL (in the capture's style) and as an absolute target."""
    target = urljoin(capture.original, location.strip())
    path = f"/web/{capture.timestamp}{modifier}/{target}"
    if capture.location_style == "path":
        return path, target
    if capture.location_style == "schemeless":
        return f"//{urlsplit(base).netloc}{path}", target
    return base + path, target


def serve(store: CaptureStore, base: str, rest: str) -> Reply:
    """Answer ``/web/<rest>`` (``rest`` is everything after ``/web/``, query string included)."""
    match = _PLAYBACK.match(rest)
    if match:
        timestamp, modifier, url = match["ts"], match["mod"] or "", match["url"]
    else:
        timestamp, modifier, url = "", "", rest
    url = _fix_scheme(url)
    index = store.index()
    try:
        key = urlkey(url)
    except CaptureError:
        return pages.not_archived(url)
    if index.is_excluded(key):
        return pages.excluded(url)
    captures = index.of(key)
    if not captures:
        return pages.not_archived(url)
    if len(timestamp) == 14:
        for capture in captures:
            if capture.timestamp == timestamp:
                return memento(store, index, base, capture, modifier, captures)
    # No timestamp: the TimeGate answers with the latest capture.
    target = nearest(store, captures, timestamp or "9999")
    return Reply(
        302,
        "FOUND",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Location", _wayback(base, target.timestamp, modifier, target.original)),
            ("X-Archive-Redirect-Reason", f"found capture at {target.timestamp}"),
        ],
    )


def _stored(store: CaptureStore, index: Index, capture: Capture) -> StoredResponse | None:
    if capture.is_revisit:
        original = index.original_of(capture)
        if original is None:
            return None
        payload = store.read(original)
        own = store.read(capture) if capture.source is not None else None
        if payload is None:
            return None
        if own is not None and own.status:
            return StoredResponse(own.status, own.reason, own.headers, payload.payload)
        return payload
    stored = store.read(capture)
    if stored is None:  # an index-only row: what the CDX line says, and no bytes
        status = int(capture.status) if capture.status.isdigit() else 200
        headers = [("Content-Type", capture.mimetype)] if "/" in capture.mimetype else []
        return StoredResponse(status, "", headers, b"")
    return stored


def memento(
    store: CaptureStore, index: Index, base: str, capture: Capture, modifier: str, captures: list[Capture]
) -> Reply:
    stored = _stored(store, index, capture)
    if stored is None:
        return pages.not_archived(capture.original)
    location = header_value(stored.headers, "Location")
    if location is not None and 300 <= stored.status < 400 and modifier == "":
        path, _target = rewrite_location(base, capture, "", location)
        local = path[len(base) :] if path.startswith(base) else path
        when = _moment(capture.timestamp).strftime("%H:%M:%S %B %d, %Y")
        return pages.view_mode_redirect(capture.original, when, stored.status, location, local, capture.src)

    headers: list[tuple[str, str]] = []
    content_type = header_value(stored.headers, "Content-Type")
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    headers.append(("Memento-Datetime", http_date(capture.timestamp)))
    headers.append(("Link", link_header(base, capture, captures)))
    if location is not None:
        headers.append(("Location", rewrite_location(base, capture, modifier, location)[0]))
    for name, value in stored.headers:
        if name.lower() not in ("content-type", "location"):
            headers.append((f"X-Archive-Orig-{name}", value))
    headers.append(("X-Archive-Src", capture.src))
    headers.append(("Cache-Control", "max-age=1800"))
    reason = stored.reason or _phrase(stored.status)
    return Reply(stored.status, reason, headers, stored.payload, memento=True)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def timemap(store: CaptureStore, base: str, url: str) -> Reply:
    """``/web/timemap/link/<url>``: every capture of the URL in link format."""
    url = _fix_scheme(url)
    index = store.index()
    try:
        captures = index.of(urlkey(url))
    except CaptureError:
        captures = []
    if not captures:
        return pages.not_archived(url)
    first = captures[0]
    lines = [
        f'<{first.original}>; rel="original"',
        f'<{base}/web/timemap/link/{url}>; rel="self"; type="application/link-format"; '
        f'from="{http_date(first.timestamp)}"',
        f'<{base}>; rel="timegate"',
    ]
    for i, capture in enumerate(captures):
        rel = "memento"
        if len(captures) == 1:
            rel = "first last memento"
        elif i == 0:
            rel = "first memento"
        elif i == len(captures) - 1:
            rel = "last memento"
        lines.append(
            f'<{_wayback(base, capture.timestamp, "", capture.original)}>; rel="{rel}"; '
            f'datetime="{http_date(capture.timestamp)}"'
        )
    body = (",\n".join(lines) + "\n").encode()
    return Reply(200, "OK", [("Content-Type", "application/link-format")], body)


def available(store: CaptureStore, base: str, url: str, timestamp: str = "") -> Reply:
    """``/wayback/available?url=&timestamp=``: the closest capture (or the latest), as JSON."""
    snapshots: dict = {}
    try:
        captures = store.index().of(urlkey(_fix_scheme(url))) if url else []
    except CaptureError:
        captures = []
    if captures:
        digits = re.sub(r"\D", "", timestamp)[:14]
        capture = nearest(store, captures, digits or "9999")
        snapshots["closest"] = {
            "status": capture.status,
            "available": True,
            "url": _wayback(base, capture.timestamp, "", capture.original),
            "timestamp": capture.timestamp,
        }
    body = json.dumps({"url": url, "archived_snapshots": snapshots}).encode()
    return Reply(200, "OK", [("Content-Type", "application/json")], body)
