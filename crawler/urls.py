"""URL forms of MOFCOM pages: the canonical key of a document, its section, and its SURT urlkey.

One article is often archived under several spellings (http/https, with or without ``www.``, with
MOFCOM's anti-bot ``wscckey`` parameter, with a trailing slash). Everything that is keyed on an
article URL goes through :func:`canonical_url` first, so those spellings become one document.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import surt as _surt

# Query parameters that identify a session or an anti-bot challenge, never a page.
SESSION_PARAMS = frozenset(
    {"wscckey", "jsessionid", "phpsessid", "sid", "sessionid", "aspsessionid", "cfid", "cftoken"}
)

_ARTICLE_ERA_AB = re.compile(r"^/article/(?P<section>[a-z0-9_/]+?)/\d{6}/\d{6,14}\.s?html?$", re.I)
_ARTICLE_ERA_C = re.compile(r"^/(?P<section>[a-z0-9_/]+?)/art/\d{4}/art_[0-9a-f]{32}\.html$", re.I)
_LISTING_AB = re.compile(r"^/article/(?P<section>[a-z0-9_/]+?)/?$", re.I)
_LISTING_C = re.compile(r"^/(?P<section>[a-z0-9_/]+?)/(?:index(?:_\d+)?\.html)?$", re.I)


@functools.lru_cache(maxsize=65536)  # called several times per capture on the same URLs
def canonical_url(url: str) -> str:
    """The one spelling of ``url`` that documents are keyed on.

    https scheme, lower-case host, ``www.`` added to the bare ``mofcom.gov.cn`` host, default port,
    fragment and session parameters dropped, remaining query parameters sorted, no trailing slash
    on a path other than ``/``.

    >>> canonical_url("HTTP://mofcom.gov.cn:80/article/zwgk/gkzcjd/?wscckey=ab_1")
    'https://www.mofcom.gov.cn/article/zwgk/gkzcjd'
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url.lstrip("/")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if host == "mofcom.gov.cn":
        host = "www.mofcom.gov.cn"
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SESSION_PARAMS
    ]
    # MOFCOM's listing pages use a bare "?2" for page 2: keep it as it is.
    query_s = urlencode(sorted(query)).replace("=&", "&")
    if query_s.endswith("="):
        query_s = query_s[:-1]
    return urlunsplit(("https", netloc, path, query_s, ""))


def urlkey(url: str) -> str:
    """The SURT key the Wayback Machine's CDX index uses for ``url`` (``cn,gov,mofcom)/article/...``)."""
    return _surt.surt(url)


def site_of(url: str) -> str:
    """The MOFCOM site a URL belongs to: ``www``, ``english``, or a department sub-site such as ``fms``."""
    host = (urlsplit(canonical_url(url)).hostname or "").lower()
    if host.endswith(".mofcom.gov.cn"):
        return host[: -len(".mofcom.gov.cn")] or "www"
    return host


def section_of(url: str) -> str:
    """The column a page sits in, read from its path (``zwgk/gkzcjd``, ``zhengcejd/bj``, ``zcjd/gnmy``).

    Pages off the main Chinese site are prefixed with their site (``english:policyrelease/announcement``).
    Unknown shapes give the first two path segments.
    """
    path = urlsplit(canonical_url(url)).path
    section = None
    for pattern in (_ARTICLE_ERA_AB, _ARTICLE_ERA_C, _LISTING_AB, _LISTING_C):
        m = pattern.match(path)
        if m:
            section = m.group("section").strip("/").lower()
            break
    if section is None:
        section = "/".join(p for p in path.split("/")[1:3] if p and "." not in p).lower()
    site = site_of(url)
    return section if site == "www" else f"{site}:{section}"
