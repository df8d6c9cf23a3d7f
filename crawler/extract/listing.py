"""Listing pages: which URLs are listings or articles (mofcom-site.md §5.1), and the article links on
a listing page, in page order.

- Era A/B columns: ``/article/<column>/`` and page N as ``/article/<column>/?N``.
- Era C: ``/<section>/index.html``, ``index_N.html`` (layui pagination).
- Department sub-site columns: the same shapes on ``<dept>.mofcom.gov.cn``.
- The homepage: only its 政策解读 block is wanted, so only links into interpretation columns are kept.

On a column page the known list containers (``ul.policy-list``, ``.txtList_01``, ``.listBox``...)
are read when present, so sidebars of other columns stay out; otherwise every article link counts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from lxml.html import HtmlElement

from ..urls import SESSION_PARAMS, canonical_url
from ..wayback.urls import parse_wayback_url
from .decode import UndecodableError, decode_bytes
from .dom import has_class, parse_html
from .links import absolute_url, is_mofcom
from .reject import INTERPRETATION_COLUMN
from .wayback import strip_wayback_insert

log = logging.getLogger(__name__)

_ARTICLE_AB = re.compile(r"^/article/[a-z0-9_]+(?:/[a-z0-9_]+)*/(?:19|20)\d{4}/\d{3,14}\.s?html?$", re.I)
_ARTICLE_C = re.compile(r"^/(?:[a-z0-9_]+/)+art/(?:19|20)\d{2}/art_[0-9a-f]{32}\.html$", re.I)
_LISTING_AB = re.compile(r"^/article/[a-z0-9_]+(?:/[a-z0-9_]+)*/?(?:index(?:_\d+)?\.s?html?)?$", re.I)
_LISTING_C = re.compile(r"^/(?:[a-z0-9_]+/)+(?:index(?:_\d+)?\.html)?$", re.I)
_HOME = re.compile(r"^/?(?:index\.s?html?)?$", re.I)

LIST_CONTAINERS = (
    f"//ul[{has_class('policy-list')}]",
    f"//*[{has_class('txtList_01')}]",
    f"//*[{has_class('txtList_02')}]",
    f"//*[{has_class('listCon')}]",
    f"//*[{has_class('listBox')}]",
    f"//*[{has_class('u-newsList01')}]",
    f"//section[{has_class('m-con-01')}]",
    f"//*[{has_class('MainList')}]",
    "//*[@id='leftList']",
)


def _split(url: str):
    ref = parse_wayback_url(url) if "/web/" in url else None
    if ref is not None:
        url = ref.original
    try:
        parts = urlsplit(url.strip() if "://" in url else "http://" + url.strip())
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not is_mofcom(parts.geturl()):
        return None
    return parts


_PAGE_NUMBER = re.compile(r"\d{1,4}")


def _query_allowed(parts, page_number: bool) -> bool:
    """No query, only session parameters (``wscckey``), or, on a listing, a bare page number ``?2``."""
    if not parts.query or (page_number and _PAGE_NUMBER.fullmatch(parts.query)):
        return True
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return all(k.lower() in SESSION_PARAMS for k, _ in pairs)


def is_article_url(url: str) -> bool:
    """An article page on a MOFCOM site: ``/article/…/YYYYMM/<id>.shtml`` or ``/…/art/YYYY/art_<hex>.html``."""
    parts = _split(url)
    if parts is None or not _query_allowed(parts, page_number=False):
        return False
    return bool(_ARTICLE_AB.match(parts.path) or _ARTICLE_C.match(parts.path))


def is_listing_url(url: str) -> bool:
    """A listing on a MOFCOM site: a column (``/article/zwgk/gkzcjd/``, ``?2``), ``index_N.html``, the homepage."""
    parts = _split(url)
    if parts is None or not _query_allowed(parts, page_number=True):
        return False
    path = parts.path or "/"
    if _ARTICLE_AB.match(path) or _ARTICLE_C.match(path):
        return False
    return bool(_HOME.match(path) or _LISTING_AB.match(path) or _LISTING_C.match(path))


def _is_home(url: str) -> bool:
    parts = _split(url)
    return parts is not None and bool(_HOME.match(parts.path or "/"))


def _article_links(scopes: list[HtmlElement], base: str, only_interpretations: bool) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for scope in scopes:
        for a in scope.iter("a"):
            url = absolute_url(a.get("href"), base)
            if url is None or not is_article_url(url):
                continue
            if only_interpretations and not INTERPRETATION_COLUMN.match(urlsplit(url).path):
                continue
            key = canonical_url(url)
            if key not in seen:
                seen.add(key)
                found.append(url)
    return found


def links_on(root: HtmlElement, url: str) -> list[str]:
    """Article links on a parsed listing page (see the module docstring for which)."""
    if _is_home(url):
        return _article_links([root], url, only_interpretations=True)
    for xp in LIST_CONTAINERS:
        found = _article_links(root.xpath(xp), url, only_interpretations=False)
        if found:
            return found
    return _article_links([root], url, only_interpretations=False)


def find_listing_links(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> list[str]:
    """Absolute article URLs on a listing page, in page order, deduplicated; [] for an unreadable page.

    Never raises: a page that cannot be read is logged and gives no links.
    """
    try:
        text = decode_bytes(bytes(body or b""), headers).text
        root = parse_html(strip_wayback_insert(text))
        if root is None:
            return []
        ref = parse_wayback_url(url) if "/web/" in url else None
        return links_on(root, ref.original if ref else url)
    except UndecodableError:
        return []
    except Exception:  # the crawl goes on without this page's links
        log.exception("find_listing_links failed on %s", url)
        return []
