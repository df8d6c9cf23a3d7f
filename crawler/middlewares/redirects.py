"""Wayback redirects, followed and written down (replaces Scrapy's redirect handling for Wayback URLs).

Two kinds of 3xx come back from playback (wayback-api.md §2.3-2.4):

- the archive's own hop to the nearest capture (no ``Memento-Datetime``): the requested
  timestamp had no capture, so it points at the one it will serve;
- an archived redirect (with ``Memento-Datetime``): the site itself redirected at crawl time;
  the target is another URL, usually captured a little later (so a nearest-capture hop follows).

Both are followed, on the crawl's own base URL whatever host ``Location`` names, up to
``WAYBACK_MAX_HOPS``, and a capture met twice ends the chain as a loop. The final response reaches
the spider with ``response.meta["wayback"]``::

    {"kind", "status", "requested_timestamp", "timestamp" (actual, from Memento-Datetime),
     "original" (Link rel="original"), "input_url" ("{requested_ts}/{requested url}"),
     "returned_url" ("https://web.archive.org/web/{actual_ts}/{original}"),
     "hops": [...], "archived_redirects": [...]}

Every Wayback request gets ``handle_httpstatus_all`` (archived 404s are content for the spider)
and ``dont_redirect`` (so Scrapy's redirect and meta-refresh middlewares leave it alone).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin

from crawler.wayback.errors import RedirectLoop, TooManyHops
from crawler.wayback.memento import (
    Kind,
    classify,
    header,
    memento_datetime,
    original_url,
    redirect_reason_timestamp,
)
from crawler.wayback.urls import (
    PLAYBACK,
    endpoint_of,
    input_url,
    parse_wayback_url,
    public_url,
    rebase,
    wayback_base,
)

logger = logging.getLogger(__name__)

TRAIL = "wayback_trail"


def _visit(timestamp: str, original: str) -> str:
    return f"{timestamp} {original}"


def new_trail(url: str) -> dict[str, Any]:
    """The bookkeeping a playback request starts with (the timestamp and URL it asked for)."""
    ref = parse_wayback_url(url)
    if ref is None:
        raise ValueError(f"not a playback URL: {url}")
    return {
        "requested_timestamp": ref.timestamp,
        "requested_original": ref.original,
        "modifier": ref.modifier,
        "hops": [],
        "archived_redirects": [],
        "seen": [_visit(ref.timestamp, ref.original)],
    }


def final_info(url: str, status: int, headers: Any, kind: Kind, trail: dict[str, Any]) -> dict[str, Any]:
    """``response.meta["wayback"]`` for the last response of a chain."""
    ref = parse_wayback_url(url)
    actual = memento_datetime(headers) if kind.is_archived else None
    if kind.is_archived and actual is None and ref is not None:
        actual = ref.timestamp
    original = (original_url(headers) if kind.is_archived else None) or (ref.original if ref else None)
    return {
        "kind": kind.value,
        "status": status,
        "requested_timestamp": trail["requested_timestamp"],
        "timestamp": actual,
        "original": original,
        "input_url": input_url(trail["requested_timestamp"], trail["requested_original"]),
        "returned_url": public_url(actual, original) if actual and original else None,
        "url": url,
        "hops": list(trail["hops"]),
        "archived_redirects": list(trail["archived_redirects"]),
    }


class WaybackRedirectMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_hops = crawler.settings.getint("WAYBACK_MAX_HOPS")
        self.priority_adjust = crawler.settings.getint("REDIRECT_PRIORITY_ADJUST")

    @classmethod
    def from_crawler(cls, crawler: Any) -> WaybackRedirectMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        pool = endpoint_of(request.url)
        if pool is None:
            return None
        request.meta.setdefault("dont_redirect", True)
        request.meta.setdefault("handle_httpstatus_all", True)
        if pool == PLAYBACK and TRAIL not in request.meta and parse_wayback_url(request.url):
            request.meta[TRAIL] = new_trail(request.url)
        return None

    def process_response(self, request: Any, response: Any) -> Any:
        if endpoint_of(request.url) != PLAYBACK or parse_wayback_url(request.url) is None:
            return response
        trail = request.meta.get(TRAIL) or new_trail(request.url)
        kind = classify(response.status, response.headers, response.body)
        if kind in (Kind.WAYBACK_REDIRECT, Kind.ARCHIVED_REDIRECT):
            follow = self._follow(request, response, kind, trail)
            if follow is not None:
                return follow
        info = final_info(response.url, response.status, response.headers, kind, trail)
        request.meta["wayback"] = info
        self.stats.inc_value(f"wayback/responses/{kind.value}")
        if info["timestamp"] and info["timestamp"] != info["requested_timestamp"]:
            self.stats.inc_value("wayback/redirects/moved_capture")
        return response

    def _follow(self, request: Any, response: Any, kind: Kind, trail: dict[str, Any]) -> Any:
        location = header(response.headers, "Location")
        base = wayback_base(request.url)
        here = parse_wayback_url(request.url)
        target = rebase(urljoin(response.url, location), base, modifier=trail["modifier"]) if location else None
        if target is None:
            # An archived redirect to somewhere outside the archive (or none at all): it is the
            # final answer; the spider decides what it means.
            self.stats.inc_value("wayback/redirects/unfollowable")
            return None
        ref = parse_wayback_url(target)
        hop = {
            "kind": kind.value,
            "status": response.status,
            "from": public_url(here.timestamp, here.original),
            "to": public_url(ref.timestamp, ref.original),
        }
        if kind is Kind.WAYBACK_REDIRECT:
            hop["reason_timestamp"] = redirect_reason_timestamp(response.headers)
        hops = [*trail["hops"], hop]
        archived = list(trail["archived_redirects"])
        if kind is Kind.ARCHIVED_REDIRECT:
            ts = memento_datetime(response.headers) or here.timestamp
            archived.append({
                "timestamp": ts,
                "original": original_url(response.headers) or here.original,
                "status": response.status,
                "target": ref.original,
                "wayback_url": public_url(ts, original_url(response.headers) or here.original),
            })
        partial = {**trail, "hops": hops, "archived_redirects": archived}
        visit = _visit(ref.timestamp, ref.original)
        if visit in trail["seen"]:
            self.stats.inc_value("wayback/redirects/loops")
            info = final_info(response.url, response.status, response.headers, kind, partial)
            raise RedirectLoop(f"redirect loop back to {hop['to']}", info)
        if len(hops) > self.max_hops:
            self.stats.inc_value("wayback/redirects/hop_limit")
            info = final_info(response.url, response.status, response.headers, kind, partial)
            raise TooManyHops(f"more than {self.max_hops} redirects", info)
        self.stats.inc_value("wayback/redirects/followed")
        if kind is Kind.ARCHIVED_REDIRECT:
            self.stats.inc_value("wayback/redirects/archived")
        else:
            self.stats.inc_value("wayback/redirects/nearest_capture")
        meta = {k: v for k, v in request.meta.items() if k not in ("retry_times", "wayback_epoch", "wayback", "download_slot")}
        meta[TRAIL] = {**partial, "seen": [*trail["seen"], visit]}
        logger.debug("Following Wayback %s %s -> %s", kind.value, request.url, target)
        return request.replace(url=target, meta=meta, dont_filter=True, priority=request.priority + self.priority_adjust)
