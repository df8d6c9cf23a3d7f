"""``extract_page``: archived bytes in, a clean record (or the reason there is none) out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from lxml.html import HtmlElement

from ..wayback.urls import parse_wayback_url
from . import english, era_a, era_b, era_c, generic
from . import reject as R
from .decode import UndecodableError, decode_bytes, header
from .dom import PageTree, parse_html, text_of
from .language import detect_language
from .listing import is_article_url, is_listing_url
from .template import TemplateResult
from .wayback import strip_wayback_insert

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "1.0.0"
# Bytes beyond this are not read (a page this size is not an interpretation; the capture stays stored).
MAX_PAGE_BYTES = 16 * 1024 * 1024
# A body shorter than this (letters and digits, not counting whitespace) holds no article.
MIN_BODY_CHARS = 20
# A page whose visible text is shorter than this and whose scripts are longer is a script shell.
SHELL_MAX_TEXT = 200


@dataclass
class ExtractedPage:
    title: str
    resulting_text: str
    publish_date: str | None = None
    source: str | None = None
    department: str | None = None
    document_number: str | None = None
    index_number: str | None = None
    policy_links: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    english_url: str | None = None
    chinese_url: str | None = None
    language: str = "und"
    language_score: float = 0.0
    language_method: str = "han-share"
    charset: str | None = None
    extractor: str = ""
    extractor_version: str = EXTRACTOR_VERSION
    warnings: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        """The fields of a ``documents`` row this page fills (the pipeline adds URL and capture fields)."""
        doc = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "warnings"}
        doc["policy_links"] = [dict(link) for link in self.policy_links]
        doc["attachments"] = [dict(link) for link in self.attachments]
        return doc


@dataclass
class Rejection:
    reason: str  # one of reject.REASONS
    detail: str = ""
    charset: str | None = None

    @property
    def final(self) -> bool:
        """Whether the capture is settled as not a document (else a later reading may still give one)."""
        return self.reason not in R.NOT_FINAL


def _reject(reason: str, detail: str, charset: str | None = None) -> Rejection:
    assert reason in R.REASONS, reason
    return Rejection(reason, detail[:500], charset)


def timed_out(seconds: float) -> Rejection:
    """The rejection of a page whose extraction was stopped after ``seconds``."""
    return _reject("timed-out", f"extraction took more than {seconds:g} s and was stopped")


def _not_found(page_lines: list[str], charset: str | None) -> Rejection | None:
    """The site's 404 page, for a page with too little text: a not-found line on it says so."""
    marker = R.site_404_line(page_lines)
    return _reject("site-404", f"no article text and {marker!r} on the page", charset) if marker else None


def _count_alnum(text: str, enough: int) -> int:
    """Letters and digits in ``text``; the count stops once it reaches ``enough``."""
    count = 0
    for start in range(0, len(text), enough):
        count += sum(map(str.isalnum, text[start:start + enough]))
        if count >= enough:
            break
    return count


def _script_text_length(root: HtmlElement) -> int:
    return sum(len(s.text or "") for s in root.iter("script"))


def _run_template(tree: PageTree, url: str, raw: str) -> TemplateResult:
    """The first MOFCOM template that finds its container, else the generic fallback."""
    attempts = []
    if english.matches(url):
        attempts.append(english.extract)
    if era_c.matches(raw, url):
        attempts.append(era_c.extract)
    if era_b.matches(tree, raw):
        attempts.append(era_b.extract)
    if era_a.matches(tree, raw):
        attempts.append(era_a.extract)
    warnings = []
    for attempt in attempts:
        try:
            result = attempt(tree, url)
        except Exception as exc:  # a template bug must not lose the page: the fallback still runs
            log.exception("template %s failed on %s", attempt.__module__, url)
            warnings.append(f"{attempt.__module__} failed: {exc!r}")
            continue
        if result is not None:
            # A template that found its container has read the page, even when the container is empty
            # (an image-only infographic): that is an empty page, not one for the fallback to guess at.
            result.warnings[:0] = warnings
            return result
    result = generic.extract(tree, url, raw)
    result.warnings[:0] = warnings
    return result


