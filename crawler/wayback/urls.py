"""The Wayback Machine's URL forms.

Whatever base URL a crawl talks to (the real archive or the local replay), records always carry the
public form ``https://web.archive.org/web/{ts}/{original}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

PUBLIC_BASE = "https://web.archive.org"

_WAYBACK_PATH = re.compile(r"^(?:[a-z]+://[^/]+)?/web/(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)$", re.I)
_INPUT_URL = re.compile(r"^(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)$", re.I)


@dataclass(frozen=True)
class WaybackRef:
    timestamp: str
    original: str
    modifier: str = ""


def public_url(timestamp: str, original: str) -> str:
    """``https://web.archive.org/web/{ts}/{original}``: the form a reader can open in a browser."""
    return f"{PUBLIC_BASE}/web/{timestamp}/{original}"


def playback_url(base: str, timestamp: str, original: str, modifier: str = "id_") -> str:
    """The raw-bytes playback URL on ``base`` (``id_``: archived bytes, no toolbar, no rewriting)."""
    return f"{base.rstrip('/')}/web/{timestamp}{modifier}/{original}"


def input_url(requested_timestamp: str, original: str) -> str:
    """The seed record's ``input_url``: ``{requested_ts}/{original}``."""
    return f"{requested_timestamp}/{original}"


def parse_wayback_url(url: str) -> WaybackRef | None:
    """Split a ``/web/{ts}{mod}/{url}`` URL (any host, or none) into its parts; None if it is not one."""
    m = _WAYBACK_PATH.match(url.strip())
    if not m:
        return None
    return WaybackRef(m.group("ts"), _fix_scheme(m.group("url")), m.group("mod") or "")


def parse_input_url(value: str) -> WaybackRef | None:
    """Split the seed record's ``input_url`` (``{ts}/{url}``)."""
    m = _INPUT_URL.match(value.strip())
    if not m:
        return None
    return WaybackRef(m.group("ts"), _fix_scheme(m.group("url")), m.group("mod") or "")


def _fix_scheme(url: str) -> str:
    # Some clients collapse "http://" to "http:/" inside a path.
    return re.sub(r"^(https?):/(?!/)", r"\1://", url)


# Which pool of the archive's rate limits a request draws on (wayback-api.md §4): the CDX server and
# the TimeMaps share one; playback has its own.
CDX = "cdx"
PLAYBACK = "playback"
_ENDPOINT_MARKERS = (("/cdx/", CDX), ("/web/timemap", CDX), ("/web/", PLAYBACK))


def endpoint_of(url: str) -> str | None:
    """``"cdx"``, ``"playback"`` or None (not a Wayback URL), by the path of ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    for marker, pool in _ENDPOINT_MARKERS:
        if marker in parts.path + "/":
            return pool
    return None


def wayback_base(url: str) -> str:
    """The base a Wayback URL was made on: everything before its ``/web/`` or ``/cdx/`` segment."""
    parts = urlsplit(url)
    path = parts.path
    cut = min((i for i in (path.find("/web/"), path.find("/cdx/")) if i >= 0), default=len(path))
    return urlunsplit((parts.scheme, parts.netloc, path[:cut], "", "")).rstrip("/")


def rebase(location: str, base: str, modifier: str | None = None) -> str | None:
    """A playback URL the archive pointed to (any host: its public one, or ours) moved onto ``base``;
    ``modifier`` forces the playback mode (``id_``). None if ``location`` is not a playback URL."""
    ref = parse_wayback_url(urljoin(base + "/", location.strip()))
    if ref is None:
        return None
    return playback_url(base, ref.timestamp, ref.original, ref.modifier if modifier is None else modifier)
