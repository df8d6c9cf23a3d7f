"""Links on a page made absolute, and sorted into policy texts, attachments and language versions."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml.html import HtmlElement

from ..wayback.urls import parse_wayback_url
from .clean import normalise_space

ATTACHMENT_EXTENSIONS = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".zip", ".rar", ".7z", ".ppt", ".pptx",
    ".ofd", ".txt", ".csv", ".jpg", ".jpeg", ".png", ".tif",
)
_POLICY_LABELS = r"(?:政策原文|原文链接|原文|相关链接|相关政策|相关文件|政策文件|文件链接|政策链接)"
# A block that introduces links to the text being interpreted: "政策原文：<a>…</a>", "[相关链接] <a>…</a>".
POLICY_LABEL = re.compile(rf"^(?:[\[【]\s*{_POLICY_LABELS}\s*[\]】]|{_POLICY_LABELS}\s*[：:])")
# A link whose whole text is such a label: "[政策原文]".
POLICY_LINK_TEXT = re.compile(rf"^[\[【(（]?\s*{_POLICY_LABELS}\s*[\]】)）]?$")
_BRACKETED = re.compile(r"^[\[【]\s*(.*?)\s*[\]】]$")


def absolute_url(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base``; Wayback-rewritten links unwrapped; None for non-web links."""
    if not href:
        return None
    href = href.strip().replace("\\", "/")
    if not href or href.startswith("#") or re.match(r"^(?:javascript|mailto|tel|data):", href, re.I):
        return None
    try:
        url = urljoin(base, href)
        ref = parse_wayback_url(url) if "/web/" in url else None
        if ref is not None:
            url = ref.original
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def link_text(a: HtmlElement) -> str:
    text = normalise_space(a.text_content()) or normalise_space(a.get("title") or "")
    m = _BRACKETED.match(text)
    return m.group(1) if m else text


def is_attachment_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(ATTACHMENT_EXTENSIONS)


def is_english_site(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower().startswith("english.")


def is_mofcom(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "mofcom.gov.cn" or host.endswith(".mofcom.gov.cn")


def is_english_version_link(a: HtmlElement, url: str) -> bool:
    """The centred ``ev.gif`` image link (or an "English" link) to english.mofcom.gov.cn."""
    if not is_english_site(url):
        return False
    images = [img.get("src", "").lower() for img in a.iter("img")]
    text = normalise_space(a.text_content()).lower()
    return any("ev.gif" in src or "english" in src for src in images) or text in ("english", "英文版", "english version")


def is_chinese_version_link(a: HtmlElement, url: str) -> bool:
    """On an English page: a link to the Chinese article on www (or a department sub-site)."""
    from .listing import is_article_url

    return is_mofcom(url) and not is_english_site(url) and is_article_url(url)


def dedupe_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link["url"] not in seen:
            seen.add(link["url"])
            out.append(link)
    return out
