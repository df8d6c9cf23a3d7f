"""Parsing decoded HTML with lxml, and reading it back as lines of text, block by block."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from .clean import normalise_parts, normalise_space

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

# lxml.html's parser asks Python which class each element gets (for its form classes, unused here); this
# one answers in C and makes every element a plain HtmlElement.
_PARSER = lxml.etree.HTMLParser()
_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Characters libxml2 refuses in text: C0 controls other than tab/newline/carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_html(text: str) -> HtmlElement | None:
    """The document's root element, or None when there is no markup to parse."""
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
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


# How the text walk treats an element, by its tag.
_SKIP, _BLOCK, _BR, _CELL, _INLINE = range(5)
_KINDS: dict[object, int] = {}
# Ends a line among the pieces of a walk: text read from libxml2 never holds a NUL.
_BREAK = "\x00"


def _kind(tag: object) -> int:
    kind = _KINDS.get(tag)
    if kind is None:
        name = tag.lower() if isinstance(tag, str) else ""
        if not name or name in NON_TEXT_TAGS:
            kind = _SKIP
        elif name in BLOCK_TAGS:
            kind = _BLOCK
        elif name == "br":
            kind = _BR
        elif name in CELL_TAGS:
            kind = _CELL
        else:
            kind = _INLINE
        if len(_KINDS) < 10_000:  # hostile pages may invent any number of tags
            _KINDS[tag] = kind
    return kind


def _walk(root: HtmlElement, spans: dict[HtmlElement, tuple[int, int]]) -> list[str]:
    """The text pieces of ``root`` in document order, ``_BREAK`` where a line ends; ``spans`` gets the
    range of pieces of every element visited, from its start up to its tail."""
    pieces: list[str] = []
    append = pieces.append
    open_elements: list[tuple[int, int]] = []  # (kind, first piece) of each element not yet ended
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        if event == "start":
            kind = _kind(el.tag)
            open_elements.append((kind, len(pieces)))
            if kind == _SKIP:
                walker.skip_subtree()
                continue
            if kind in (_BLOCK, _BR):
                append(_BREAK)
            elif kind == _CELL:
                append(" ")
            text = el.text
            if text:
                append(text)
        else:
            kind, start = open_elements.pop()
            if kind == _BLOCK:
                append(_BREAK)
            elif kind == _CELL:
                append(" ")
            spans[el] = (start, len(pieces))
            tail = el.tail
            if tail and el is not root:
                append(tail)
    return pieces


def _join_lines(pieces: list[str]) -> list[str]:
    return normalise_parts("".join(pieces), _BREAK)


def lines(root: HtmlElement) -> list[str]:
    """The text of ``root`` as lines: every block element and ``<br>`` breaks a line.

    Scripts and styles are passed over (their tails are kept). Whitespace inside a line is normalised
    (``normalise_space``); empty lines are left out. Iterative, so deep markup cannot exhaust the stack.
    """
    return _join_lines(_walk(root, {}))


def text_of(el: HtmlElement | None) -> str:
    """All text of ``el`` on one line, whitespace normalised (scripts excluded)."""
    if el is None:
        return ""
    parts = []
    for node in el.iter():
        text = node.text
        if text and _kind(node.tag) != _SKIP:
            parts.append(text)
        tail = node.tail
        if tail and node is not el:
            parts.append(tail)
    return normalise_space("".join(parts))


@functools.cache
def _xpath(expression: str) -> lxml.etree.XPath | None:
    try:
        return lxml.etree.XPath(expression)
    except lxml.etree.XPathSyntaxError:
        return None


def first(root: HtmlElement, *xpaths: str) -> HtmlElement | None:
    """The first element matched by the first XPath (in order) that matches anything."""
    for xp in xpaths:
        compiled = _xpath(xp)
        if compiled is None:
            continue
        try:
            found = compiled(root)
        except lxml.etree.XPathError:
            continue
        for el in found:
            if isinstance(el, HtmlElement):
                return el
    return None


def has_class(name: str) -> str:
    """An XPath predicate body true for elements whose class attribute contains the word ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@dataclass(frozen=True)
class Select:
    """Elements of the whole page (``//*``, or ``//tag`` with ``tag``) with one of the class ``words``
    (the XPath ``has_class``), a class attribute containing one of the ``parts`` (``contains(@class, ...)``)
    or one of the ``ids``."""

    words: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    tag: str | None = None


# What XPath's normalize-space() counts as whitespace when it splits a class attribute into words.
_XML_SPACE = re.compile(r"[ \t\n\r]+")


class PageTree:
    """A parsed page, walked once for its text: the lines of the page, of an element in it, and of the
    page without one element are all read off that one walk. The tree must not change meanwhile."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self._spans: dict[HtmlElement, tuple[int, int]] = {}
        self._pieces = _walk(root, spans=self._spans)
        self._lines = _join_lines(self._pieces)
        # (element, tag, class, class words, id) of each element with a class or an id, in document order.
        self._attributed: list[tuple[HtmlElement, str, str, frozenset[str], str | None]] | None = None

    def lines(self, el: HtmlElement | None = None) -> list[str]:
        """``lines(el)``; the whole page's lines when ``el`` is None."""
        if el is None or el is self.root:
            return list(self._lines)
        span = self._spans.get(el)
        if span is None:  # not reached by the page's walk: inside a script, or in another tree
            return lines(el)
        return _join_lines(self._pieces[span[0]:span[1]])

    def lines_without(self, el: HtmlElement) -> list[str]:
        """The page's lines with the subtree ``el`` left out (its tail kept): a line ends where it was."""
        span = self._spans.get(el)
        if span is None:  # not reached by the page's walk either: nothing to leave out
            return list(self._lines)
        return _join_lines([*self._pieces[:span[0]], _BREAK, *self._pieces[span[1]:]])

    def first(self, *selects: Select) -> HtmlElement | None:
        """The first element (in document order) of the first ``Select`` (in order) that finds any."""
        if self._attributed is None:
            self._attributed = []
            for el in self.root.iter(lxml.etree.Element):
                cls, id_ = el.get("class"), el.get("id")
                if cls is not None or id_ is not None:
                    cls = cls or ""
                    self._attributed.append((el, el.tag, cls, frozenset(_XML_SPACE.split(cls)), id_))
        for select in selects:
            for el, tag, cls, words, id_ in self._attributed:
                if select.tag is not None and tag != select.tag:
                    continue
                if (
                    id_ in select.ids
                    or not words.isdisjoint(select.words)
                    or (select.parts and any(part in cls for part in select.parts))
                ):
                    return el
        return None
