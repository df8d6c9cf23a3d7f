"""Boilerplate removal and whitespace normalisation.

Chinese punctuation is kept exactly as published: no NFKC, no full-width to half-width folding
(``，（）《》`` stay). Only whitespace is normalised: the ideographic space ``\\u3000`` (used for the
two-character paragraph indent and between agency names), non-breaking and other Unicode spaces,
tabs and line breaks inside a paragraph become one ASCII space; zero-width characters go; runs collapse.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

SSI_ERROR = "[an error occurred while processing this directive]"

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARS}]")


def _collapsed(text: str) -> str:
    """``text`` without the SSI error message and zero-width characters, every run of whitespace one space."""
    text = text.replace(SSI_ERROR, " ")
    # str.split() splits on every Unicode space (str.isspace: \u3000, nbsp, \u2000-\u200a...).
    collapsed = " ".join(text.split())
    # No zero-width character is printable: the first test settles most short texts at once.
    if collapsed.isprintable() or not any(char in collapsed for char in _ZERO_WIDTH_CHARS):
        return collapsed
    return " ".join(_ZERO_WIDTH.sub("", text).split())


def normalise_space(text: str) -> str:
    """One ASCII space for every run of whitespace (``\\u3000``, nbsp...), zero-width removed, stripped."""
    return _collapsed(text) if text else ""


def normalise_parts(text: str, sep: str) -> list[str]:
    """``normalise_space`` of each part of ``text`` between two ``sep``, empty results left out, in one pass
    over the whole text. ``sep`` must be a character that is no space and not in ``SSI_ERROR``."""
    # Collapsing the whole text leaves at most one space at either end of a part.
    return [part for part in map(str.strip, _collapsed(text).split(sep)) if part]


# Elements inside an article container that are widgets, not text (matched on class/id words).
_WIDGET_ATTR = re.compile(
    r"share|jiathis|qrcode|qr-code|erweima|wxcode|fontsize|font-size|zihao|zh-size|print"
    r"|(?:^|[\s_-])(?:ewm|weixin|tools?|article-tool|art-tool|close|favorite|shoucang|prev-?next|related|xgwz|xgyd)(?:$|[\s_-])",
    re.I,
)

# Widget tokens: a line made only of these (and punctuation) is chrome.
_WIDGET_TOKENS = re.compile(
    r"【\s*(?:打印本页|打印此页|打印此文|打印|关闭窗口|关闭本页|关闭|返回顶部|收藏|大|中|小)\s*】"
    r"|\[\s*(?:打印本页|打印此页|打印|关闭窗口|关闭|大|中|小)\s*\]"
    r"|分享到\s*[：:]?\s*(?:(?:微信|微博|新浪微博|腾讯微博|QQ空间|QQ好友|人人网|豆瓣网?|朋友圈|Facebook|Twitter|LinkedIn|更多|复制网址)\s*[|｜,，、]?\s*)*"
    r"|字号\s*[：:]|字体\s*[：:]|扫一扫(?:在手机(?:上)?打开当前页|分享)?|在手机(?:上)?打开|"
    r"打印本页|打印此页|关闭窗口|返回顶部|手机扫码|微信扫一扫|"
    r"\bPrint\b|\bClose\b|\bShare\b|Font\s*size\s*[:：]?|\bA[+-]",
    re.I,
)
# Every widget token starts with one of these (ſ is an S under re.I): a cheap test that spares most lines
# _WIDGET_TOKENS, which is slow on long lines. Each alternative starts with a literal character, so that the
# regex engine jumps from one such character to the next instead of trying every alternative everywhere.
_WIDGET_HINT = re.compile(
    r"【|\[|p|c|s|f|a|ſ|P|C|S|F|A|分享到|字号|字体|扫一扫|在手机|打印|关闭|返回顶部|手机扫码|微信扫一扫"
)
_LEFTOVER = re.compile(r"[\s\[\]【】()（）|｜/:：·•,，、.。大中小A-]*")

DISCLAIMERS = (
    re.compile(r"^[(（]?\s*All information published on this website is authentic in Chinese\.?\s*"
               r"English is provided for reference only\.?\s*[)）]?$", re.I),
    re.compile(r"^[(（]?\s*责任编辑\s*[：:].{0,20}?[)）]?$"),
    re.compile(r"^版权所有\s*[：:].*(?:商务部|ICP备)"),
    re.compile(r"^[(（]?\s*本(?:网站|网|站)(?:所)?(?:刊登|发布)的.{0,40}(?:转载|授权|参考).*$"),
)

# Sidebar link texts that leak into the end of ``.art-con`` on some pages (KeeMeng's scraper pops them).
SIDEBAR_LEAKS = frozenset(
    {
        "关闭生产资料动态",
        "关闭全国农产品商务信息公共服务平台",
        "农产品贸易专题",
        "全国农产品流通体系建设管理信息平台",
    }
)


def is_widget_element(el: HtmlElement) -> bool:
    attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
    return bool(attrs) and bool(_WIDGET_ATTR.search(attrs))


def is_widget_image(el: HtmlElement) -> bool:
    """A QR code, print, close or share button image."""
    if el.tag.lower() != "img":
        return False
    src = (el.get("src") or "").lower()
    return any(w in src for w in ("qrcode", "erweima", "ewm", "print", "close", "share"))


def prune_widgets(container: HtmlElement) -> None:
    """Remove share/print/close/font-size/QR widgets found inside an article container."""
    for el in list(container.iter()):
        if el is container or not isinstance(el.tag, str):
            continue
        # A widget holds a few words; a long text under a widget-like class is content.
        if (is_widget_element(el) and len(el.text_content()) < 120) or is_widget_image(el):
            el.drop_tree()


def is_widget_line(line: str) -> bool:
    """True for a line made only of print/close/share/font-size tokens."""
    if not _WIDGET_HINT.search(line):
        return False
    stripped = _WIDGET_TOKENS.sub("", line)
    if stripped == line:
        return False
    return _LEFTOVER.fullmatch(stripped) is not None


# DISCLAIMERS as one pattern, each with its own flags: one match per line instead of four.
_ANY_DISCLAIMER = re.compile(
    "|".join(f"(?{'i' if p.flags & re.I else ''}:{p.pattern})" for p in DISCLAIMERS)
)


def is_disclaimer(line: str) -> bool:
    return _ANY_DISCLAIMER.match(line) is not None


def clean_lines(lines: list[str]) -> list[str]:
    """Body lines without widgets, disclaimers, SSI errors and trailing sidebar leaks."""
    out = []
    for line in lines:
        line = normalise_space(line)
        if not line or is_widget_line(line) or is_disclaimer(line):
            continue
        out.append(line)
    while out and out[-1] in SIDEBAR_LEAKS:
        out.pop()
    return out
