"""What is not a document: the reasons a capture is rejected (and kept, with its reason, for audit).

- ``not-html``: binary payloads (PDF, images, archives) or text with no markup at all.
- ``undecodable``: no charset turns the bytes into text.
- ``wayback-error``: the archive's own page ("Hrm. The Wayback Machine has not archived that URL.",
  "Sorry. This URL has been excluded…"), stored or served in place of the capture.
- ``site-404``: MOFCOM's own "page not found" page, archived with status 200 ("404 Error",
  "抱歉，您访问的页面不存在！").
- ``script-shell``: a page that is only scripts (the anti-bot ``wscckey`` challenge, JS-rendered
  listings) with no text of its own.
- ``empty``: a page with the article template but no article text.
- ``not-interpretation``: an article that is not a policy interpretation (see :func:`is_interpretation`),
  or a listing page handed to ``extract_page`` (listings go to ``find_listing_links``).
- ``timed-out``: extraction took longer than ``CORPUS_EXTRACT_TIMEOUT``, in a worker process or in the
  crawl's own (see ``crawler/extraction.py``). Not final: the crawl records such a capture as an error, which the next
  crawl fetches and reads again.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

REASONS = (
    "site-404", "wayback-error", "empty", "script-shell", "not-interpretation", "undecodable", "not-html", "timed-out",
)
# Reasons that say nothing of the capture itself, only of this reading of it: worth another try.
NOT_FINAL = frozenset({"timed-out"})

BINARY_MAGIC = {
    b"%PDF": "PDF document",
    b"PK\x03\x04": "zip archive (docx/xlsx)",
    b"\xd0\xcf\x11\xe0": "OLE document (doc/xls)",
    b"\x89PNG": "PNG image",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"Rar!": "RAR archive",
    b"\x00\x00\x01\x00": "icon",
}
_NON_HTML_TYPES = re.compile(r"^\s*(?:image|audio|video|font)/|application/(?:pdf|zip|msword|octet-stream|vnd\.)", re.I)
_MARKUP = re.compile(r"<\s*(?:html|head|body|div|p|title|meta|table|script|span|a|br|ul|section|h[1-6])\b", re.I)

WAYBACK_MARKERS = (
    "The Wayback Machine has not archived that URL",
    "This URL has been excluded from the Wayback Machine",
    "Wayback Machine doesn't have that page archived",
    "Wayback Machine doesn\u2019t have that page archived",
    "This snapshot cannot be displayed",
    "Snapshot cannot be displayed due to an internal error",
    "The machine that serves this file is down",
    "Got an HTTP 30",  # "Got an HTTP 302 response at crawl time": an archived redirect shown by the viewer
)
SITE_404_MARKERS = (
    "404 Error",
    "404 Not Found",
    "抱歉，您访问的页面不存在",
    "您访问的页面不存在",
    "您所访问的页面不存在",
    "页面不存在",
    "页面未找到",
    "找不到该页面",
    "该页面已被删除",
)

# Interpretation columns (mofcom-site.md §1.2, §1.4): everything published there is an interpretation.
INTERPRETATION_COLUMN = re.compile(r"^/(?:article/zhengcejd|article/zwgk/gkzcjd|article/zcjd|zcjd)(?:/|$)", re.I)
INTERPRETATION_COLUMN_NAME = re.compile(r"政策解读|解读|答记者问")
# A title that says it interprets or answers questions about a policy.
INTERPRETATION_TITLE_ZH = re.compile(r"解读|答记者问|负责人|问答|答问|答疑|释疑|吹风会|一图读懂|图解|政策解析|就.{1,40}(?:回答|答)")
INTERPRETATION_TITLE_EN = re.compile(
    r"interpret|\bQ\s*&\s*A\b|\banswer(?:s|ed|ing)?\b.{0,60}\bquestions?\b|\bexplain|\bin charge of\b|"
    r"\bresponsible (?:person|official)\b|\bofficials? (?:of|from) (?:the )?(?:MOFCOM|Ministry of Commerce)\b|"
    r"\bpolicy briefing\b",
    re.I,
)


def binary_kind(body: bytes, headers_content_type: str | None) -> str | None:
    """What a non-HTML payload is ("PDF document"), or None for what may be HTML.

    Magic bytes decide; an archived non-HTML Content-Type only when the bytes show no markup either
    (servers mislabel HTML as application/octet-stream).
    """
    for magic, kind in BINARY_MAGIC.items():
        if body.startswith(magic):
            return kind
    if body[:2] == b"\x1f\x8b":
        return None  # gzip left on by the archive: decoding inflates it, then it is judged again
    labelled_binary = bool(headers_content_type and _NON_HTML_TYPES.search(headers_content_type))
    if labelled_binary and not has_markup(body[:4096].decode("latin-1")):
        return f"archived Content-Type {headers_content_type.strip()}"
    return None


def has_markup(text: str) -> bool:
    return _MARKUP.search(text[:200_000]) is not None


def wayback_error(text: str) -> str | None:
    for marker in WAYBACK_MARKERS:
        if marker in text:
            return marker
    return None


# A line of a not-found page: the whole line is the message (an article may mention 页面不存在 in passing).
_SITE_404_LINE = re.compile(
    r"^(?:404(?:\s*(?:Error|Not Found))?|(?:抱歉[，,]?\s*)?您(?:所)?访问的页面(?:不存在|已删除|找不到)|页面不存在|页面未找到|找不到该页面|"
    r"该页面已被删除)[！!。.]?$",
    re.I,
)


def site_404(text: str) -> str | None:
    """A not-found marker anywhere in ``text`` (used on titles)."""
    for marker in SITE_404_MARKERS:
        if marker in text:
            return marker
    return None


def site_404_line(lines: list[str]) -> str | None:
    """A line that is a not-found message on its own ("404 Error", "抱歉，您访问的页面不存在！")."""
    for line in lines:
        if _SITE_404_LINE.match(line.strip()):
            return line.strip()
    return None


def is_interpretation(url: str, title: str | None, column: str | None = None) -> bool:
    """The title/column test: an interpretation column, a column named 政策解读, or a title that says so.

    On the English site only the title decides (it has no interpretation column).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    title = title or ""
    if host.startswith("english."):
        return bool(INTERPRETATION_TITLE_EN.search(title))
    if INTERPRETATION_COLUMN.match(parts.path or "/"):
        return True
    if column and INTERPRETATION_COLUMN_NAME.search(column):
        return True
    return bool(INTERPRETATION_TITLE_ZH.search(title))
