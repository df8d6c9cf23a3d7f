"""What a template reads off a page, and the helpers the templates share."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import fields as F
from .body import Body
from .dom import PageTree, Select


@dataclass
class TemplateResult:
    extractor: str
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    publish_date: str | None = None
    source: str | None = None
    department: str | None = None
    document_number: str | None = None
    index_number: str | None = None
    policy_links: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    english_url: str | None = None
    chinese_url: str | None = None
    column: str | None = None  # the column/breadcrumb the page names itself under
    warnings: list[str] = field(default_factory=list)

    def take_body(self, body: Body) -> None:
        self.paragraphs = body.paragraphs
        self.policy_links = body.policy_links + [p for p in self.policy_links if p not in body.policy_links]
        self.attachments = body.attachments
        self.english_url = self.english_url or body.english_url
        self.chinese_url = self.chinese_url or body.chinese_url


# Containers of the article text, most specific first (mofcom-site.md §2.1-2.3).
ART_CON = Select(tag="div", words=("art-con-bottonmLine",))
ZOOM = Select(ids=("zoom", "Zoom", "ZOOM"))
ART_CON_A = Select(tag="div", words=("artCon",))
ART_CON_B = Select(tag="div", words=("art-con",))
TRS_EDITOR = Select(tag="div", words=("TRS_Editor",))
BREADCRUMB = Select(
    words=("m-position", "crumbs", "crumbsNav", "position", "location", "breadcrumb", "BreadcrumbNav"),
    ids=("position", "location"),
)


def first_non_empty(*values: str | None) -> str | None:
    for value in values:
        if value:
            return value
    return None


def region_lines(tree: PageTree, *selects: Select) -> list[str]:
    el = tree.first(*selects)
    return tree.lines(el) if el is not None else []


def date_from(labelled: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        found = F.parse_date(labelled.get(key))
        if found:
            return found
    return None


def breadcrumb(tree: PageTree) -> str | None:
    """The "当前位置：首页 > 政策解读" trail, as one line (used by the interpretation test)."""
    el = tree.first(BREADCRUMB)
    if el is None:
        return None
    return " ".join(tree.lines(el)) or None


def department(labelled: dict[str, str], title: str | None, url: str, source: str | None = None) -> str | None:
    """The page's 所属机构, then a "商务部XX司负责人" title, then the sub-site, then a source naming a department.

    The source comes last: it is often the press office (商务部新闻办公室) republishing a department's text.
    """
    return first_non_empty(
        F.department_name(labelled.get("所属机构")),
        F.department_from_title(title),
        F.department_of_host(urlsplit(url).hostname or ""),
        F.department_name(source),
    )


def check_date(result: TemplateResult, url: str) -> None:
    if result.publish_date is None:
        result.warnings.append("no publish date on the page")
    elif not F.date_agrees_with_url(result.publish_date, url):
        result.warnings.append(f"publish date {result.publish_date} is far from the URL's month {F.url_month(url)}")
