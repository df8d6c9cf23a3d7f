"""Era B (about 2019/2020 to mid 2024): ``div.art-title`` over ``div.art-con.art-con-bottonmLine``, the
date and source in ``section.article-tool`` ("发布时间：… 来源：…").

The title area may carry a "[政策原文]" link to the policy text being interpreted; it becomes a policy
link and never part of the title (the seed record's title had it glued on).
"""

from __future__ import annotations

from lxml.html import HtmlElement

from . import fields as F
from .body import label_links, read_body
from .dom import PageTree, Select, first, text_of
from .template import (
    ART_CON,
    ART_CON_B,
    TemplateResult,
    breadcrumb,
    check_date,
    date_from,
    department,
    first_non_empty,
)

NAME = "mofcom-era-b"
TITLE_AREA = Select(words=("art-title",))
TOOL_AREA = (Select(words=("article-tool",)), Select(words=("art-tool",)), Select(words=("art-info",)))


def matches(tree: PageTree, raw: str) -> bool:
    return "art-con-bottonmLine" in raw or tree.first(TITLE_AREA) is not None


def title_text(area: HtmlElement | None) -> str | None:
    """The title area's text without the label links glued to it ("[政策原文]")."""
    if area is None:
        return None
    heading = first(area, ".//h1", ".//h2", ".//h3")
    if heading is not None and text_of(heading):
        area = heading
    label_texts = {text_of(a) for a in area.iter("a") if F.TITLE_LINK_LABEL.fullmatch(text_of(a))}
    text = text_of(area)
    for label in label_texts:
        text = text.replace(label, " ")
    return F.clean_title(text)


def extract(tree: PageTree, url: str) -> TemplateResult | None:
    root = tree.root
    container = tree.first(ART_CON, ART_CON_B)
    if container is None:
        return None
    js = F.js_vars(root)
    meta = F.meta_tags(root)
    tool = tree.first(*TOOL_AREA)
    info = tree.lines(tool) if tool is not None else []
    labelled = F.labelled_fields(info + tree.lines_without(container))
    title_area = tree.first(TITLE_AREA)

    result = TemplateResult(NAME)
    result.title = first_non_empty(
        title_text(title_area), F.clean_title(js.get("atitle")), F.clean_title(meta.get("articletitle"))
    ) or F.title_from_head(root)
    result.policy_links = label_links(title_area, url)
    result.publish_date = first_non_empty(
        date_from(labelled, "发布时间", "发布日期", "时间"),
        F.parse_date(js.get("tm")),
        F.parse_date(meta.get("pubdate")),
        F.parse_date(" ".join(info)),
    )
    result.source = first_non_empty(F.first_token(labelled.get("来源")), js.get("source"), meta.get("contentsource"))
    result.department = department(labelled, result.title, url, result.source)
    result.document_number = labelled.get("发文字号")
    result.index_number = labelled.get("索引号")
    result.column = first_non_empty(meta.get("columnname"), breadcrumb(tree))
    result.take_body(read_body(container, url, tree=tree))
    check_date(result, url)
    return result
