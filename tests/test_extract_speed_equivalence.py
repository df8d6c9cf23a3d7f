"""The faster forms of extraction internals give exactly what the plain forms give (random inputs, fixed seeds)."""

import random
import re

import lxml.etree

from crawler.extract import clean
from crawler.extract.body import read_body
from crawler.extract.dom import _CONTROL, _PASS_OVER, PageTree, Select, _has_control, _rule, _walk, parse_html

TAGS = ["div", "p", "span", "a", "td", "br", "script", "select", "option", "svg", "g", "img", "b", "section"]
WORDS = ["art-con", "share", "x", "art-title", "print", "zoom", ""]


def _random_page(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 60)):
        tag = rng.choice(TAGS)
        attrs = ""
        if rng.random() < 0.5:
            sep = rng.choice([" ", "  ", "\t", "\n ", "\u3000"])
            attrs += f' class="{sep.join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))}"'
        if rng.random() < 0.3:
            attrs += f' id="{rng.choice(WORDS)}"'
        if tag == "img":
            attrs += f' src="/{rng.choice(["qrcode", "photo"])}.png"'
        text = rng.choice(["", "文字", " a b ", "\u200b", "打印本页", "<!--c-->t"])
        parts.append(f"<{tag}{attrs}>{text}" + (f"</{tag}>" if rng.random() < 0.6 else "") + rng.choice(["", "尾", " "]))
    return "<html><body>" + "".join(parts) + "</body></html>"


def _reference_walk(root, spans):
    """The walk written as plain recursion: an element's before-piece, text, children, after-piece, then
    its tail; a passed-over node (script, comment...) gives its tail only."""
    pieces = []

    def visit(el):
        start = len(pieces)
        rule = _rule(el.tag)
        if rule is not _PASS_OVER:
            if rule[0]:
                pieces.append(rule[0])
            if el.text:
                pieces.append(el.text)
            for child in el:  # comments and processing instructions included
                visit(child)
            if rule[1]:
                pieces.append(rule[1])
        spans[el] = (start, len(pieces))
        if el.tail and el is not root:
            pieces.append(el.tail)

    visit(root)
    return pieces


def _reference_first(root, select):
    for el in root.iter(lxml.etree.Element):
        cls, id_ = el.get("class"), el.get("id")
        if cls is None and id_ is None or (select.tag is not None and el.tag != select.tag):
            continue
        words = set(re.split(r"[ \t\n\r]+", cls or ""))
        if id_ in select.ids or words & set(select.words) or any(p in (cls or "") for p in select.parts):
            return el
    return None


def test_walk_and_select_index_match_the_plain_forms():
    rng = random.Random(7)
    selects = [Select(words=("art-con",)), Select(tag="div", words=("x", "share")), Select(ids=("zoom",)),
               Select(parts=("art",)), Select(tag="p", words=("print",), ids=("x",), parts=("itl",))]
    for _ in range(300):
        root = parse_html(_random_page(rng))
        for el in [root, *list(root.iter(lxml.etree.Element))[:5]]:
            got, want = {}, {}
            assert _walk(el, got) == _reference_walk(el, want) and got == want
        tree = PageTree(root)
        for select in selects:
            assert tree.first(select) is _reference_first(root, select)


def test_read_body_takes_the_page_walk_only_when_it_gives_the_same_text():
    rng = random.Random(11)
    for _ in range(300):
        root = parse_html(_random_page(rng))
        tree = PageTree(root)
        for container in list(root.iter("div", "section"))[:4]:
            assert read_body(container, "http://www.mofcom.gov.cn/a/b.shtml", tree=tree) == read_body(
                container, "http://www.mofcom.gov.cn/a/b.shtml"
            )


def test_control_test_agrees_with_the_control_pattern():
    for code in range(0x110000):
        char = chr(code)
        assert _has_control(char) == bool(_CONTROL.search(char)), hex(code)
    rng = random.Random(3)
    alphabet = ["a", "中", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\ufffe", "\uffff", "\ud800", "\U0001f600"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert _has_control(text) == bool(_CONTROL.search(text))


def test_widget_hint_and_disclaimer_pattern_match_the_plain_forms():
    hint = re.compile(r"[【\[pcsfaſPCSFA]|分享到|字号|字体|扫一扫|在手机|打印|关闭|返回顶部|手机扫码|微信扫一扫")
    rng = random.Random(5)
    alphabet = list("【[]pcsfaſPCSFAxyz 分享到字号体扫一在手机打印关闭返回顶部码微信本网站责任编辑版权所有：:（(") + [
        "All information published on this website is authentic in Chinese. English is provided for reference only.",
        "本网站刊登的文章转载", "责任编辑：张三", "版权所有：商务部",
    ]
    for _ in range(50_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert bool(clean._WIDGET_HINT.search(line)) == bool(hint.search(line))
        assert clean.is_disclaimer(line) == any(p.match(line) for p in clean.DISCLAIMERS)
