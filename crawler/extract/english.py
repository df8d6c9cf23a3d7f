"""The English site (english.mofcom.gov.cn): the same ``div.art-title`` / ``div.art-con-bottonmLine``
classes as era B, a breadcrumb ("Home > News > Press Conference"), the link back to the Chinese article
in the body's first ``div`` (dropped from the text, kept as ``chinese_url``) and the closing disclaimer
"(All information published on this website is authentic in Chinese...)" (dropped).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import fields as F
from .body import read_body
from .dom import PageTree
from .era_b import TITLE_AREA, TOOL_AREA, title_text
from .template import ART_CON, ART_CON_B, ZOOM, TemplateResult, breadcrumb, check_date, first_non_empty

NAME = "mofcom-english"

# English department names as MOFCOM's English pages write them, and the short Chinese names the
# Chinese pages use, so that both versions of an interpretation file under one department.
DEPARTMENTS_EN = {
    "department of foreign investment administration": "外资司",
    "department of trade in services and commercial services": "服贸司",
    "department of foreign trade": "外贸司",
    "department of electronic commerce and informatization": "电子商务司",
    "department of electronic commerce": "电子商务司",
    "department of outward investment and economic cooperation": "合作司",
    "department of market system development": "市场建设司",
    "department of consumption promotion": "消费促进司",
    "department of market operation and consumption promotion": "市场运行司",
    "department of world trade organization affairs": "世贸司",
    "department of treaty and law": "条法司",
}
_DEPT_EN = re.compile(r"\b(Department of [A-Z][A-Za-z,& -]+?)(?=\s+(?:of|at|under) (?:the )?(?:MOFCOM|Ministry)|\s+(?:Answers|Interprets|Explains|Talks|on|Comments)\b)")


def matches(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower().startswith("english.")


def department_en(title: str | None) -> str | None:
    m = _DEPT_EN.search(title or "")
    if not m:
        return None
    name = m.group(1).strip()
    return DEPARTMENTS_EN.get(name.lower(), name)


def extract(tree: PageTree, url: str) -> TemplateResult | None:
    root = tree.root
    container = tree.first(ART_CON, ART_CON_B, ZOOM)
    if container is None:
        return None
    tool = tree.first(*TOOL_AREA)
    info = tree.lines(tool) if tool is not None else []
    labelled = F.labelled_fields(info + tree.lines_without(container))

    result = TemplateResult(NAME)
    result.title = title_text(tree.first(TITLE_AREA)) or F.title_from_head(root)
    result.publish_date = first_non_empty(
        F.parse_date(labelled.get("updated")), F.parse_date(" ".join(info))
    )
    source = labelled.get("source")
    result.source = source.strip("() ") if source else None
    result.department = department_en(result.title)
    result.column = breadcrumb(tree)
    result.take_body(read_body(container, url, english_page=True, tree=tree))
    check_date(result, url)
    return result
