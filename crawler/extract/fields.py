"""Metadata readers shared by the templates: JS variables, the gov.cn meta block, labelled fields,
dates, titles and the issuing department."""

from __future__ import annotations

import html
import re
from datetime import datetime

from lxml.html import HtmlElement

from .clean import normalise_space

# --- dates -----------------------------------------------------------------------------------------

_DATE_NUMERIC = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_DATE_EN = re.compile(
    r"\b(?:(?P<d1>\d{1,2})\s+(?P<mon1>[A-Za-z]{3,9})\.?,?\s+(?P<y1>(?:19|20)\d{2})"
    r"|(?P<mon2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>(?:19|20)\d{2}))\b"
)


def _format(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> str | None:
    try:
        datetime(y, m, d, hh, mm, ss)
    except ValueError:
        return None
    day = f"{y:04d}-{m:02d}-{d:02d}"
    if (hh, mm, ss) == (0, 0, 0):
        return day
    return f"{day} {hh:02d}:{mm:02d}:{ss:02d}"


def parse_date(text: str | None) -> str | None:
    """The first date in ``text``: ``YYYY-MM-DD``, or ``YYYY-MM-DD HH:MM:SS`` when a time is given.

    Reads ``2023-12-21``, ``2023/12/21 09:15``, ``2023年12月21日``, ``Dec 21, 2023``, ``21 December 2023``.
    """
    if not text:
        return None
    for m in _DATE_NUMERIC.finditer(text):
        hh, mm, ss = (int(m.group(g)) if m.group(g) else 0 for g in ("H", "M", "S"))
        found = _format(int(m.group("y")), int(m.group("m")), int(m.group("d")), hh, mm, ss)
        if found:
            return found
    for m in _DATE_EN.finditer(text):
        mon = (m.group("mon1") or m.group("mon2") or "")[:3].lower()
        if mon not in _MONTHS:
            continue
        y = int(m.group("y1") or m.group("y2"))
        d = int(m.group("d1") or m.group("d2"))
        found = _format(y, _MONTHS[mon], d)
        if found:
            return found
    return None


_URL_MONTH = re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])/\d{3,14}\.s?html?$|/art/((?:19|20)\d{2})/art_")


def url_month(url: str) -> str | None:
    """``YYYY-MM`` (or ``YYYY``) from an article URL's folder. Never a day: id digits are a counter."""
    m = _URL_MONTH.search(url.split("?")[0])
    if not m:
        return None
    return f"{m.group(1)}-{m.group(2)}" if m.group(1) else m.group(3)


def date_agrees_with_url(date: str, url: str) -> bool:
    """False when the page's date is far from the month (or year) its URL was filed under."""
    month = url_month(url)
    if not month or not date:
        return True
    if len(month) == 4:
        return abs(int(date[:4]) - int(month)) <= 1
    page = int(date[:4]) * 12 + int(date[5:7])
    filed = int(month[:4]) * 12 + int(month[5:7])
    return abs(page - filed) <= 2


# --- JS variables (era A: ``var atitle = "..."; var source = "..."; var tm = "..."``) ---------------

# A backslash is read only as the start of an escape: were it also a character of its own, a string
# left open (a capture cut inside a script) would be tried in 2^n ways for its n backslashes.
_JS_VAR = re.compile(r"""\bvar\s+([A-Za-z_]\w*)\s*=\s*(["'])((?:\\.|(?!\2)[^\\])*)\2""", re.S)
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)


def _js_unescape(value: str) -> str:
    def sub(m: re.Match) -> str:
        esc = m.group(1)
        if esc[0] in "ux" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        return {"n": "\n", "t": "\t", "r": ""}.get(esc, esc)

    return _JS_ESCAPE.sub(sub, value)


def js_vars(root: HtmlElement) -> dict[str, str]:
    """String variables assigned in inline scripts (first assignment wins); never executes JS."""
    found: dict[str, str] = {}
    for script in root.iter("script"):
        if script.get("src") or not script.text:
            continue
        for name, _quote, value in _JS_VAR.findall(script.text):
            found.setdefault(name.lower(), normalise_space(html.unescape(_js_unescape(value))))
    return found


# --- the gov.cn standard meta block (ArticleTitle, PubDate, ContentSource...) ----------------------


def meta_tags(root: HtmlElement) -> dict[str, str]:
    """``<meta name=... content=...>`` by lower-cased name (first wins)."""
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = meta.get("content")
        if name and content is not None and name not in found:
            found[name] = normalise_space(content)
    return found


# --- labelled fields ("来源：服贸司  发布时间：2023-12-21") -----------------------------------------

LABEL_ALIASES = {
    "信息来源": "来源", "文章来源": "来源", "来源": "来源", "稿件来源": "来源",
    "发布时间": "发布时间", "发布日期": "发布日期", "发文日期": "发布日期", "时间": "时间", "日期": "时间",
    "索引号": "索引号", "发文字号": "发文字号", "文号": "发文字号",
    "所属机构": "所属机构", "发布机构": "所属机构", "发文机关": "发文机关",
    "成文日期": "成文日期", "主题分类": "主题分类", "公文种类": "公文种类",
    "作者": "作者", "字号": "字号", "浏览次数": "浏览次数", "点击数": "浏览次数", "责任编辑": "责任编辑",
    "Source": "source", "Updated": "updated", "Release Date": "updated", "Date": "updated",
}
_LABEL = re.compile(
    r"(?<![\u4e00-\u9fffA-Za-z])("
    + "|".join(sorted(map(re.escape, LABEL_ALIASES), key=len, reverse=True))
    + r")\s*[：:]\s*"
)
_VALUE_JUNK = re.compile(r"^[\s|｜/·•]+|[\s|｜/·•]+$")


