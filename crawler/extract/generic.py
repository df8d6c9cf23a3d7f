"""The fallback for pages no MOFCOM template matches: trafilatura finds the main text; our own readers
still supply what they can (gov.cn meta block, labelled fields, title label links), and the text goes
through the same cleaning as the templates'. The record says ``extractor = "generic-trafilatura"``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import fields as F
from . import links as L
from .clean import clean_lines
from .dom import PageTree
from .template import TemplateResult, breadcrumb, check_date, date_from, department, first_non_empty

NAME = "generic-trafilatura"


def _date_on_page(date: str | None, page_text: str) -> str | None:
    """trafilatura's date, kept only if the page shows that day (it may guess one from the URL)."""
    if not date:
        return None
    y, m, d = date[:10].split("-")
    forms = (f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}年{int(m)}月{int(d)}日", f"{y}.{m}.{d}", f"{y}年{m}月{d}日")
    return date[:10] if any(f in page_text for f in forms) else None


def extract(tree: PageTree, url: str, text: str) -> TemplateResult:
    import trafilatura  # imported here: it is slow to import and most pages never need it

    result = TemplateResult(NAME)
    root = tree.root
    meta = F.meta_tags(root)
    page_lines = tree.lines()
    labelled = F.labelled_fields(page_lines)
    doc = trafilatura.bare_extraction(
        text,
        url=url,
        with_metadata=True,
        include_tables=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body_text = getattr(doc, "text", None) or ""
    result.paragraphs = clean_lines(body_text.split("\n"))
    result.title = first_non_empty(
        F.clean_title(meta.get("articletitle")), F.title_from_head(root), F.clean_title(getattr(doc, "title", None))
    )
    result.publish_date = first_non_empty(
        F.parse_date(meta.get("pubdate")),
        date_from(labelled, "发布时间", "发布日期", "时间", "updated"),
        _date_on_page(getattr(doc, "date", None), "\n".join(page_lines)),
    )
    result.source = first_non_empty(meta.get("contentsource"), F.first_token(labelled.get("来源")))
    result.department = department(labelled, result.title, url, result.source)
    result.document_number = labelled.get("发文字号")
    result.index_number = labelled.get("索引号")
    result.column = first_non_empty(meta.get("columnname"), breadcrumb(tree))

    joined = "\n".join(result.paragraphs)
    for a in root.iter("a"):
        href = L.absolute_url(a.get("href"), url)
        if not href:
            continue
        label = L.link_text(a)
        if L.is_attachment_url(href) and label and label in joined:
            result.attachments.append({"text": label, "url": href})
        elif L.POLICY_LINK_TEXT.match(re.sub(r"\s", "", a.text_content() or "")):
            result.policy_links.append({"text": label, "url": href})
        elif L.is_english_version_link(a, href) and not (urlsplit(url).hostname or "").startswith("english."):
            result.english_url = result.english_url or href
    result.attachments = L.dedupe_links(result.attachments)
    result.policy_links = L.dedupe_links(result.policy_links)
    check_date(result, url)
    return result
