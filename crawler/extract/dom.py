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
_C0_CONTROL_BYTES = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0D})


def _has_control(text: str) -> bool:
    """Whether ``_CONTROL`` finds anything in ``text``, at half the cost of a regex pass or less.

    In UTF-8 a byte below 0x20 only ever encodes that C0 character (surrogatepass: any str encodes).
    """
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _C0_CONTROL_BYTES)) != len(data) or "\ufffe" in text or "\uffff" in text


def parse_html(text: str) -> HtmlElement | None:
    """The document's root element, or None when there is no markup to parse."""
    text = _XML_DECL.sub("", text, count=1)
    if _has_control(text):
        text = _CONTROL.sub("", text)
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


# Ends a line among the pieces of a walk: text read from libxml2 never holds a NUL.
_BREAK = "\x00"
# How the text walk treats an element, by its tag: the piece put before its content and the one put after it
# (None: nothing), or _PASS_OVER: neither its text nor its children are read (its tail is).
_PASS_OVER = ()
_BLOCK = (_BREAK, _BREAK)
_BR = (_BREAK, None)
_CELL = (" ", " ")
_INLINE = (None, None)
_RULES: dict[object, tuple[str | None, ...]] = {}


def _rule(tag: object) -> tuple[str | None, ...]:
    rule = _RULES.get(tag)
    if rule is None:
        name = tag.lower() if isinstance(tag, str) else ""
        if not name or name in NON_TEXT_TAGS:
            rule = _PASS_OVER
        elif name in BLOCK_TAGS:
            rule = _BLOCK
        elif name == "br":
            rule = _BR
        elif name in CELL_TAGS:
            rule = _CELL
        else:
            rule = _INLINE
        if len(_RULES) < 10_000:  # hostile pages may invent any number of tags
            _RULES[tag] = rule
    return rule


def _walk(root: HtmlElement, spans: dict[HtmlElement, tuple[int, int]]) -> list[str]:
    """The text pieces of ``root`` in document order, ``_BREAK`` where a line ends; ``spans`` gets the
    range of pieces of every element visited, from its start up to its tail.

    A comment or processing instruction is passed over like a script: its tail is read.
    """
    pieces: list[str] = []
    append = pieces.append
    rules = _RULES
    # (element, piece that goes after its content, its first piece) of each element not yet ended, innermost
    # last. An element ends where the next element in document order is no descendant of it: a plain
    # iteration and getparent() cost less than lxml's iterwalk with its start and end events.
    open_elements: list[tuple[HtmlElement, str | None, int]] = []
    push, pop = open_elements.append, open_elements.pop
    passed_over: set[HtmlElement] = set()  # the element being passed over and its descendants met so far
    for el in root.iter():
        parent = el.getparent()
        if passed_over:
            if parent in passed_over:
                passed_over.add(el)
                continue
            passed_over.clear()
        while open_elements and open_elements[-1][0] is not parent:
            ended, after, start = pop()
            if after:
                append(after)
            spans[ended] = (start, len(pieces))
            tail = ended.tail
            if tail:
                append(tail)
        tag = el.tag
        rule = rules.get(tag)
        if rule is None:
            rule = _rule(tag)
        if rule is _PASS_OVER:
            push((el, None, len(pieces)))
            passed_over.add(el)
            continue
        before, after = rule
        push((el, after, len(pieces)))
        if before:
            append(before)
        text = el.text
        if text:
            append(text)
    while open_elements:  # the elements still open end with the root
        ended, after, start = pop()
        if after:
            append(after)
        spans[ended] = (start, len(pieces))
        tail = ended.tail
        if tail and ended is not root:
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
        if text and _rule(node.tag) is not _PASS_OVER:
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


class PageTree:
    """A parsed page, walked once for its text: the lines of the page, of an element in it, and of the
    page without one element are all read off that one walk. The tree must not change meanwhile."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self._spans: dict[HtmlElement, tuple[int, int]] = {}
        self._pieces = _walk(root, spans=self._spans)
        self._lines = _join_lines(self._pieces)
        # Filled on the first ``first``: (element, tag, class) of each element with a class or an id, in
        # document order, and the positions in that list of the elements with each class word and each id.
        self._attributed: list[tuple[HtmlElement, str, str]] | None = None
        self._by_word: dict[str, list[int]] = {}
        self._by_id: dict[str, list[int]] = {}

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
            self._index_attributes()
        for select in selects:
            found = self._first_position(select)
            if found is not None:
                return self._attributed[found][0]
        return None

    def _index_attributes(self) -> None:
        attributed: list[tuple[HtmlElement, str, str]] = []
        by_word, by_id = self._by_word, self._by_id
        for el in self.root.iter(lxml.etree.Element):
            cls = el.get("class")
            id_ = el.get("id")
            if cls is None and id_ is None:
                continue
            position = len(attributed)
            attributed.append((el, el.tag, cls or ""))
            if cls:
                # The words of normalize-space(@class): XPath's whitespace is space, tab, newline, return.
                if "\t" in cls or "\n" in cls or "\r" in cls:
                    cls = cls.replace("\t", " ").replace("\n", " ").replace("\r", " ")
                for word in cls.split(" "):
                    positions = by_word.get(word)
                    if positions is None:
                        by_word[word] = [position]
                    elif positions[-1] != position:  # the same word twice in one class attribute
                        positions.append(position)
            if id_ is not None:
                by_id.setdefault(id_, []).append(position)
        by_word.pop("", None)  # not a word: what split() finds between two spaces
        self._attributed = attributed

    def _first_position(self, select: Select) -> int | None:
        """The position in ``_attributed`` of the first element ``select`` finds."""
        attributed = self._attributed
        best = len(attributed)
        candidates = [self._by_word.get(word) for word in select.words] + [self._by_id.get(i) for i in select.ids]
        for positions in candidates:
            for position in positions or ():
                if position >= best:
                    break
                if select.tag is None or attributed[position][1] == select.tag:
                    best = position
                    break
        if select.parts:
            for position in range(best):
                _, tag, cls = attributed[position]
                if (select.tag is None or tag == select.tag) and any(part in cls for part in select.parts):
                    best = position
                    break
        return best if best < len(attributed) else None
