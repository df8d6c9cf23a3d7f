"""Era A (about 2004-2019): ``h1#artitle`` / ``#arsource`` / ``div#zoom`` (or ``div.artCon``), with the
title, source and time also in JS variables ``atitle``, ``source``, ``tm`` in the body's first script.

The JS variables are read with a regex, never executed. They come first: on many pages ``#artitle``
is filled by ``document.write(atitle)`` and is empty in the archived bytes.
"""

from __future__ import annotations

from . import fields as F
from .body import read_body
from .dom import PageTree, Select, text_of
from .template import (
    ART_CON_A,
    ZOOM,
    TemplateResult,
    breadcrumb,
    check_date,
    date_from,
    department,
    first_non_empty,
    region_lines,
)

NAME = "mofcom-era-a"


def matches(tree: PageTree, raw: str) -> bool:
    return tree.first(ZOOM, ART_CON_A) is not None or "var atitle" in raw


def extract(tree: PageTree, url: str) -> TemplateResult | None:
    root = tree.root
    container = tree.first(ZOOM, ART_CON_A)
    if container is None:
        return None
    js = F.js_vars(root)
    meta = F.meta_tags(root)
    info = region_lines(tree, Select(ids=("arsource",)), Select(parts=("artInfo",)), Select(parts=("art-info",)))
    labelled = F.labelled_fields(info + tree.lines_without(container))

    result = TemplateResult(NAME)
    result.title = F.clean_title(
        first_non_empty(js.get("atitle"), text_of(tree.first(Select(ids=("artitle",)))), meta.get("articletitle"))
    ) or F.title_from_head(root)
    result.publish_date = first_non_empty(
        F.parse_date(js.get("tm")),
        date_from(labelled, "发布时间", "发布日期", "时间"),
        F.parse_date(meta.get("pubdate")),
    )
    result.source = first_non_empty(js.get("source"), F.first_token(labelled.get("来源")), meta.get("contentsource"))
    result.department = department(labelled, result.title, url, result.source)
    result.document_number = labelled.get("发文字号")
    result.index_number = labelled.get("索引号")
    result.column = first_non_empty(meta.get("columnname"), breadcrumb(tree))
    result.take_body(read_body(container, url, tree=tree))
    check_date(result, url)
    return result