def labelled_fields(lines: list[str]) -> dict[str, str]:
    """Label -> value for every ``label：value`` on the lines (first occurrence of each label wins).

    A value runs to the next label on the same line or to the end of the line.
    """
    found: dict[str, str] = {}
    for line in lines:
        if "：" not in line and ":" not in line:  # every label ends with one (a quick test, _LABEL is slow)
            continue
        matches = list(_LABEL.finditer(line))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            value = _VALUE_JUNK.sub("", line[m.end():end])
            key = LABEL_ALIASES[m.group(1)]
            if value and key not in found:
                found[key] = value
    return found


def first_token(value: str | None) -> str | None:
    """A source or department value up to the first space (labels often share a line)."""
    if not value:
        return None
    token = value.split(" ")[0].strip("（）()[]【】")
    return token or None


# --- titles ----------------------------------------------------------------------------------------

# Link labels that a page puts right after its title ("[政策原文]"): never part of the title.
TITLE_LINK_LABEL = re.compile(
    r"\s*[\[【]\s*(?:政策原文|原文|原文链接|政策文件|文件原文|图解|一图读懂|视频|音频|English|英文版|PDF)\s*[\]】]\s*", re.I
)
SUFFIX_WINDOW = 300  # characters: the longest site name suffix is under 100
_SITE_SUFFIX = re.compile(
    r"\s*(?:[_|｜—–-]+|\s-\s)\s*(?:中华人民共和国商务部(?:网站)?|商务部(?:网站|门户网站)?|MOFCOM|"
    r"Ministry of Commerce[^_|｜]*|[^_|｜-]{0,12}(?:司|局)(?:网站|子站)?)\s*$",
    re.I,
)


def clean_title(title: str | None) -> str | None:
    if not title:
        return None
    title = normalise_space(TITLE_LINK_LABEL.sub(" ", normalise_space(title)))
    return title or None


def title_from_head(root: HtmlElement) -> str | None:
    """``<title>`` without the site name suffix ("…_中华人民共和国商务部")."""
    el = root.find(".//title")
    if el is None or not el.text:
        return None
    title = normalise_space(el.text)
    # The suffix is sought in the title's tail only: over a whole page swallowed by an unclosed <title>,
    # the pattern's tries would add up to quadratic time (90 KB: 7 s).
    head, tail = title[:-SUFFIX_WINDOW], title[-SUFFIX_WINDOW:]
    for _ in range(2):
        tail = _SITE_SUFFIX.sub("", tail)
    return clean_title(head + tail)


# --- departments -----------------------------------------------------------------------------------

# Department sub-sites (<host>.mofcom.gov.cn) and the short name MOFCOM's own titles use for them.
DEPARTMENT_BY_SUBSITE = {
    "fms": "外资司",
    "wms": "外贸司",
    "fwmys": "服贸司",
    "ec": "电子商务司",
    "dzsws": "电子商务司",
    "scjss": "市场建设司",
    "scyxs": "市场运行司",
    "ltfzs": "流通发展司",
    "hzs": "合作司",
    "sms": "世贸司",
    "tfs": "条法司",
    "zhs": "综合司",
    "cws": "财务司",
    "gjs": "国际司",
    "yws": "亚洲司",
    "xyf": "西亚非洲司",
    "ozs": "欧亚司",
    "oms": "欧洲司",
    "mzs": "美洲大洋洲司",
    "tbs": "台港澳司",
    "trb": "贸易救济调查局",
    "aqygzj": "产业安全与进出口管制局",
}

_DEPT_SUFFIX = r"(?:司|局|厅|办公室|研究室|中心|研究院)"
_DEPT_IN_TITLE = re.compile(
    r"(?:商务部)?(?P<dept>[\u4e00-\u9fff]{1,12}?" + _DEPT_SUFFIX + r")"
    r"(?:有关|主要)?(?:负责人|负责同志|司长|局长|主任|新闻发言人)"
)
_DEPT_NAME = re.compile(r"^(?:中华人民共和国)?(?:商务部)?(?P<dept>[\u4e00-\u9fff]{2,14}" + _DEPT_SUFFIX + r")$")


def department_from_title(title: str | None) -> str | None:
    """``服贸司`` from "商务部服贸司负责人解读《…》"."""
    m = _DEPT_IN_TITLE.search(title or "")
    if not m:
        return None
    dept = m.group("dept")
    return dept if not dept.startswith("商务部") else dept[3:] or None


def department_name(value: str | None) -> str | None:
    """A department named by a page field ("商务部消费促进司" -> "消费促进司"); None if it is not one."""
    m = _DEPT_NAME.match(normalise_space(value or ""))
    return m.group("dept") if m else None


def department_of_host(host: str) -> str | None:
    sub = host.lower().split(".mofcom.gov.cn")[0] if host.lower().endswith(".mofcom.gov.cn") else ""
    return DEPARTMENT_BY_SUBSITE.get(sub)