def _extract(body: bytes, url: str, headers: Mapping[str, str] | None) -> ExtractedPage | Rejection:
    ref = parse_wayback_url(url) if "/web/" in url else None
    if ref is not None:
        url = ref.original
    body = bytes(body or b"")
    warnings: list[str] = []
    if len(body) > MAX_PAGE_BYTES:
        warnings.append(f"page of {len(body)} bytes read up to {MAX_PAGE_BYTES}")
        body = body[:MAX_PAGE_BYTES]
    if not body or body.isspace():  # (body.strip() would copy the page)
        return _reject("empty", "no bytes")
    kind = R.binary_kind(body, header(headers, "content-type"))
    if kind:
        return _reject("not-html", kind)
    try:
        decoded = decode_bytes(body, headers)
    except UndecodableError as exc:
        return _reject("undecodable", str(exc))
    charset = decoded.charset
    warnings += decoded.warnings
    text = strip_wayback_insert(decoded.text)
    if decoded.gzipped and R.binary_kind(text.encode("utf-8", "ignore")[:8], None):
        return _reject("not-html", "gzip stream of a binary file", charset)
    if not R.has_markup(text):
        return _reject("not-html" if text.strip() else "empty", "no HTML markup in the payload", charset)
    root = parse_html(text)
    if root is None:
        return _reject("empty", "nothing to parse", charset)

    tree = PageTree(root)
    page_lines = tree.lines()
    visible = "\n".join(page_lines)
    marker = R.wayback_error(visible)
    if marker:
        return _reject("wayback-error", f"the Wayback Machine's own page: {marker!r}", charset)
    head_title = text_of(root.find(".//title"))
    marker = R.site_404(head_title)
    if marker or head_title.strip().startswith("404"):
        return _reject("site-404", f"page title {head_title!r}", charset)
    if is_listing_url(url) and not is_article_url(url):
        return _reject("not-interpretation", "listing page: read it with find_listing_links", charset)
    script = _script_text_length(root) if len(visible) < SHELL_MAX_TEXT else 0
    if script > len(visible):
        return _reject("script-shell", f"{len(visible)} characters of text, {script} of script", charset)

    # A page that shows a not-found line and too little text for an article is the site's 404 page.
    # It is told here, from the visible text, because on a page no template reads the generic fallback
    # would take tens of milliseconds to find the same nothing.
    if _count_alnum(visible, MIN_BODY_CHARS * 10) < MIN_BODY_CHARS * 10 and (
        not_found := _not_found(page_lines, charset)
    ):
        return not_found

    result = _run_template(tree, url, text)
    body_text = "\n\n".join(result.paragraphs)
    substance = _count_alnum(body_text, MIN_BODY_CHARS * 10)
    if substance < MIN_BODY_CHARS * 10 and (not_found := _not_found(page_lines, charset)):
        return not_found
    if substance < MIN_BODY_CHARS:
        if script:
            return _reject("script-shell", "only scripts, no article text", charset)
        return _reject("empty", f"{result.extractor}: {substance} characters of article text", charset)
    if not result.title:
        warnings.append("no title on the page")
    if not R.is_interpretation(url, result.title, result.column):
        return _reject("not-interpretation", f"title {result.title!r} in column {result.column!r}", charset)

    guess = detect_language(f"{result.title or ''}\n{body_text}")
    return ExtractedPage(
        title=result.title or "",
        resulting_text=body_text,
        publish_date=result.publish_date,
        source=result.source,
        department=result.department,
        document_number=result.document_number,
        index_number=result.index_number,
        policy_links=result.policy_links,
        attachments=result.attachments,
        english_url=result.english_url,
        chinese_url=result.chinese_url,
        language=guess.language,
        language_score=guess.score,
        language_method=guess.method,
        charset=charset,
        extractor=result.extractor,
        warnings=warnings + result.warnings,
    )


def extract_page(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ExtractedPage | Rejection:
    """Read one archived page: an :class:`ExtractedPage`, or a :class:`Rejection` saying why not.

    ``body`` is the archived payload (``id_`` bytes), ``url`` the original URL (a Wayback URL is
    unwrapped), ``headers`` the archived response headers. Never raises: any bytes give one of the two.
    """
    try:
        return _extract(body, url, headers)
    except Exception as exc:  # the crawl must go on; the capture is kept with this reason for audit
        log.exception("extract_page failed on %s", url)
        return _reject("not-html", f"unreadable page: {exc!r}")
