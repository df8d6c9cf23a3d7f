"""Property-based hardening of decoding and extraction: whatever the bytes, the pipeline ends in a
record or a typed rejection, and never raises."""

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import REASONS, ExtractedPage, Rejection, decode_html, extract_page
from crawler.extract.dom import parse_html
from crawler.extract.fields import js_vars
from crawler.extraction import extract_in_time

PAGES = Path(__file__).parent / "fixtures" / "pages"
MANIFEST = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))
ARTICLES = [p for p in MANIFEST["pages"] if p.get("kind") == "article" and p.get("file")]
SEED = next(p for p in ARTICLES if p["id"] == "era-b-seed")
SEED_BYTES = (PAGES / SEED["file"]).read_bytes()
GBK = next(p for p in ARTICLES if p["id"] == "era-a-gbk-2009")

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_typed(result):
    assert isinstance(result, ExtractedPage | Rejection)
    if isinstance(result, Rejection):
        assert result.reason in REASONS
    else:
        assert result.resulting_text.strip()
        assert isinstance(result.policy_links, list) and isinstance(result.attachments, list)


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_end_typed(body):
    assert_typed(extract_page(body, SEED["url"], {"Content-Type": "text/html"}))


@FAST
@given(st.integers(min_value=0, max_value=len(SEED_BYTES)))
def test_a_page_cut_anywhere_ends_typed(cut):
    assert_typed(extract_page(SEED_BYTES[:cut], SEED["url"], SEED.get("headers")))


@FAST
@given(
    st.sampled_from(ARTICLES),
    st.sampled_from(["utf-8", "gbk", "gb2312", "iso-8859-1", "big5", "shift_jis", "", "bogus-charset"]),
)
def test_any_declared_charset_ends_typed(page, label):
    body = (PAGES / page["file"]).read_bytes()
    headers = {"Content-Type": f"text/html; charset={label}" if label else "text/html"}
    assert_typed(extract_page(body, page["url"], headers))


@FAST
@given(st.text(alphabet=st.characters(codec="gb18030"), min_size=1, max_size=300))
def test_gbk_bytes_labelled_utf8_decode_to_the_same_text(text):
    html = f"<html><head><title>t</title></head><body><p>{text}</p></body></html>"
    body = html.encode("gb18030")
    decoded, charset = decode_html(body, {"Content-Type": "text/html; charset=utf-8"})
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # the header lies: the bytes are not UTF-8, so the next candidate must win, losslessly
        assert decoded == html
        assert charset in ("gb18030", "gbk", "gb2312")


@FAST
@given(st.integers(min_value=0, max_value=len(SEED_BYTES)))
def test_mixed_charsets_end_typed(cut):
    # a UTF-8 page with a GBK-encoded tail spliced in (a broken template include)
    gbk_tail = "附件：外资准入负面清单（2021年版）".encode("gbk")
    assert_typed(extract_page(SEED_BYTES[:cut] + gbk_tail + SEED_BYTES[cut:], SEED["url"], SEED.get("headers")))


@FAST
@given(st.binary(max_size=2048))
def test_gzip_of_anything_ends_typed(body):
    assert_typed(extract_page(gzip.compress(body), SEED["url"], {"Content-Type": "text/html"}))


def test_gzip_still_compressed_page_reads_like_the_plain_one():
    plain = extract_page(SEED_BYTES, SEED["url"], SEED.get("headers"))
    zipped = extract_page(gzip.compress(SEED_BYTES), SEED["url"], SEED.get("headers"))
    assert isinstance(zipped, ExtractedPage)
    assert zipped.resulting_text == plain.resulting_text and zipped.title == plain.title


def extract_within(seconds: int, body: bytes) -> ExtractedPage | Rejection:
    """extract_page, failing the test if it takes longer (the regex engine checks for signals)."""
    result = extract_in_time(body, SEED["url"], {"Content-Type": "text/html"}, seconds)
    assert getattr(result, "reason", None) != "timed-out", f"extraction took more than {seconds} s"
    return result


def test_a_script_string_left_open_with_escapes_in_it_ends_typed_at_once():
    # A string left open (as where a capture was cut) with n escapes in it once cost 2^n regex steps:
    # 60 would have taken years.
    open_string = b'<script>var atitle = "' + b"\\/article" * 60 + b"</script>"
    result = extract_within(10, SEED_BYTES.replace(b"</head>", open_string + b"</head>", 1))
    assert isinstance(result, ExtractedPage) and result.title == extract_page(SEED_BYTES, SEED["url"]).title


def test_a_page_swallowed_by_an_unclosed_title_ends_typed_at_once():
    # The site-suffix pattern over a 90 KB title once took 7 s, and four times that for twice the size.
    huge_title = "<title>" + "-Ministry of Commerce x" * 8000
    body = re.sub(rb"<title>.*?</title>", huge_title.encode(), SEED_BYTES, count=1, flags=re.S)
    assert_typed(extract_within(10, body))


def test_an_escaped_quote_stays_inside_a_script_string():
    page = b'<html><head><script>var atitle = "say \\"hi\\" \\\\"; var source = \'a\\\'b\';</script></head></html>'
    assert js_vars(parse_html(page.decode())) == {"atitle": 'say "hi" \\', "source": "a'b"}


def test_a_huge_page_ends_typed():
    filler = "<p>" + "数字化赋能生活服务，" * 200 + "</p>\n"
    body = SEED_BYTES.replace(b"</body>", filler.encode("utf-8") * 2000 + b"</body>")
    assert len(body) > 10_000_000
    result = extract_page(body, SEED["url"], SEED.get("headers"))
    assert_typed(result)


@pytest.mark.parametrize("depth", [100, 1000, 50_000])
def test_deeply_nested_markup_ends_typed(depth):
    body = ("<html><body>" + "<div>" * depth + "<p>商务部外资司负责人解读外资政策。" * 20 + "</div>" * depth
            + "</body></html>").encode("utf-8")
    assert_typed(extract_page(body, SEED["url"], {"Content-Type": "text/html; charset=utf-8"}))


@FAST
@given(st.sampled_from(ARTICLES), st.binary(min_size=1, max_size=64), st.integers(min_value=0))
def test_bytes_spliced_into_a_real_page_end_typed(page, junk, where):
    body = (PAGES / page["file"]).read_bytes()
    at = where % (len(body) + 1)
    assert_typed(extract_page(body[:at] + junk + body[at:], page["url"], page.get("headers")))


def test_the_gbk_page_decodes_without_replacement_characters():
    body = (PAGES / GBK["file"]).read_bytes()
    result = extract_page(body, GBK["url"], GBK.get("headers"))
    assert isinstance(result, ExtractedPage)
    assert "\ufffd" not in result.resulting_text and result.charset in ("gb18030", "gbk", "gb2312")
