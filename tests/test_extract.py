"""Extraction: decoding, templates, cleaning, rejections, language, listings, robustness."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import (
    EXTRACTOR_VERSION,
    REASONS,
    ExtractedPage,
    Rejection,
    UndecodableError,
    decode_html,
    detect_language,
    extract_page,
    find_listing_links,
    is_article_url,
    is_listing_url,
)
from crawler.extract.clean import clean_lines, is_widget_line, normalise_space
from crawler.extract.decode import decode_bytes
from crawler.extract.fields import department_from_title, parse_date, url_month
from crawler.extract.wayback import strip_wayback_insert
from crawler.store.schema import DOCUMENT_COLUMNS
from crawler.wayback.urls import parse_input_url, parse_wayback_url, public_url

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = FIXTURES / "pages"
MANIFEST = {p["id"]: p for p in json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))["pages"]}
SAMPLES = FIXTURES / "reference-samples"


def page_bytes(page_id: str) -> bytes:
    return (PAGES / MANIFEST[page_id]["file"]).read_bytes()


def extract_fixture(page_id: str):
    entry = MANIFEST[page_id]
    return extract_page(page_bytes(page_id), entry["url"], entry["headers"])


def html_page(body_html: str, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<!DOCTYPE html><html><head>{meta}{head}<title>t</title></head><body>{body_html}</body></html>"


ERA_B_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
LONG_ZH = "商务部外资司负责人表示，将进一步扩大外资市场准入，合理调整部分商品进口关税，持续优化营商环境。" * 3


def era_b_page(body_html: str, title: str = "商务部外资司负责人解读《外商投资法》", tool: str = "<p>发布时间：2020-01-02</p>") -> str:
    return html_page(
        f'<div class="art-title">{title}</div><section class="article-tool"><div>{tool}</div></section>'
        f'<div class="art-con art-con-bottonmLine">{body_html}</div>'
    )


# ----------------------------------------------------------------------------------------- decoding
GBK_TEXT = "外商投资企业在河南省信阳市浉河区再投资，享受进口设备免征关税政策。"


class TestDecode:
    def test_http_charset_first(self):
        body = html_page(GBK_TEXT, charset="utf-8").encode("gbk")  # the meta is wrong, the header right
        text, charset = decode_html(body, {"Content-Type": "text/html; charset=GBK"})
        assert charset == "gb18030" and GBK_TEXT in text

    def test_lying_http_header_falls_through_to_meta(self):
        body = html_page(GBK_TEXT, charset="gbk").encode("gbk")
        decoded = decode_bytes(body, {"content-type": "text/html; charset=UTF-8"})
        assert decoded.charset == "gb18030" and GBK_TEXT in decoded.text
        assert any("http charset utf-8 does not decode" in w for w in decoded.warnings)

    def test_gb2312_label_decodes_gbk_only_characters(self):
        assert "浉" in GBK_TEXT
        with pytest.raises(UnicodeEncodeError):
            "浉".encode("gb2312")
        text, charset = decode_html(html_page(GBK_TEXT, charset="gb2312").encode("gbk"), {"Content-Type": "text/html"})
        assert charset == "gb18030" and GBK_TEXT in text

    def test_no_declaration_strict_utf8_then_gb18030(self):
        assert decode_html(html_page(GBK_TEXT, charset=None).encode("utf-8"), None)[1] == "utf-8"
        text, charset = decode_html(html_page(GBK_TEXT, charset=None).encode("gb18030"), None)
        assert charset == "gb18030" and GBK_TEXT in text

    def test_legacy_label_on_utf8_bytes_is_ignored(self):
        # A single-byte label would "decode" UTF-8 Chinese strictly into mojibake.
        body = html_page(GBK_TEXT, charset=None).encode("utf-8")
        text, charset = decode_html(body, {"Content-Type": "text/html; charset=iso-8859-1"})
        assert charset == "utf-8" and GBK_TEXT in text

    def test_truncated_inside_a_character(self):
        body = html_page(GBK_TEXT, charset=None).encode("utf-8")
        cut = body[: body.index("浉".encode()) + 2]
        decoded = decode_bytes(cut, {})
        assert decoded.charset == "utf-8" and decoded.text.endswith("信阳市")
        assert any("truncated" in w for w in decoded.warnings)

    def test_bom(self):
        assert decode_html(b"\xef\xbb\xbf<p>\xe5\x95\x86</p>", {"Content-Type": "text/html; charset=gbk"}) == ("<p>商</p>", "utf-8")

    def test_undecodable(self):
        with pytest.raises(UndecodableError):
            decode_html(b"<p>" + b"\x80\xff\xfe\x80" * 200, {})

    def test_header_lookup_is_case_insensitive_and_accepts_lists(self):
        body = html_page(GBK_TEXT, charset=None).encode("gbk")
        assert decode_html(body, {"CONTENT-TYPE": ["text/html; charset=gbk"]})[1] == "gb18030"


class TestGzip:
    def test_gzip_body_sniffed(self):
        raw = html_page(GBK_TEXT).encode("utf-8")
        decoded = decode_bytes(gzip.compress(raw), {"Content-Type": "text/html"})
        assert GBK_TEXT in decoded.text and decoded.gzipped

    def test_truncated_gzip_inflates_what_is_there(self):
        raw = html_page(LONG_ZH * 20).encode("utf-8")
        packed = gzip.compress(raw)
        decoded = decode_bytes(packed[: len(packed) * 2 // 3], {})
        assert decoded.gzipped and "商务部外资司" in decoded.text
        assert any("truncated" in w for w in decoded.warnings)

    def test_gzip_magic_without_a_stream(self):
        result = extract_page(b"\x1f\x8bnot really gzip" + b"\x00" * 20, ERA_B_URL, {})
        assert isinstance(result, Rejection)

    def test_gzip_fixture_extracts(self):
        assert page_bytes("era-b-gzip-body")[:2] == b"\x1f\x8b"
        result = extract_fixture("era-b-gzip-body")
        assert isinstance(result, ExtractedPage) and "便民生活圈" in result.title


# ----------------------------------------------------------------------------------------- templates
class TestTemplates:
    def test_era_a_js_vars_win_over_document_write(self):
        result = extract_fixture("era-a-utf8-js-vars")
        assert result.extractor == "mofcom-era-a"
        assert result.title == "商务部服贸司负责人解读《国际服务外包产业发展“十三五”规划》"
        assert result.publish_date == "2017-05-05 09:47:00" and result.source == "服贸司"
        assert "document.write" not in result.resulting_text

    def test_era_a_gbk_page(self):
        result = extract_fixture("era-a-gbk-2009")
        assert result.charset == "gb18030" and "浉河区" in result.resulting_text
        assert result.publish_date == "2009-07-21"

    def test_era_b_title_never_has_the_policy_label(self):
        result = extract_fixture("era-b-seed")
        assert "政策原文" not in result.title and "[" not in result.title
        assert result.policy_links == [
            {"text": "政策原文", "url": "http://www.mofcom.gov.cn/article/zwgk/zcfb/202312/20231203461911.shtml"}
        ]

    def test_era_c_meta_block_and_labels(self):
        result = extract_fixture("era-c-attachment-policy-link")
        assert (result.document_number, result.index_number) == ("商务部公告2025年第12号", "000014672/2025-00187")
        assert result.attachments[0]["url"].endswith(".pdf")
        assert "相关链接" not in result.resulting_text

    def test_publish_date_never_from_the_article_id(self):
        # 20231203462051: digits 7-8 are a counter, not the 3rd of the month.
        result = extract_page(era_b_page(f"<p>{LONG_ZH}</p>", tool="<p>来源：外资司</p>").encode(), ERA_B_URL)
        assert isinstance(result, ExtractedPage)
        assert result.publish_date is None
        assert "no publish date on the page" in result.warnings
        assert url_month(ERA_B_URL) == "2023-12"

    def test_date_far_from_the_url_month_is_kept_with_a_warning(self):
        page = era_b_page(f"<p>{LONG_ZH}</p>", tool="<p>发布时间：2019-01-05</p>")
        result = extract_page(page.encode(), ERA_B_URL)
        assert result.publish_date == "2019-01-05"
        assert any("far from the URL" in w for w in result.warnings)

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("发布时间：2023-12-21 09:15", "2023-12-21 09:15:00"),
            ("2023年12月21日", "2023-12-21"),
            ("2023/1/5 8:05:09", "2023-01-05 08:05:09"),
            ("Updated: Dec 22, 2023", "2023-12-22"),
            ("22 December 2023", "2023-12-22"),
            ("2023-02-30", None),
            ("20231203462051", None),
        ],
    )
    def test_parse_date(self, text, expected):
        assert parse_date(text) == expected

    @pytest.mark.parametrize(
        "title, dept",
        [
            ("商务部服贸司负责人解读《商务部等12部门关于加快生活服务数字化赋能的指导意见》", "服贸司"),
            ("商务部市场运行和消费促进司负责人解读《通知》", "市场运行和消费促进司"),
            ("外资司有关负责人就《外商投资法实施条例》答记者问", "外资司"),
            ("商务部新闻发言人答记者问", None),
        ],
    )
    def test_department_from_title(self, title, dept):
        assert department_from_title(title) == dept

    def test_department_from_the_subsite(self):
        assert extract_fixture("subsite-fms-interpretation").department == "外资司"

    def test_english_page_links_back_and_is_english(self):
        en = extract_fixture("english-interpretation")
        zh = extract_fixture("era-b-english-link")
        assert en.language == "en" and en.extractor == "mofcom-english"
        assert en.chinese_url == MANIFEST["era-b-english-link"]["url"]
        assert zh.english_url == MANIFEST["english-interpretation"]["url"]
        assert "authentic in Chinese" not in en.resulting_text + zh.resulting_text

    def test_generic_fallback_names_itself(self):
        result = extract_fixture("subsite-generic-fallback")
        assert result.extractor == "generic-trafilatura"
        assert result.extractor_version == EXTRACTOR_VERSION

    def test_real_fragment_nested_p_and_en_link(self):
        fragment = (SAMPLES / "mofcom_zh_2020_art-con-bottonmLine_fragment.html").read_text(encoding="utf-8")
        page = html_page('<div class="art-title">商务部负责人谈中德经贸合作</div>' + fragment)
        result = extract_page(page.encode(), "http://www.mofcom.gov.cn/article/ae/ai/202010/20201003010001.shtml")
        assert isinstance(result, ExtractedPage)
        paragraphs = result.resulting_text.split("\n\n")
        assert len(paragraphs) == 4 and paragraphs[0].startswith("10月22日下午，商务部长钟山")
        assert result.english_url.endswith("/significantnews/202011/20201103012533.shtml")
        assert "All information" not in result.resulting_text

    def test_real_mee_page_meta_block(self):
        result = extract_page(
            (SAMPLES / "gov_mee_2022_article_excerpt.html").read_bytes(),
            "http://www.mee.gov.cn/ywdt/hjywnews/202204/t20220417_974894.shtml",
        )
        # A weekly news digest, not an interpretation: read, then rejected by the title/column test.
        assert isinstance(result, Rejection) and result.reason == "not-interpretation"
        assert "生态环境部一周要闻" in result.detail

    def test_policy_links_in_the_body(self):
        body = (
            f"<p>{LONG_ZH}</p>"
            '<p>近日印发的<a href="/article/zwgk/zcfb/202312/20231203461911.shtml">《关于加快生活服务数字化赋能的指导意见》</a>明确了任务。</p>'
            '<p>原文中提到的<a href="/article/ae/ai/202312/20231203460001.shtml">试点城市</a>将先行先试。</p>'
            '<p>相关链接：<a href="/a/202312/1.shtml">《通知一》</a> <a href="http://www.gov.cn/zhengce/2.htm">《通知二》</a></p>'
            '<p><a href="/article/zwgk/zcfb/202312/20231203461999.shtml">[政策原文]</a></p>'
        )
        result = extract_page(era_b_page(body).encode(), ERA_B_URL)
        assert result.resulting_text.split("\n\n")[1:] == [
            "近日印发的《关于加快生活服务数字化赋能的指导意见》明确了任务。",
            "原文中提到的试点城市将先行先试。",
        ]
        assert [link["text"] for link in result.policy_links] == [
            "《关于加快生活服务数字化赋能的指导意见》", "《通知一》", "《通知二》", "政策原文",
        ]
        assert result.policy_links[2]["url"] == "http://www.gov.cn/zhengce/2.htm"
        assert result.policy_links[1]["url"] == "http://www.mofcom.gov.cn/a/202312/1.shtml"

    def test_to_document_keys_are_document_columns(self):
        doc = extract_fixture("era-b-attachments").to_document()
        assert set(doc) <= set(DOCUMENT_COLUMNS)
        assert isinstance(doc["policy_links"], list) and isinstance(doc["attachments"], list)
        assert not {"url", "capture_id", "input_url", "returned_url"} & set(doc)


# ----------------------------------------------------------------------------------------- the seed
def test_seed_page_reproduces_the_seed_record(seed):
    entry = MANIFEST["era-b-seed"]
    result = extract_fixture("era-b-seed")
    assert isinstance(result, ExtractedPage)
    assert re.sub(r"\s+", " ", result.resulting_text) == seed["resulting_text"]
    assert result.resulting_text.count("\n\n") == 12
    assert seed["title"] == result.title + " [政策原文]"
    assert result.publish_date == "2023-12-21"
    # The page is archived where the seed's URLs say: requested 20231224001357, captured 20231221091931.
    returned = parse_wayback_url(seed["returned_url"])
    requested = parse_input_url(seed["input_url"])
    assert entry["url"] == returned.original == requested.original
    assert [c["timestamp"] for c in entry["captures"]] == [returned.timestamp]
    assert public_url(entry["captures"][0]["timestamp"], entry["url"]) == seed["returned_url"]


def test_text_after_a_comment_is_read():
    # Editors' comments sit inside the fields and the body; what follows one is page text all the same.
    page = era_b_page(f"<p>第一段<!-- TRS 正文 -->续写。{LONG_ZH}</p>",
                      tool="<p>发布时间：<!--pubtime-->2023-12-21</p><p>来源：<?php echo $src ?>服贸司</p>")
    result = extract_page(page.encode(), ERA_B_URL)
    assert result.publish_date == "2023-12-21" and result.source == "服贸司"
    assert result.resulting_text.startswith("第一段续写。")


# ----------------------------------------------------------------------------------------- cleaning
class TestClean:
    def test_whitespace_normalised(self):
        assert normalise_space("\u3000\u3000商务部\u00a0\u00a0解读\t\r\n 关税\u200b\ufeff ") == "商务部 解读 关税"

    def test_punctuation_kept_never_nfkc(self):
        text = "《意见》（以下简称“意见”）：一、二；外资，关税。２０２３年ＡＢＣ！"
        page = era_b_page(f"<p>{text}{LONG_ZH}</p>")
        result = extract_page(page.encode(), ERA_B_URL)
        assert result.resulting_text.startswith(text)
        assert unicodedata.normalize("NFKC", text) != text

    def test_widgets_removed_content_mentioning_them_kept(self):
        body = (
            f"<p>{LONG_ZH}</p><p>【打印本页】【关闭窗口】</p><p>字号：[大][中][小]</p>"
            "<div class='bdsharebuttonbox'>分享到：<a>微信</a></div><p>扫一扫在手机打开当前页</p>"
            "<p>打印机等办公设备的进口关税下调后，企业成本明显降低。</p>"
            "<p>[an error occurred while processing this directive]</p>"
            "<p>(All information published on this website is authentic in Chinese. English is provided for reference only.)</p>"
        )
        result = extract_page(era_b_page(body).encode(), ERA_B_URL)
        assert result.resulting_text == LONG_ZH + "\n\n打印机等办公设备的进口关税下调后，企业成本明显降低。"

    @pytest.mark.parametrize(
        "line, widget",
        [("【打印本页】 【关闭窗口】", True), ("分享到：", True), ("字号：大 中 小", True), ("[打印]", True),
         ("Print | Close", True), ("打印本页", True), ("关闭窗口后再打印", False), ("大中小企业融资", False)],
    )
    def test_widget_lines(self, line, widget):
        assert is_widget_line(line) is widget

    def test_trailing_sidebar_leaks_popped(self):
        assert clean_lines(["正文", "农产品贸易专题", "关闭生产资料动态"]) == ["正文"]
        assert clean_lines(["农产品贸易专题", "正文"]) == ["农产品贸易专题", "正文"]

    def test_paragraph_breaks_from_br_and_blocks(self):
        body = f"<p>第一段{LONG_ZH}<br>第二段</p><div>第三段<span>续</span></div><table><tr><td>表头</td><td>数值</td></tr></table>"
        result = extract_page(era_b_page(body).encode(), ERA_B_URL)
        assert result.resulting_text.split("\n\n") == [f"第一段{LONG_ZH}", "第二段", "第三段续", "表头 数值"]

    def test_wayback_toolbar_stripped(self):
        toolbar = (
            "<!-- BEGIN WAYBACK TOOLBAR INSERT --><div id='wm-ipp'>The Wayback Machine - "
            "https://web.archive.org/web/20231221091931/ 42 captures</div><!-- END WAYBACK TOOLBAR INSERT -->"
        )
        page = era_b_page(f"<p>{LONG_ZH}</p>").replace("<body>", "<body>" + toolbar)
        assert "wm-ipp" not in strip_wayback_insert(page)
        result = extract_page(page.encode(), "https://web.archive.org/web/20231221091931/" + ERA_B_URL)
        assert isinstance(result, ExtractedPage) and "captures" not in result.resulting_text


# ----------------------------------------------------------------------------------------- rejections
def _cassette_body(name: str) -> bytes:
    data = yaml.safe_load((FIXTURES / "ia-recordings" / "cassettes" / name).read_text(encoding="utf-8"))
    body = data["interactions"][0]["response"]["body"]["string"]
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


class TestReject:
    @pytest.mark.parametrize(
        "page_id, reason",
        [("site-404-status-200", "site-404"), ("wayback-excluded-page", "wayback-error"), ("era-b-empty-body", "empty"),
         ("script-shell-wscckey", "script-shell"), ("era-b-news-not-interpretation", "not-interpretation"),
         ("english-not-interpretation", "not-interpretation"), ("subsite-wms-notice", "not-interpretation")],
    )
    def test_fixture_reasons(self, page_id, reason):
        result = extract_fixture(page_id)
        assert isinstance(result, Rejection) and result.reason == reason
        assert result.reason in REASONS

    def test_wayback_not_archived_page_from_the_recordings(self):
        body = _cassette_body("test_get_memento_raises_no_memento_error.yaml")
        assert b"Hrm." in body
        result = extract_page(body, ERA_B_URL, {"Content-Type": "text/html; charset=utf-8"})
        assert result.reason == "wayback-error"

    def test_site_404_by_title(self):
        page = html_page("<div class='art-con'><p>404 Error</p></div>").replace("<title>t</title>", "<title>404 Not Found</title>")
        assert extract_page(page.encode(), ERA_B_URL).reason == "site-404"

    def test_the_site_404_page_is_told_before_the_generic_reader_runs(self, monkeypatch):
        # No template reads the site's 404 page; the generic fallback would spend tens of ms on it.
        def no_generic(*args):
            raise AssertionError("the generic reader ran on a not-found page")

        monkeypatch.setattr("crawler.extract.generic.extract", no_generic)
        result = extract_fixture("site-404-status-200")
        assert result.reason == "site-404" and "404 Error" in result.detail

    def test_a_404_page_with_text_hidden_in_markup_is_still_a_404(self):
        # trafilatura would read the iframe's raw text (over 200 characters) as an article.
        hidden = "<iframe>" + "<p>第一条 外商投资" * 40 + "</iframe>"
        page = f"<html><head><title>t</title></head><body><p>404 Error</p><p>页面不存在</p>{hidden}</body></html>"
        assert extract_page(page.encode(), ERA_B_URL).reason == "site-404"

    def test_an_article_that_mentions_404_is_not_rejected(self):
        body = f"<p>{LONG_ZH}</p><p>网站改版后，部分旧链接显示“页面不存在”，请读者通过新栏目访问。</p>"
        assert isinstance(extract_page(era_b_page(body).encode(), ERA_B_URL), ExtractedPage)

    @pytest.mark.parametrize(
        "body, headers, reason",
        [
            (b"", {}, "empty"),
            (b"   \n", {}, "empty"),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", {}, "not-html"),
            (b"\x89PNG\r\n\x1a\n\x00\x00", {}, "not-html"),
            (b"GIF89a\x01\x00", {"Content-Type": "text/html"}, "not-html"),
            (b"just some plain text, no markup at all", {"Content-Type": "text/plain"}, "not-html"),
            (b"\x00\x01binary payload", {"Content-Type": "application/pdf"}, "not-html"),
            (b"<p>" + b"\x80\xff\xfe\x80" * 200, {}, "undecodable"),
            (b"<html><head><title></title></head><body></body></html>", {}, "empty"),
            (b"<html><head><script>var a=1;window.location.reload();</script></head><body></body></html>", {}, "script-shell"),
        ],
    )
    def test_reasons(self, body, headers, reason):
        result = extract_page(body, ERA_B_URL, headers)
        assert isinstance(result, Rejection) and result.reason == reason, result

    def test_html_mislabelled_as_binary_is_still_read(self):
        page = era_b_page(f"<p>{LONG_ZH}</p>").encode()
        assert isinstance(extract_page(page, ERA_B_URL, {"Content-Type": "application/octet-stream"}), ExtractedPage)

    def test_listing_handed_to_extract_page(self):
        result = extract_page(page_bytes("era-b-listing-page2"), MANIFEST["era-b-listing-page2"]["url"])
        assert result.reason == "not-interpretation" and "find_listing_links" in result.detail

    def test_interpretation_by_title_outside_the_columns(self):
        url = "http://www.mofcom.gov.cn/article/ae/ai/202106/20210603158399.shtml"
        news = extract_page(era_b_page(f"<p>{LONG_ZH}</p>", title="商务部召开外资工作座谈会").encode(), url)
        qa = extract_page(era_b_page(f"<p>{LONG_ZH}</p>", title="商务部外资司负责人就外资工作答记者问").encode(), url)
        assert isinstance(news, Rejection) and isinstance(qa, ExtractedPage)


# ----------------------------------------------------------------------------------------- language
class TestLanguage:
    def test_chinese_by_han_share(self):
        guess = detect_language(LONG_ZH)
        assert (guess.language, guess.method) == ("zh", "han-share") and guess.score > 0.9

    @pytest.mark.parametrize("text", ["关税", "外资", "商务部", "解读《意见》"])
    def test_short_chinese_is_never_korean(self, text):
        assert detect_language(text).language == "zh"

    def test_english_long_uses_seeded_langdetect(self):
        text = "The Ministry of Commerce will further open the services sector to foreign investment and cut tariffs."
        first, second = detect_language(text), detect_language(text)
        assert first == second and (first.language, first.method) == ("en", "langdetect")

    def test_short_english(self):
        assert detect_language("Tariffs").language == "en"

    def test_the_unclear_middle_goes_to_langdetect_and_is_stable(self):
        text = "MOFCOM 商务部 press conference on foreign trade and tariffs 关税 with officials from several departments"
        guesses = {detect_language(text) for _ in range(5)}
        assert len(guesses) == 1
        (guess,) = guesses
        assert guess.method == "langdetect" and 0 < guess.score <= 1

    def test_other_languages_named(self):
        text = "Le ministère du Commerce a publié de nouvelles mesures pour attirer les investissements étrangers."
        assert detect_language(text).language == "fr"

    def test_no_letters(self):
        assert detect_language("2023-12-21 ，。").language == "und"


# ----------------------------------------------------------------------------------------- listings
class TestListing:
    @pytest.mark.parametrize(
        "url, listing, article",
        [
            ("http://www.mofcom.gov.cn/article/zwgk/gkzcjd/", True, False),
            ("http://www.mofcom.gov.cn/article/zwgk/gkzcjd/?2", True, False),
            ("http://www.mofcom.gov.cn/article/zhengcejd/bj/?8", True, False),
            ("https://www.mofcom.gov.cn/zcjd/index.html", True, False),
            ("https://www.mofcom.gov.cn/zcjd/index_3.html", True, False),
            ("http://www.mofcom.gov.cn/", True, False),
            ("https://ec.mofcom.gov.cn/article/zcjd/", True, False),
            (ERA_B_URL, False, True),
            (ERA_B_URL + "?wscckey=ab12_1703", False, True),
            ("https://www.mofcom.gov.cn/zcjd/gnmy/art/2024/art_0949b90254084c3ab67ac0f33a1062c5.html", False, True),
            ("https://tradeinservices.mofcom.gov.cn/article/lingyu/lyqita/202601/181498.html", False, True),
            ("https://web.archive.org/web/20231221091931/" + ERA_B_URL, False, True),
            ("http://www.example.com/article/zwgk/gkzcjd/202312/20231203462051.shtml", False, False),
            ("http://www.mofcom.gov.cn/article/zwgk/gkzcjd/?foo=bar", False, False),
            ("not a url", False, False),
        ],
    )
    def test_url_shapes(self, url, listing, article):
        assert (is_listing_url(url), is_article_url(url)) == (listing, article)

    def test_homepage_keeps_only_interpretation_links(self):
        page = (SAMPLES / "mofcom_zh_2017_homepage_zhengcejd_list_excerpt.html").read_text(encoding="utf-8")
        page = page.replace("</ul>", '<li><a href="/article/ae/ai/201705/20170502571063.shtml">新闻</a></li></ul>', 1)
        links = find_listing_links(page.encode(), "http://www.mofcom.gov.cn/")
        assert len(links) == 6 and all("/zhengcejd/" in u for u in links)

    def test_wayback_rewritten_links_unwrapped(self):
        page = html_page(
            '<ul class="txtList_01"><li><a href="/web/20231221091931/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/'
            '202312/20231203462051.shtml">x</a></li><li><a href="javascript:;">y</a></li></ul>'
        )
        links = find_listing_links(page.encode(), "https://web.archive.org/web/20231225000000/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/")
        assert links == [ERA_B_URL]

    def test_unreadable_listing_gives_nothing(self):
        assert find_listing_links(b"", "http://www.mofcom.gov.cn/") == []
        assert find_listing_links(b"\x80\xff" * 100, "http://www.mofcom.gov.cn/") == []


# ----------------------------------------------------------------------------------------- never raises
def _is_result(value) -> bool:
    return isinstance(value, ExtractedPage | Rejection)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=4096), charset=st.sampled_from([None, "utf-8", "gbk", "latin-1", "x-bogus", "utf-16"]))
def test_random_bytes_never_raise(body, charset):
    headers = {"Content-Type": f"text/html; charset={charset}"} if charset else {}
    assert _is_result(extract_page(body, ERA_B_URL, headers))
    assert isinstance(find_listing_links(body, "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/", headers), list)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page_id=st.sampled_from(sorted(p for p, e in MANIFEST.items() if e.get("file"))), cut=st.floats(0, 1))
def test_truncated_fixtures_never_raise(page_id, cut):
    body = page_bytes(page_id)
    assert _is_result(extract_page(body[: int(len(body) * cut)], MANIFEST[page_id]["url"], MANIFEST[page_id]["headers"]))


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=2000))
def test_random_markup_never_raises(text):
    page = era_b_page(text, title=text[:50], tool=text[:80])
    assert _is_result(extract_page(page.encode("utf-8", "surrogatepass"), ERA_B_URL, None))


@pytest.mark.parametrize(
    "body",
    [
        ("<div>" * 20000 + LONG_ZH + "</div>" * 20000).encode(),
        era_b_page("<p>" + LONG_ZH * 4000 + "</p>").encode(),  # about 3 MB
        era_b_page("".join(f"<p>{LONG_ZH}</p>" for _ in range(3000))).encode(),
        b"<html>" + b"\x00" * 1000 + "商务部".encode() + b"</html>",
        b"<?xml version='1.0' encoding='gbk'?><html><body><p>x</p></body></html>",
        ("<table>" * 500 + "<tr><td>" * 500 + LONG_ZH).encode(),
        html_page(f'<div class="art-con art-con-bottonmLine"><p>{LONG_ZH}</p></div>').encode("utf-16"),
    ],
)
def test_pathological_pages_never_raise(body):
    assert _is_result(extract_page(body, ERA_B_URL, {"Content-Type": "text/html; charset=utf-8"}))


def test_non_interpretation_urls_and_odd_arguments_never_raise():
    body = page_bytes("era-b-seed")
    for url in ("", "not a url", "http://[::1", "https://web.archive.org/web/2023/", "ftp://x"):
        assert _is_result(extract_page(body, url, None))
    assert _is_result(extract_page(bytearray(body), ERA_B_URL, {"Content-Type": None}))
