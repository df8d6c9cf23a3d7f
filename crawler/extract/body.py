"""An article container turned into paragraphs, with its links sorted out.

Works on a copy of the container: the EN/ZH version link, the policy-text links ("政策原文：…",
"[政策原文]") and widgets are taken out of the text; attachment links stay in the text (the "附件："
lines name the document's annexes) and are also listed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import lxml.etree
from lxml.html import HtmlElement

from . import links as L
from .clean import clean_lines, is_widget_element, is_widget_image, normalise_space, prune_widgets
from .dom import BLOCK_TAGS, PageTree, lines, strip_non_text, tag_of


@dataclass
class Body:
    paragraphs: list[str] = field(default_factory=list)
    policy_links: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    english_url: str | None = None
    chinese_url: str | None = None


def _enclosing_block(el: HtmlElement, stop: HtmlElement) -> HtmlElement | None:
    node = el.getparent()
    while node is not None and node is not stop:
        if tag_of(node) in BLOCK_TAGS:
            return node
        node = node.getparent()
    return None


def _attached(el: HtmlElement, root: HtmlElement) -> bool:
    """False once an earlier step dropped ``el`` (or a block around it) from ``root``."""
    node = el
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


def _drop_link_and_empty_block(a: HtmlElement, container: HtmlElement) -> None:
    block = _enclosing_block(a, container)
    a.drop_tree()
    if block is not None and not normalise_space(block.text_content()) and not block.findall(".//img"):
        block.drop_tree()


def _nothing_to_take_out(container: HtmlElement) -> bool:
    """True when ``read_body`` would take nothing out of ``container`` but the scripts, styles, form
    controls and comments that the page's text walk passes over as well: it holds no link and no widget."""
    for el in container.iter(lxml.etree.Element):
        if el.tag == "a":
            return False
        if el is not container and (is_widget_element(el) or is_widget_image(el)):
            return False
    return True


def read_body(
    container: HtmlElement, base_url: str, english_page: bool = False, tree: PageTree | None = None
) -> Body:
    """Paragraphs and links of an article container (the page's own tree is left untouched); ``tree``, the
    page's, when the container is one of its elements."""
    if tree is not None and _nothing_to_take_out(container):
        return Body(paragraphs=clean_lines(tree.lines(container)))
    box = copy.deepcopy(container)
    strip_non_text(box)
    body = Body()

    for a in list(box.iter("a")):
        if not _attached(a, box):
            continue
        url = L.absolute_url(a.get("href"), base_url)
        if url is None:
            continue
        text = L.link_text(a)
        if not english_page and body.english_url is None and L.is_english_version_link(a, url):
            body.english_url = url
            _drop_link_and_empty_block(a, box)
        elif english_page and body.chinese_url is None and L.is_chinese_version_link(a, url):
            body.chinese_url = url
            block = _enclosing_block(a, box)
            # The link back sits alone in the body's first div: the whole div goes.
            if block is not None and len(normalise_space(block.text_content())) <= len(text) + 40:
                block.drop_tree()
            else:
                a.drop_tree()
        elif L.is_attachment_url(url):
            body.attachments.append({"text": text or url.rsplit("/", 1)[-1], "url": url})
        else:
            block = _enclosing_block(a, box)
            block_text = normalise_space(block.text_content()) if block is not None else ""
            if L.POLICY_LINK_TEXT.match(normalise_space(a.text_content())):
                body.policy_links.append({"text": text, "url": url})
                _drop_link_and_empty_block(a, box)
            elif block is not None and L.POLICY_LABEL.match(block_text):
                body.policy_links.append({"text": text, "url": url})
                anchors = list(block.iter("a"))
                for other in anchors:
                    other_url = L.absolute_url(other.get("href"), base_url)
                    if other is not a and other_url and not L.is_attachment_url(other_url):
                        body.policy_links.append({"text": L.link_text(other), "url": other_url})
                # The label line goes; a block that holds more than the label and its links is text.
                prose = len(block_text) - sum(len(normalise_space(x.text_content())) for x in anchors)
                if prose <= 12:
                    block.drop_tree()
            elif text.startswith("《") and text.endswith("》"):
                body.policy_links.append({"text": text, "url": url})

    prune_widgets(box)
    body.paragraphs = clean_lines(lines(box))
    body.policy_links = L.dedupe_links(body.policy_links)
    body.attachments = L.dedupe_links(body.attachments)
    return body


def label_links(el: HtmlElement | None, base_url: str) -> list[dict[str, str]]:
    """Policy-text links among the ``<a>`` of a title area ("[政策原文]")."""
    found: list[dict[str, str]] = []
    if el is None:
        return found
    for a in el.iter("a"):
        url = L.absolute_url(a.get("href"), base_url)
        if url and L.POLICY_LINK_TEXT.match(normalise_space(a.text_content())):
            found.append({"text": L.link_text(a), "url": url})
    return found
