import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.store.segment import (
    HAN,
    SEPARATORS,
    en_match_query,
    han_share,
    letters_and_han,
    segment,
    zh_match_query,
)
from crawler.urls import canonical_url, section_of, site_of, urlkey
from crawler.wayback.urls import parse_input_url, parse_wayback_url, public_url


@pytest.mark.parametrize(
    "spelling",
    [
        "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml",
        "https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml",
        "http://mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml",
        "HTTP://WWW.MOFCOM.GOV.CN:80/article/zwgk/gkzcjd/202312/20231203462051.shtml",
        "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml?wscckey=3fb1abb2a4ccdb62_1552997120",
        "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml#top",
    ],
)
def test_spellings_of_one_article_share_one_canonical_url(spelling):
    assert canonical_url(spelling) == "https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"


def test_canonical_url_keeps_listing_page_numbers_and_drops_trailing_slash():
    assert canonical_url("http://www.mofcom.gov.cn/article/zhengcejd/bp/?2") == "https://www.mofcom.gov.cn/article/zhengcejd/bp?2"
    assert canonical_url("http://www.mofcom.gov.cn/article/zhengcejd/") == "https://www.mofcom.gov.cn/article/zhengcejd"
    assert canonical_url("http://fms.mofcom.gov.cn/a?b=2&a=1") == "https://fms.mofcom.gov.cn/a?a=1&b=2"


def test_sections_and_sites():
    assert section_of("http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml") == "zwgk/gkzcjd"
    assert section_of("http://www.mofcom.gov.cn/article/zhengcejd/bj/201705/20170502570289.shtml") == "zhengcejd/bj"
    assert section_of("https://www.mofcom.gov.cn/zcjd/gnmy/art/2024/art_0949b90254084c3ab67ac0f33a1062c5.html") == "zcjd/gnmy"
    assert section_of("http://english.mofcom.gov.cn/article/policyrelease/announcement/202001/20200102930420.shtml") == "english:policyrelease/announcement"
    assert site_of("https://ec.mofcom.gov.cn/article/zcjd/") == "ec"


def test_urlkey_is_the_archive_surt_key():
    assert urlkey("http://www.mofcom.gov.cn/article/ae/ai/202312/20231203462000.shtml") == (
        "cn,gov,mofcom)/article/ae/ai/202312/20231203462000.shtml"
    )


def test_wayback_url_forms():
    ref = parse_wayback_url("http://127.0.0.1:8080/web/20231221091931id_/http://www.mofcom.gov.cn/a.shtml")
    assert (ref.timestamp, ref.modifier, ref.original) == ("20231221091931", "id_", "http://www.mofcom.gov.cn/a.shtml")
    assert public_url(ref.timestamp, ref.original) == "https://web.archive.org/web/20231221091931/http://www.mofcom.gov.cn/a.shtml"
    assert parse_input_url("20231224001357/http://www.mofcom.gov.cn/a.shtml").timestamp == "20231224001357"
    assert parse_wayback_url("https://example.org/not/wayback") is None


def test_segmentation_makes_every_han_character_a_token():
    assert segment("外资企业2023年") == " 外  资  企  业 2023 年 "
    assert segment("") == segment(None) == ""
    assert zh_match_query("数字化赋能") == '"数 字 化 赋 能"'
    assert zh_match_query("外资 关税") == '"外 资" AND "关 税"'
    assert zh_match_query("第9999号") == "\"第 9999 号\""
    assert zh_match_query("《》，") == ""
    assert en_match_query('digital "empowerment"') == '"digital" AND "empowerment"'
    assert han_share("商务部 Ministry") == pytest.approx(3 / 11)


def _fts5_tokens(*texts: str) -> list[list[tuple[str, int]]]:
    """How the Chinese index's tokenizer reads each text: (term, position) in order."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(texts))
    found = [[] for _ in texts]
    for term, doc, offset in conn.execute("SELECT term, doc, offset FROM v ORDER BY doc, offset"):
        found[doc].append((term, offset))
    conn.close()
    return found


# Han at the edges of its ranges, separators at the edges of theirs, and their neighbours that are
# token characters (fullwidth Ａ and ｦ, 々, 〇, private use, a combining accent, the underscore).
_SEGMENT_ALPHABET = st.sampled_from(
    "外资a1 ，。、《》“”\u3000\u3004\u3005\u3007\u3008\u3011\u3012\u3014\u301f\u3020"
    "\uff01\uff0f\uff10\uff1a\uff20\uff21\uff3b\uff3f\uff40\uff41\uff5b\uff65\uff66"
    "\u2010\u2027\u2028\u2030\u00b7\u00b6\xa0\x1c\x85\u1680\u0301\ue000_é\x00\n\t"
    "\u3400\u4dbf\u4dc0\uf900\ufaff\U00020000\U0003134f\U00031350"
)


def test_every_separator_is_one_to_the_index_tokenizer():
    separator = re.compile(f"[{SEPARATORS}]")
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and separator.match(chr(c))]
    assert 100 < len(chars) < 150  # whitespace and the punctuation ranges
    tokens = _fts5_tokens(*(f"a{c}b" for c in chars))
    assert [c for c, found in zip(chars, tokens, strict=True) if found != [("a", 0), ("b", 1)]] == []


@settings(max_examples=300)
@given(st.text(alphabet=_SEGMENT_ALPHABET | st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_segmentation_gives_the_tokens_of_spacing_out_each_han_character(text):
    definition = re.sub(f"([{HAN}])", r" \1 ", text)
    segmented = segment(text)
    assert segmented.replace(" ", "") == definition.replace(" ", "")  # only spaces added
    ours, theirs = _fts5_tokens(segmented, definition)
    assert ours == theirs


def test_segmentation_leaves_lone_surrogates_alone():
    assert segment("\ud800外") == "\ud800 外 "


@given(st.text(alphabet=st.sampled_from("外资aZ1 ，\u3400\u4dbf\u9fff\uf900\U00020000\U0002a6e0é\n")
               | st.characters(), max_size=60))
def test_letters_and_han_count_what_their_names_say(text):
    assert letters_and_han(text) == (sum(map(str.isalpha, text)), len(re.findall(f"[{HAN}]", text)))
