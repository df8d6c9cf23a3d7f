"""Parsing decoded HTML with lxml, and reading it back as lines of text, block by block."""

from __future__ import annotations

import re
from collections.abc import Collection

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from .clean import normalise_space

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead",
        "tfoot", "tr", "ul", "caption", "html", "title",
    }
)
# Table cells sit side by side on one line.
CELL_TAGS = frozenset({"td", "th"})
# Never text: their content is code, styling or form state.
NON_TEXT_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "select",
                 "textarea", "button", "input", "svg", "canvas", "map", "link", "meta")

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Characters libxml2 refuses in text: C0 controls other than tab/newline/carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_html(text: str) -> HtmlElement | None:
    """The document's root element, or None when there is no markup to parse."""
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return None
    return root


def tag_of(el) -> str:
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else ""


def drop(el) -> None:
    """Remove ``el`` and its content, keeping the text that follows it."""
    if el.getparent() is not None:
        el.drop_tree()


def strip_non_text(root: HtmlElement) -> None:
    """Remove scripts, styles, comments and form controls (their tails stay)."""
    for el in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        drop(el)
    for el in list(root.iter(*NON_TEXT_TAGS)):
        drop(el)


def lines(root: HtmlElement, skip: Collection[HtmlElement] = ()) -> list[str]:
    """The text of ``root`` as lines: every block element and ``<br>`` breaks a line.

    Scripts, styles and the subtrees in ``skip`` are passed over (their tails are kept). Whitespace
    inside a line is normalised (``normalise_space``); empty lines are left out. Iterative, so deep
    markup cannot exhaust the stack.
    """
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            line = normalise_space("".join(buf))
            if line:
                out.append(line)
            buf.clear()

    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = tag_of(el)
        if event == "start":
            if not tag or tag in NON_TEXT_TAGS or el in skip:
                walker.skip_subtree()
                if el in skip:
                    flush()
                continue
            if tag in BLOCK_TAGS or tag == "br":
                flush()
            elif tag in CELL_TAGS:
                buf.append(" ")
            if el.text:
                buf.append(el.text)
        else:
            if tag in BLOCK_TAGS or el in skip:
                flush()
            elif tag in CELL_TAGS:
                buf.append(" ")
            if el.tail and el is not root:
                buf.append(el.tail)
    flush()
    return out


def text_of(el: HtmlElement | None) -> str:
    """All text of ``el`` on one line, whitespace normalised (scripts excluded)."""
    if el is None:
        return ""
    parts = []
    for node in el.iter():
        tag = tag_of(node)
        if tag and tag not in NON_TEXT_TAGS and node.text:
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return normalise_space("".join(parts))


def first(root: HtmlElement, *xpaths: str) -> HtmlElement | None:
    """The first element matched by the first XPath (in order) that matches anything."""
    for xp in xpaths:
        try:
            found = root.xpath(xp)
        except lxml.etree.XPathError:
            continue
        for el in found:
            if isinstance(el, HtmlElement):
                return el
    return None


def has_class(name: str) -> str:
    """An XPath predicate body true for elements whose class attribute contains the word ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
