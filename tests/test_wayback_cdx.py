"""CDX queries and answers: URL building (with waybackpy's checks), text and JSON parsing, paging keys,
repeated rows, revisits, bad timestamps and junk originals."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.wayback.cdx import (
    CDX_FIELDS,
    CdxBlocked,
    CdxError,
    CdxQuery,
    CdxRow,
    check_cdx_answer,
    dedupe_rows,
    is_malformed_original,
    parse_cdx,
)

CDX_FILES = Path(__file__).parent / "fixtures" / "ia-recordings" / "cdx"
MOFCOM = "www.mofcom.gov.cn/article/zwgk/gkzcjd/"
LINE = "cn,gov,mofcom)/article/zwgk/gkzcjd/202312/20231203462051.shtml 20231221091931 http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml text/html 200 ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 5120"


def test_query_url_carries_every_server_side_option():
    q = CdxQuery(MOFCOM, from_ts="2020", to_ts="20241231", filters=["statuscode:200", "mimetype:text/html"],
                 collapse=["digest"], limit=500)
    url = q.url_for("http://127.0.0.1:8765/")
    parts = urlsplit(url)
    assert parts.path == "/cdx/search/cdx"
    qs = parse_qs(parts.query)
    assert qs == {
        "url": [MOFCOM], "matchType": ["prefix"], "from": ["2020"], "to": ["20241231"],
        "filter": ["statuscode:200", "mimetype:text/html"], "collapse": ["digest"], "output": ["json"],
        "limit": ["500"], "showResumeKey": ["true"],
    }


def test_next_page_sends_the_resume_key_encoded_once_more_as_the_archive_expects():
    # Recorded request of test_search_multipage: key line "com%2Ccnn%29%2F+2001041400593%3A".
    q = CdxQuery("cnn.com", match_type=None, from_ts="20010410000000", to_ts="20010510000000", limit=25, output="text")
    url = q.next_page("com%2Ccnn%29%2F+2001041400593%3A").url_for("https://web.archive.org")
    assert url.endswith("&resumeKey=com%252Ccnn%2529%252F%2B2001041400593%253A")
    assert "resumeKey" not in q.url_for("https://web.archive.org")  # the first page is unchanged


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": ["status:200"]}, "filter"),
    ({"collapse": ["nothing"]}, "collapse"),
    ({"match_type": "everything"}, "match"),
    ({"from_ts": "2020-01"}, "from_ts"),
    ({"limit": -5}, "limit"),
    ({"fl": ("urlkey", "digest")}, "fl"),
])
def test_bad_queries_are_refused_before_any_request(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CdxQuery(MOFCOM, **kwargs)


def test_custom_field_list_is_sent_and_parsed():
    q = CdxQuery(MOFCOM, fl=("timestamp", "original", "digest"), output="text")
    assert parse_qs(urlsplit(q.url_for("http://x")).query)["fl"] == ["timestamp,original,digest"]
    page = parse_cdx(b"20231221091931 http://www.mofcom.gov.cn/a.shtml ABC\n", "text/plain", fields=q.fl)
    assert page.rows[0].timestamp == "20231221091931"
    assert page.rows[0].urlkey == "cn,gov,mofcom)/a.shtml"  # computed when not asked for
    assert page.rows[0].length is None


def test_text_answer_with_resume_key():
    body = f"{LINE}\n{LINE}\n\ncn%2Cgov%2Cmofcom%29%2Farticle+20231221091932\n".encode()
    page = parse_cdx(body, "text/plain;charset=UTF-8")
    assert len(page.rows) == 1 and page.duplicates == 1
    assert page.resume_key == "cn%2Cgov%2Cmofcom%29%2Farticle+20231221091932"
    row = page.rows[0]
    assert row == CdxRow("cn,gov,mofcom)/article/zwgk/gkzcjd/202312/20231203462051.shtml", "20231221091931",
                         "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml",
                         "text/html", "200", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 5120)
    assert row.status == 200 and not row.is_revisit and row.line() == LINE


def test_json_answer_with_and_without_spaces_and_resume_key():
    header = list(CDX_FIELDS)
    values = LINE.split()
    compact = json.dumps([header, values, [], ["KEY+1"]], separators=(",", ":")).encode()
    spaced = json.dumps([header, values, values]).encode()  # the reference writer's ", " style, a repeat
    a = parse_cdx(compact, "application/json")
    b = parse_cdx(spaced, None)
    assert a.rows == b.rows and len(a.rows) == 1
    assert a.resume_key == "KEY+1" and b.resume_key is None and b.duplicates == 1


@pytest.mark.parametrize("body, content_type", [(b"", "text/plain"), (b"", "application/json"), (b"[]", "application/json"),
                                                (b"[]\n", None), (b"\n\n", "text/plain")])
def test_empty_answers_are_an_empty_last_page(body, content_type):
    page = parse_cdx(body, content_type)
    assert page.rows == [] and page.resume_key is None and page.is_last and page.skipped == 0


def test_revisit_rows_and_missing_lengths():
    body = (b"com,dw)/ 20191001012455 http://www.dw.com/ warc/revisit - 3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ 432\n"
            b"com,cnn)/ 20100218025451 http://www.cnn.com/ text/html 200 JK7O4OWOMDJHBNQJ5U43X5OQRORF6FQB -\n")
    revisit, no_length = parse_cdx(body).rows
    assert revisit.is_revisit and revisit.statuscode == "-" and revisit.status is None and revisit.length == 432
    assert no_length.length is None and no_length.status == 200


def test_recorded_bad_timestamps_are_skipped_and_counted():
    page = parse_cdx((CDX_FILES / "bad_timestamp_cdx.txt").read_bytes())
    assert [r.timestamp for r in page.rows] == ["20011120210446", "20000125210430", "20000311052312"]
    assert page.skipped == 2 and page.skip_reasons == {"bad timestamp": 2}


def test_recorded_malformed_originals_are_skipped_and_counted():
    page = parse_cdx((CDX_FILES / "malformed_cdx.txt").read_bytes())
    assert [r.original for r in page.rows] == ["https://www.epa.gov/", "https://www.epa.gov/"]
    assert page.skipped == 3 and page.skip_reasons == {"malformed original": 3}


def test_recorded_zero_length_rows_are_kept():
    page = parse_cdx((CDX_FILES / "zero_length_cdx.txt").read_bytes())
    assert len(page.rows) == 5 and page.rows[-1].length is None


def test_twelve_digit_timestamps_are_padded_like_playback_does():
    page = parse_cdx(b"com,cnn)/ 200102031234 http://www.cnn.com/ text/html 200 AAAA 10\n")
    assert page.rows[0].timestamp == "20010203123400"


def test_rows_with_wrong_field_counts_are_skipped_not_fatal():
    page = parse_cdx(f"{LINE}\nhalf a line\n".encode())
    assert len(page.rows) == 1 and page.skip_reasons == {"wrong field count": 1}
    page = parse_cdx(json.dumps([list(CDX_FIELDS), LINE.split(), ["too", "short"]]).encode(), "application/json")
    assert len(page.rows) == 1 and page.skipped == 1


@pytest.mark.parametrize("original, bad", [
    ("http://www.mofcom.gov.cn/article/b/202312/1.shtml", False),
    ("https://www.mofcom.gov.cn:443/?2", False),
    ("www.mofcom.gov.cn/article/", False),
    ("http://mailto:someone@mofcom.gov.cn/", True),
    ("mailto:someone@mofcom.gov.cn", True),
    ('https://www.epa.gov/"data:image/png;base64,AAAA', True),
    ("https://www.epa.gov/%22data:image/jpeg;base64,/9j/4AAQ", True),
    ("some/not/even/url/thing", True),
    ("ftp://ftp.mofcom.gov.cn/file", True),
    ("http://www.mofcom.gov.cn:port/", True),
    ("", True),
])
def test_malformed_originals(original, bad):
    assert is_malformed_original(original) is bad


def test_dedupe_across_pages():
    row = parse_cdx(LINE.encode()).rows[0]
    other = CdxRow(row.urlkey, "20240101000000", row.original, row.mimetype, "200", row.digest, 10)
    seen: set = set()
    assert dedupe_rows([row, other], seen) == [row, other]
    assert dedupe_rows([other, row], seen) == []


def test_blocked_site_answers_raise():
    blocked = (b"org.archive.util.io.RuntimeIOException: org.archive.wayback.exception."
               b"AdministrativeAccessControlException: Blocked Site Error\n")
    with pytest.raises(CdxBlocked):
        check_cdx_answer(403, blocked)
    with pytest.raises(CdxBlocked):
        parse_cdx(blocked, "text/plain")
    with pytest.raises(CdxBlocked):  # robots exclusions have come inside a 200
        parse_cdx(b"org.archive.wayback.exception.RobotAccessControlException: Blocked By Robots\n")
    with pytest.raises(CdxError, match="rejected"):
        check_cdx_answer(400, b"Sorry, matchType=domain is not supported by this server")
    check_cdx_answer(200, LINE.encode())


def test_unparsable_json_is_a_clear_error():
    with pytest.raises(CdxError, match="not valid JSON"):
        parse_cdx(b"[[\"urlkey\"", "application/json")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(alphabet=" \n[]\",-:/.0123456789abcdefhtp", max_size=400).map(str.encode))
def test_any_body_parses_or_fails_with_a_cdx_error(body):
    try:
        page = parse_cdx(body)
    except CdxError:
        return
    assert page.skipped == sum(page.skip_reasons.values())
    assert len(set(page.rows)) == len(page.rows)
    for row in page.rows:
        assert len(row.timestamp) == 14 and row.timestamp.isdigit()
