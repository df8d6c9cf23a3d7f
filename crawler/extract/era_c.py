"""Era C (the 2024 redesign): ``/<section>/art/<YYYY>/art_<32 hex>.html`` with the gov.cn standard meta
block (``ArticleTitle``, ``PubDate``, ``ContentSource``, ``ColumnName``), a metadata block labelled
``索引号 / 发文字号 / 所属机构 / 成文日期 / 发布日期``, and the body in ``div.art-con.art-con-bottonmLine``.
"""

from __future__ import annotations

import re

from . import fields as F
from .body import label_links, read_body
from .dom import PageTree, Select
from .era_b import TITLE_AREA, title_text
from .template import (
    ART_CON,
    ART_CON_B,
    TRS_EDITOR,
    ZOOM,
    TemplateResult,
    breadcrumb,
    check_date,
    date_from,
    department,
    first_non_empty,
)

NAME = "mofcom-era-c"
ERA_C_URL = re.compile(r"/art/\d{4}/art_[0-9a-f]{32}\.html$", re.I)
INFO_AREA = (
    Select(words=("xxgk-info",)),
    Select(words=("art-info",)),
    Select(tag="table", words=("xxgk-table",)),
    Select(words=("article-info",)),
)


def matches(raw: str, url: str) -> bool:
    return bool(ERA_C_URL.search(url.split("?")[0])) or (
        'name="ArticleTitle"' in raw and "art-con" in raw
    )


def extract(tree: PageTree, url: str) -> TemplateResult | None:
    root = tree.root
    container = tree.first(ART_CON, ART_CON_B, TRS_EDITOR, ZOOM)
    if container is None:
        return None
    meta = F.meta_tags(root)
    info_el = tree.first(*INFO_AREA)
    info = tree.lines(info_el) if info_el is not None else []
    labelled = F.labelled_fields(info + tree.lines_without(container))
    title_area = tree.first(TITLE_AREA)

    result = TemplateResult(NAME)
    result.title = first_non_empty(
        F.clean_title(meta.get("articletitle")), title_text(title_area), F.title_from_head(root)
    )
    result.policy_links = label_links(title_area, url)
    result.publish_date = first_non_empty(
        F.parse_date(meta.get("pubdate")),
        date_from(labelled, "发布日期", "发布时间", "时间"),
    )
    result.source = first_non_empty(meta.get("contentsource"), F.first_token(labelled.get("来源")))
    result.department = department(labelled, result.title, url, result.source)
    result.document_number = labelled.get("发文字号")
    result.index_number = labelled.get("索引号")
    result.column = first_non_empty(meta.get("columnname"), breadcrumb(tree))
    result.take_body(read_body(container, url, tree=tree))
    check_date(result, url)
    return result
