"""The local Wayback Machine stand-in: capture store, CDX, playback, faults, CLI and the fixture build."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.replay import CaptureError, CaptureStore, ReplayServer, running_replay
from crawler.replay.build import FixtureError, build_fixtures
from crawler.replay.manifest import ManifestError
from crawler.replay.warcs import payload_digest

SEED_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
SEED_TS = "20231221091931"
GBK_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    "<title>商务部服贸司负责人解读《关于加快生活服务数字化赋能的指导意见》</title></head>"
    "<body><p>数字化赋能 生活服务 镕</p></body></html>"
).encode("gbk")
GBK_TYPE = "text/html; charset=gb2312"
LISTING = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/"
DEPT_URL = "http://fms.mofcom.gov.cn/article/zcjd/202001/20200102929183.shtml"


def seed_store() -> CaptureStore:
    store = CaptureStore()
    store.add(SEED_URL, "20231215000000", body=b"<html>older</html>", headers={"Content-Type": "text/html"})
    store.add(
        SEED_URL,
        SEED_TS,
        body=GBK_PAGE,
        headers=[("Content-Type", GBK_TYPE), ("Server", "nginx"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    store.add(SEED_URL, "20240301080000", body=b"<html>newer</html>", headers={"Content-Type": "text/html"})
    store.add(LISTING, "20231222000000", body=b"<html>list</html>", headers={"Content-Type": "text/html"})
    store.add(DEPT_URL, "20200105000000", body=b"<html>fms</html>", headers={"Content-Type": "text/html"})
    store.add_redirect(SEED_URL + "?wscckey=ab12_1703", "20231221091900", SEED_URL, status=302)
    store.add_redirect("http://www.mofcom.gov.cn/old/a.shtml", "20231221091900", "/article/new/a.shtml", status=301)
    store.add_redirect(
        "http://www.mofcom.gov.cn/old/b.shtml", "20231221091900", "//english.mofcom.gov.cn/b.shtml", status=301
    )
    store.add("http://www.mofcom.gov.cn/missing.shtml", "20230101000000", body=b"nf", status=404,
              headers={"Content-Type": "text/html"}, reason="Not Found")
    return store


@pytest.fixture(scope="module")
def server():
    with running_replay(seed_store()) as running:
        yield running


def cdx(server, **params) -> requests.Response:
    return requests.get(f"{server.base_url}/cdx/search/cdx", params=params, timeout=10)


def rows(response: requests.Response) -> list[list[str]]:
    return [line.split(" ") for line in response.text.split("\n") if line and " " in line]


def get(server, path: str, **headers) -> requests.Response:
    return requests.get(server.base_url + path, allow_redirects=False, timeout=10, headers=headers)


# -- CDX ----------------------------------------------------------------------------------------


def test_cdx_text_and_json_give_the_same_rows(server):
    text = cdx(server, url=SEED_URL)
    assert text.status_code == 200 and text.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert [r[1] for r in rows(text)] == ["20231215000000", SEED_TS, "20240301080000"]
    first = rows(text)[1]
    assert first[0] == "cn,gov,mofcom)/article/zwgk/gkzcjd/202312/20231203462051.shtml"
    assert first[2:6] == [SEED_URL, "text/html", "200", payload_digest(GBK_PAGE)]
    assert int(first[6]) > 0

    as_json = cdx(server, url=SEED_URL, output="json")
    assert as_json.headers["Content-Type"] == "application/json"
    data = as_json.json()
    assert data[0] == ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    assert data[1:] == rows(text)
    assert as_json.text.startswith('[["urlkey","timestamp",') and as_json.text.endswith("]]\n")


def test_cdx_fl_selects_and_orders_fields(server):
    text = cdx(server, url=SEED_URL, fl="timestamp,statuscode")
    assert text.text == f"20231215000000 200\n{SEED_TS} 200\n20240301080000 200\n"
    data = cdx(server, url=SEED_URL, fl="statuscode,timestamp", output="json", limit=1).json()
    assert data == [["statuscode", "timestamp"], ["200", "20231215000000"]]
    assert cdx(server, url=SEED_URL, fl="timestamp,nosuchfield").status_code == 400


def test_cdx_filters_are_full_match_regexes(server):
    everything = "mofcom.gov.cn/*"
    assert cdx(server, url=everything, filter="statuscode:2").text == ""  # full match: "200" is not "2"
    two = rows(cdx(server, url=everything, filter="statuscode:2.."))
    assert two and all(r[4] == "200" for r in two)
    assert {r[4] for r in rows(cdx(server, url=everything, filter="!statuscode:200"))} == {"301", "302", "404"}
    both = rows(cdx(server, url=everything, filter=["statuscode:3..", "original:.*old.*"]))
    assert [r[2] for r in both] == ["http://www.mofcom.gov.cn/old/a.shtml", "http://www.mofcom.gov.cn/old/b.shtml"]
    by_index = rows(cdx(server, url=everything, filter="4:30[12]"))
    assert {r[4] for r in by_index} == {"301", "302"}
    whole_line = rows(cdx(server, url=everything, filter=".*wscckey.*"))
    assert len(whole_line) == 1


def test_cdx_contains_and_not_contains_filters(server):
    hits = rows(cdx(server, url="mofcom.gov.cn/*", filter="~original:wscckey"))
    assert [r[2] for r in hits] == [SEED_URL + "?wscckey=ab12_1703"]
    misses = rows(cdx(server, url="mofcom.gov.cn/*", filter="~!original:wscckey"))
    assert misses and all("wscckey" not in r[2] for r in misses)
    assert cdx(server, url="mofcom.gov.cn/*", filter="statuscode:[").status_code == 400


def test_cdx_collapse_is_adjacent_and_takes_a_prefix_length():
    store = CaptureStore()
    for ts, body in [("20230101000000", b"A"), ("20230101120000", b"A"), ("20230102000000", b"B"),
                     ("20230103000000", b"A"), ("20230203000000", b"A")]:
        store.add("http://example.org/", ts, body=body, headers={"Content-Type": "text/html"})
    with running_replay(store) as srv:
        by_digest = rows(cdx(srv, url="example.org", collapse="digest"))
        assert [r[1] for r in by_digest] == ["20230101000000", "20230102000000", "20230103000000"]
        by_day = rows(cdx(srv, url="example.org", collapse="timestamp:8"))
        assert [r[1] for r in by_day] == ["20230101000000", "20230102000000", "20230103000000", "20230203000000"]
        by_month = rows(cdx(srv, url="example.org", collapse="timestamp:6"))
        assert [r[1] for r in by_month] == ["20230101000000", "20230203000000"]
        only_200_per_month = rows(cdx(srv, url="example.org", collapse="timestamp:6", filter="digest:" + payload_digest(b"B")))
        assert [r[1] for r in only_200_per_month] == ["20230102000000"]


def test_cdx_limit_positive_negative_and_latest(server):
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, limit=2))] == ["20231215000000", SEED_TS]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, limit=-2))] == [SEED_TS, "20240301080000"]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, limit=-1))] == ["20240301080000"]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, offset=1, limit=1))] == [SEED_TS]


def test_cdx_from_and_to_take_partial_timestamps(server):
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, **{"from": "2024"}))] == ["20240301080000"]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, to="2023"))] == ["20231215000000", SEED_TS]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, to="202312"))] == ["20231215000000", SEED_TS]
    assert [r[1] for r in rows(cdx(server, url=SEED_URL, **{"from": "20231216", "to": "20231221"}))] == [SEED_TS]
    assert cdx(server, url=SEED_URL, to="2023-12").status_code == 400


def test_cdx_match_types_and_wildcards(server):
    exact = rows(cdx(server, url="https://mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"))
    assert len(exact) == 3  # scheme and www. are canonicalised away
    prefix = rows(cdx(server, url="www.mofcom.gov.cn/article/", matchType="prefix"))
    assert prefix == rows(cdx(server, url="www.mofcom.gov.cn/article/*"))
    assert {r[0].split(")")[1].split("/")[1] for r in prefix} == {"article"}
    assert len(prefix) == 5
    host = rows(cdx(server, url="mofcom.gov.cn", matchType="host"))
    assert len(host) == 8 and all(r[0].startswith("cn,gov,mofcom)/") for r in host)
    domain = rows(cdx(server, url="*.mofcom.gov.cn"))
    assert domain == rows(cdx(server, url="mofcom.gov.cn", matchType="domain"))
    assert {r[2] for r in domain} - {r[2] for r in host} == {DEPT_URL}
    assert cdx(server, url="mofcom.gov.cn", matchType="everything").status_code == 400


def test_cdx_empty_answers(server):
    empty = cdx(server, url="http://nothing.example/")
    assert (empty.status_code, empty.content) == (200, b"")
    empty_json = cdx(server, url="http://nothing.example/", output="json")
    assert (empty_json.status_code, empty_json.content) == (200, b"[]\n")


def test_cdx_errors(server):
    missing = requests.get(f"{server.base_url}/cdx/search/cdx", timeout=10)
    assert missing.status_code == 400 and missing.text == "url parameter is required\n"
    assert cdx(server, url=SEED_URL, limit="ten").status_code == 400
    assert "paged query" in cdx(server, url=SEED_URL, page="1").text


def test_cdx_resume_keys_page_through_every_row_once():
    store = CaptureStore()
    expected = []
    for day in range(1, 11):
        ts = f"202301{day:02d}08300{day % 10}"
        store.add(SEED_URL, ts, body=f"v{day}".encode(), headers={"Content-Type": "text/html"})
        expected.append(ts)
    with running_replay(store) as srv:
        first = cdx(srv, url=SEED_URL, limit=3, showResumeKey="true")
        body = first.text.split("\n")
        assert body[3] == "" and body[4] == "cn%2Cgov%2Cmofcom%29%2Farticle%2Fzwgk%2Fgkzcjd%2F202312%2F20231203462051.shtml+20230103083004"
        seen, keys, key = [], [], None
        while True:
            params = {"url": SEED_URL, "limit": 3, "showResumeKey": "true"}
            if key:
                params["resumeKey"] = key  # the key line verbatim; the client encodes it again
            text = cdx(srv, **params).text
            if not text:
                break
            lines = text.split("\n")
            seen += [line.split(" ")[1] for line in lines if " " in line]
            key = lines[-2] if len(lines) > 2 and lines[-3] == "" else None
            if key is None:
                break
            keys.append(key)
        assert seen == expected
        assert len(keys) >= 3
        data = cdx(srv, url=SEED_URL, limit=4, showResumeKey="true", output="json").json()
        assert data[-2] == [] and data[-1] == ["cn%2Cgov%2Cmofcom%29%2Farticle%2Fzwgk%2Fgkzcjd%2F202312%2F20231203462051.shtml+20230104083005"]
        rest = cdx(srv, url=SEED_URL, resumeKey=data[-1][0], output="json").json()
        assert [r[1] for r in rest[1:]] == expected[4:]
        # a 9 becomes ":" (incLastChar), and the key is decoded twice on input
        store.add(SEED_URL, "20230201000009", body=b"x")
        page = cdx(srv, url=SEED_URL, limit=1, showResumeKey="true", **{"from": "202302"}).text
        assert page.endswith("\n\ncn%2Cgov%2Cmofcom%29%2Farticle%2Fzwgk%2Fgkzcjd%2F202312%2F20231203462051.shtml+2023020100000%3A\n")


def test_cdx_resolve_revisits_fills_later_revisits_only():
    store = CaptureStore()
    store.add_revisit(SEED_URL, "20230101000000", digest=payload_digest(GBK_PAGE), length=600)
    store.add(SEED_URL, "20230102000000", body=GBK_PAGE, headers={"Content-Type": GBK_TYPE})
    store.add_revisit(SEED_URL, "20230103000000")
    with running_replay(store) as srv:
        raw = rows(cdx(srv, url=SEED_URL))
        assert [r[3:5] for r in raw] == [["warc/revisit", "-"], ["text/html", "200"], ["warc/revisit", "-"]]
        assert raw[0][5] == raw[1][5] == raw[2][5]
        resolved = rows(cdx(srv, url=SEED_URL, resolveRevisits="true"))
        assert [r[3:5] for r in resolved] == [["warc/revisit", "-"], ["text/html", "200"], ["text/html", "200"]]
        assert resolved[2][6] == raw[2][6]


def test_cdx_answers_are_gzipped_when_asked(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", f"/cdx/search/cdx?url={SEED_URL}", headers={"Accept-Encoding": "gzip"})
    response = connection.getresponse()
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(response.read()).count(b"\n") == 3
    connection.request("GET", f"/cdx/search/cdx?url={SEED_URL}&gzip=false", headers={"Accept-Encoding": "gzip"})
    response = connection.getresponse()
    assert response.getheader("Content-Encoding") is None and response.read().count(b"\n") == 3
    connection.close()


# -- playback -----------------------------------------------------------------------------------


def test_exact_hit_returns_the_gbk_bytes_unchanged(server):
    url = f"{server.base_url}/web/{SEED_TS}id_/{SEED_URL}"
    with urllib.request.urlopen(url, timeout=10) as response:  # no Accept-Encoding: the raw body
        body, headers = response.read(), response.headers
        assert response.status == 200
    assert body == GBK_PAGE
    assert headers["Content-Type"] == GBK_TYPE
    assert headers["Memento-Datetime"] == "Thu, 21 Dec 2023 09:19:31 GMT"
    assert headers["X-Archive-Src"]
    assert headers.get_all("X-Archive-Orig-Set-Cookie") == ["a=1", "b=2"]
    assert headers["X-Archive-Orig-Server"] == "nginx"
    assert "X-Archive-Orig-Content-Type" not in headers
    link = headers["Link"]
    base = server.base_url
    assert link.startswith(f"<{SEED_URL}>; rel=\"original\", <{base}/web/timemap/link/{SEED_URL}>; rel=\"timemap\"")
    assert f'<{base}/web/20231215000000/{SEED_URL}>; rel="first memento"; datetime="Fri, 15 Dec 2023 00:00:00 GMT"' in link
    assert f'<{base}/web/20231215000000/{SEED_URL}>; rel="prev memento"' in link
    assert f'<{base}/web/{SEED_TS}/{SEED_URL}>; rel="memento"; datetime="Thu, 21 Dec 2023 09:19:31 GMT"' in link
    assert f'<{base}/web/20240301080000/{SEED_URL}>; rel="next memento"' in link
    assert f'<{base}/web/20240301080000/{SEED_URL}>; rel="last memento"' in link
    # through a client that asks for gzip, the same bytes once decoded
    assert get(server, f"/web/{SEED_TS}id_/{SEED_URL}").content == GBK_PAGE


def test_inexact_timestamp_redirects_to_the_nearest_capture(server):
    response = get(server, f"/web/20231224001357id_/{SEED_URL}")
    assert (response.status_code, response.reason) == (302, "FOUND")
    assert response.headers["Location"] == f"{server.base_url}/web/{SEED_TS}id_/{SEED_URL}"
    assert response.headers["X-Archive-Redirect-Reason"] == f"found capture at {SEED_TS}"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"" and "Memento-Datetime" not in response.headers
    later = get(server, f"/web/20240201000000/{SEED_URL}")  # nearest may be later; view mode kept
    assert later.headers["Location"] == f"{server.base_url}/web/20240301080000/{SEED_URL}"
    assert get(server, f"/web/2023id_/{SEED_URL}").headers["X-Archive-Redirect-Reason"] == f"found capture at {SEED_TS}"
    assert get(server, f"/web/{SEED_URL}").headers["X-Archive-Redirect-Reason"] == "found capture at 20240301080000"
    followed = requests.get(f"{server.base_url}/web/20231224001357id_/{SEED_URL}", timeout=10)
    assert followed.content == GBK_PAGE and followed.headers["Memento-Datetime"] == "Thu, 21 Dec 2023 09:19:31 GMT"


def test_archived_redirects_are_rewritten(server):
    base = server.base_url
    absolute = get(server, f"/web/20231221091900id_/{SEED_URL}?wscckey=ab12_1703")
    assert absolute.status_code == 302 and absolute.headers["Memento-Datetime"] == "Thu, 21 Dec 2023 09:19:00 GMT"
    assert absolute.headers["Location"] == f"{base}/web/20231221091900id_/{SEED_URL}"
    assert "X-Archive-Orig-Location" not in absolute.headers
    relative = get(server, "/web/20231221091900id_/http://www.mofcom.gov.cn/old/a.shtml")
    assert (relative.status_code, relative.reason) == (301, "Moved Permanently")
    assert relative.headers["Location"] == f"{base}/web/20231221091900id_/http://www.mofcom.gov.cn/article/new/a.shtml"
    schemeless = get(server, "/web/20231221091900im_/http://www.mofcom.gov.cn/old/b.shtml")
    assert schemeless.headers["Location"] == f"{base}/web/20231221091900im_/http://english.mofcom.gov.cn/b.shtml"
    # following the archived redirect lands on a Wayback 302 to the target's own capture, then the page
    chain = requests.get(absolute.headers["Location"], timeout=10)
    assert [r.status_code for r in chain.history] == [302] and chain.content == GBK_PAGE


def test_archived_redirect_location_styles():
    store = CaptureStore()
    store.add_redirect("http://a.example/x", "20200101000000", "/y", status=301, location_style="path")
    store.add_redirect("http://a.example/z", "20200101000000", "/y", status=301, location_style="schemeless")
    with running_replay(store) as srv:
        assert get(srv, "/web/20200101000000id_/http://a.example/x").headers["Location"] == (
            "/web/20200101000000id_/http://a.example/y"
        )
        assert get(srv, "/web/20200101000000id_/http://a.example/z").headers["Location"] == (
            f"//127.0.0.1:{srv.port}/web/20200101000000id_/http://a.example/y"
        )
    with pytest.raises(CaptureError):
        store.add_redirect("http://a.example/w", "20200101000000", "/y", location_style="sideways")


def test_view_mode_shows_an_archived_redirect_as_a_page(server):
    page = get(server, "/web/20231221091900/http://www.mofcom.gov.cn/old/a.shtml")
    assert page.status_code == 200 and "Memento-Datetime" not in page.headers and page.headers["X-Archive-Src"]
    assert "Got an HTTP 301 response at crawl time" in page.text
    assert '<a href="/web/20231221091900/http://www.mofcom.gov.cn/article/new/a.shtml">Impatient?</a>' in page.text


def test_archived_error_status_is_a_memento(server):
    response = get(server, "/web/20230101000000id_/http://www.mofcom.gov.cn/missing.shtml")
    assert (response.status_code, response.reason) == (404, "Not Found")
    assert response.headers["Memento-Datetime"] == "Sun, 01 Jan 2023 00:00:00 GMT" and response.content == b"nf"


def test_unknown_url_gets_the_hrm_page(server):
    response = get(server, "/web/20231221091931id_/http://www.mofcom.gov.cn/never.shtml")
    assert (response.status_code, response.reason) == (404, "NOT FOUND")
    assert "Memento-Datetime" not in response.headers and "Link" not in response.headers
    assert "<h2>Hrm.</h2>" in response.text
    assert "The Wayback Machine has not archived that URL." in response.text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_revisit_replays_the_original_payload():
    store = CaptureStore()
    store.add(SEED_URL, SEED_TS, body=GBK_PAGE, headers={"Content-Type": GBK_TYPE})
    store.add_revisit(SEED_URL, "20240101000000", status=200, headers={"Content-Type": GBK_TYPE, "Date": "x"})
    with running_replay(store) as srv:
        response = get(srv, f"/web/20240101000000id_/{SEED_URL}")
        assert response.content == GBK_PAGE and response.headers["X-Archive-Orig-Date"] == "x"
        assert response.headers["Memento-Datetime"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_self_redirect_is_passed_over_when_picking_the_nearest():
    store = CaptureStore()
    store.add_redirect("http://epa.gov/climate", "20200201020358", "https://www.epa.gov/climate", status=301)
    store.add("https://www.epa.gov/climate", "20200201023757", body=b"page", headers={"Content-Type": "text/html"})
    with running_replay(store) as srv:
        response = get(srv, "/web/20200201020357id_/http://epa.gov/climate")
        assert response.headers["X-Archive-Redirect-Reason"] == "found capture at 20200201023757"


def test_timemap_and_availability(server):
    timemap = get(server, f"/web/timemap/link/{SEED_URL}")
    assert timemap.headers["Content-Type"] == "application/link-format"
    lines = timemap.text.strip().split(",\n")
    assert lines[0] == f'<{SEED_URL}>; rel="original"'
    assert 'rel="first memento"' in lines[3] and 'rel="last memento"' in lines[-1] and len(lines) == 6
    found = requests.get(f"{server.base_url}/wayback/available", params={"url": SEED_URL, "timestamp": "20231224"}, timeout=10)
    closest = found.json()["archived_snapshots"]["closest"]
    assert closest == {"status": "200", "available": True, "timestamp": SEED_TS,
                       "url": f"{server.base_url}/web/{SEED_TS}/{SEED_URL}"}
    nothing = requests.get(f"{server.base_url}/wayback/available", params={"url": "nope.example"}, timeout=10)
    assert nothing.json() == {"url": "nope.example", "archived_snapshots": {}}
    as_json = get(server, f"/web/timemap/json?url={SEED_URL}&fl=timestamp")
    assert json.loads(as_json.text) == [["timestamp"], ["20231215000000"], [SEED_TS], ["20240301080000"]]


def test_excluded_sites():
    store = CaptureStore()
    store.add("http://blocked.example/page", "20200101000000", body=b"x")
    store.exclude("http://blocked.example/")
    with running_replay(store) as srv:
        response = cdx(srv, url="blocked.example/page")
        assert response.status_code == 403 and "Blocked Site Error" in response.headers["X-Archive-Wayback-Runtime-Error"]
        page = get(srv, "/web/20200101000000id_/http://blocked.example/page")
        assert page.status_code == 200 and "Memento-Datetime" not in page.headers and "<h2>Sorry.</h2>" in page.text


def test_concurrent_clients_are_all_answered(server):
    paths = [f"/web/{SEED_TS}id_/{SEED_URL}", f"/cdx/search/cdx?url={SEED_URL}"] * 40
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda p: requests.get(server.base_url + p, timeout=10), paths))
    assert [a.status_code for a in answers] == [200] * len(paths)
    assert all(a.content == GBK_PAGE for a in answers[::2])


# -- faults -------------------------------------------------------------------------------------


def test_rate_limit_answers_live_429s_per_pool():
    with running_replay(seed_store(), cdx_limit=3, playback_limit=5, window=0.5) as srv:
        statuses = [cdx(srv, url=SEED_URL).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = cdx(srv, url=SEED_URL)
        assert limited.headers["Content-Type"] == "text/html"
        assert "Retry-After" not in limited.headers and "Memento-Datetime" not in limited.headers
        assert "<h1>429 Too Many Requests</h1>" in limited.text
        assert get(srv, f"/web/{SEED_TS}id_/{SEED_URL}").status_code == 200  # playback is another pool
        assert srv.stats["served_429"] == 3 and srv.stats["requests_cdx"] == 6


def _hammer(srv, seconds: float) -> tuple[list[int], bool]:
    statuses, reset = [], False
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            statuses.append(requests.get(f"{srv.base_url}/cdx/search/cdx?url={SEED_URL}", timeout=5).status_code)
        except requests.ConnectionError:
            reset = True
            break
    return statuses, reset


def test_a_client_that_keeps_hammering_is_banned():
    with running_replay(seed_store(), cdx_limit=3, window=0.4, ban_seconds=30) as srv:
        statuses, reset = _hammer(srv, 3.0)
        assert reset and 429 in statuses
        assert srv.stats["bans_started"] == 1
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{srv.base_url}/web/{SEED_TS}id_/{SEED_URL}", timeout=5)
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100) == b""  # a reset raises; an orderly close would return b"" and fail here
        assert srv.stats["connections_refused"] >= 2


def test_a_client_that_backs_off_after_a_429_is_not_banned():
    with running_replay(seed_store(), cdx_limit=3, window=0.4, ban_seconds=30) as srv:
        limited = 0
        end = time.monotonic() + 2.0  # five windows of trying, well past ban_after
        while time.monotonic() < end:
            status = cdx(srv, url=SEED_URL).status_code
            if status == 429:
                limited += 1
                time.sleep(0.45)  # back off for a window
        assert limited >= 2
        assert srv.stats["bans_started"] == 0
        assert cdx(srv, url=SEED_URL).status_code in (200, 429)


def test_error_rate_is_roughly_as_set_and_seeded():
    def statuses(seed):
        with running_replay(seed_store(), error_rate=0.3, seed=seed) as srv:
            session = requests.Session()
            result = [session.get(f"{srv.base_url}/web/{SEED_TS}id_/{SEED_URL}", timeout=10) for _ in range(200)]
            return [r.status_code for r in result], srv.stats["injected_5xx"], result

    first, injected, answers = statuses(7)
    errors = [s for s in first if s != 200]
    assert 40 <= len(errors) <= 80 and injected == len(errors)
    assert set(errors) <= {502, 503, 504} and len(set(errors)) == 3
    assert all("Memento-Datetime" not in a.headers for a in answers if a.status_code != 200)
    assert statuses(7)[0] == first  # same seed, same faults


def test_gzip_bodies_leave_the_memento_compressed_without_content_encoding():
    with running_replay(seed_store(), gzip_bodies=1.0) as srv:
        response = get(srv, f"/web/{SEED_TS}id_/{SEED_URL}")
        assert "Content-Encoding" not in response.headers
        assert response.content[:3] == b"\x1f\x8b\x08" and gzip.decompress(response.content) == GBK_PAGE
        assert srv.stats["gzipped_bodies"] == 1


def test_duplicate_rows():
    with running_replay(seed_store(), duplicate_rows=3) as srv:
        lines = cdx(srv, url=SEED_URL).text.strip().split("\n")
        assert len(lines) == 9 and lines[0] == lines[1] == lines[2] != lines[3]
        assert len(rows(cdx(srv, url=SEED_URL, limit=4))) == 4


def test_latency_is_added():
    with running_replay(seed_store(), latency=0.25) as srv:
        started = time.monotonic()
        assert cdx(srv, url=SEED_URL).status_code == 200
        assert time.monotonic() - started >= 0.25


def test_truncated_bodies_keep_their_content_length():
    with running_replay(seed_store(), truncate_rate=1.0) as srv:
        connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        connection.request("GET", f"/web/{SEED_TS}id_/{SEED_URL}")
        response = connection.getresponse()
        assert int(response.getheader("Content-Length")) == len(GBK_PAGE)
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        assert srv.stats["truncated_bodies"] == 1


def test_server_binds_loopback_only():
    with pytest.raises(ValueError, match="127.0.0.1"):
        ReplayServer(CaptureStore(), host="0.0.0.0")


# -- WARC folders, manifests, and the fixture build ----------------------------------------------


def _other_tool_warc(path: Path, gzipped: bool) -> None:
    """A WARC as an export or a crawler writes it: warcinfo, request, response, metadata, revisit."""
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=gzipped)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "another tool"}))
        request = writer.create_warc_record(
            SEED_URL, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
            warc_headers_dict={"WARC-Date": "2023-12-21T09:19:30Z"},
        )
        writer.write_record(request)
        http = StatusAndHeaders("200 OK", [("Content-Type", GBK_TYPE), ("Transfer-Encoding", "chunked")], protocol="HTTP/1.1")
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(GBK_PAGE), GBK_PAGE)
        response = writer.create_warc_record(
            SEED_URL, "response", payload=io.BytesIO(chunked), http_headers=http,
            warc_headers_dict={"WARC-Date": "2023-12-21T09:19:31.123456Z"},
        )
        writer.write_record(response)
        metadata = writer.create_warc_record(
            SEED_URL, "metadata", payload=io.BytesIO(b'{"title": "x"}'),
            warc_content_type="application/json", warc_headers_dict={"WARC-Date": "2023-12-21T09:19:31Z"},
        )
        writer.write_record(metadata)
        revisit = writer.create_revisit_record(
            SEED_URL, digest="sha1:" + payload_digest(GBK_PAGE), refers_to_uri=SEED_URL,
            refers_to_date="2023-12-21T09:19:31Z",
        )
        revisit.rec_headers.replace_header("WARC-Date", "2024-01-05T00:00:00Z")
        writer.write_record(revisit)


@pytest.mark.parametrize("gzipped", [True, False])
def test_warc_folder_loading_with_revisits(tmp_path, gzipped):
    name = "export.warc.gz" if gzipped else "export.warc"
    _other_tool_warc(tmp_path / name, gzipped)
    store = CaptureStore.from_folder(tmp_path)
    assert len(store) == 2
    with running_replay(tmp_path) as srv:
        found = rows(cdx(srv, url=SEED_URL))
        assert [r[1] for r in found] == [SEED_TS, "20240105000000"]
        assert found[0][3:6] == ["text/html", "200", payload_digest(GBK_PAGE)]
        assert found[1][3:6] == ["warc/revisit", "-", payload_digest(GBK_PAGE)]
        exact = get(srv, f"/web/{SEED_TS}id_/{SEED_URL}")
        assert exact.content == GBK_PAGE and exact.headers["X-Archive-Src"] == f"{tmp_path.name}/{name}"
        assert exact.headers["X-Archive-Orig-Transfer-Encoding"] == "chunked"
        revisit = get(srv, f"/web/20240105000000id_/{SEED_URL}")
        assert revisit.status_code == 200 and revisit.content == GBK_PAGE
        assert revisit.headers["Content-Type"] == GBK_TYPE


def test_manifest_extras_rows_and_staleness(tmp_path):
    _other_tool_warc(tmp_path / "a.warc.gz", True)
    manifest = {
        "captures": [
            {"url": SEED_URL, "timestamp": SEED_TS, "warc": "a.warc.gz", "digest": payload_digest(GBK_PAGE),
             "src": "item-1/a.warc.gz", "location_style": "path"},
            {"url": "http://www.mofcom.gov.cn/gone.shtml", "timestamp": "20200101000000", "status": "200",
             "mimetype": "text/html", "digest": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        ],
        "excluded": ["http://blocked.example/"],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with running_replay(tmp_path) as srv:
        assert get(srv, f"/web/{SEED_TS}id_/{SEED_URL}").headers["X-Archive-Src"] == "item-1/a.warc.gz"
        gone = rows(cdx(srv, url="http://www.mofcom.gov.cn/gone.shtml"))
        assert gone == [["cn,gov,mofcom)/gone.shtml", "20200101000000", "http://www.mofcom.gov.cn/gone.shtml",
                         "text/html", "200", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "-"]]
        assert cdx(srv, url="blocked.example").status_code == 403
    manifest["captures"][0]["digest"] = "B" * 32
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CaptureError, match="rebuild"):
        CaptureStore.from_folder(tmp_path)
    manifest["captures"][0]["timestamp"] = "20010101000000"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CaptureError, match="stale"):
        CaptureStore.from_folder(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"captures": [{"url": SEED_URL, "timestamp": "2023"}]}))
    with pytest.raises(ManifestError, match="14 digits"):
        CaptureStore.from_folder(tmp_path)


def _pages(tmp_path: Path) -> Path:
    pages = tmp_path / "pages"
    (pages / "era-b").mkdir(parents=True)
    (pages / "era-b" / "seed.html").write_bytes(GBK_PAGE)
    (pages / "era-b" / "seed-v2.html").write_bytes(GBK_PAGE + b"<!-- v2 -->")
    manifest = {
        "pages": [
            {
                "id": "era-b-seed", "file": "era-b/seed.html", "url": SEED_URL, "kind": "article",
                "captures": [
                    {"timestamp": SEED_TS},
                    {"timestamp": "20240101000000", "revisit": True},
                    {"timestamp": "20240601000000", "file": "era-b/seed-v2.html", "headers": {"Content-Type": "text/html"}},
                ],
                "status": 200, "headers": {"Content-Type": GBK_TYPE}, "provenance": "rebuilt",
                "expected": "era-b/seed.expected.json",
            },
            {
                "id": "redirect-old-spelling", "url": SEED_URL + "?wscckey=ab12_1703", "kind": "redirect",
                "captures": [{"timestamp": "20231221091900"}], "status": 302, "headers": {"Location": SEED_URL},
            },
        ]
    }
    (pages / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return pages


def test_build_fixtures_is_deterministic_and_idempotent(tmp_path):
    pages = _pages(tmp_path)
    out = tmp_path / "captures"
    first = build_fixtures(pages, out)
    assert first.captures == 4 and len(first.written) == 2
    warc_bytes, manifest_bytes = (out / "pages.warc.gz").read_bytes(), (out / "manifest.json").read_bytes()
    second = build_fixtures(pages, out)
    assert second.written == [] and len(second.unchanged) == 2
    other = tmp_path / "elsewhere"
    build_fixtures(pages, other)
    assert (other / "pages.warc.gz").read_bytes() == warc_bytes
    assert (other / "manifest.json").read_bytes() == manifest_bytes
    entries = json.loads(manifest_bytes)["captures"]
    assert [(e["page"], e["timestamp"], e["status"], e["revisit"]) for e in entries] == [
        ("era-b-seed", SEED_TS, "200", False), ("era-b-seed", "20240101000000", "-", True),
        ("era-b-seed", "20240601000000", "200", False), ("redirect-old-spelling", "20231221091900", "302", False),
    ]
    (pages / "era-b" / "seed-v2.html").write_bytes(b"changed")
    assert build_fixtures(pages, out, check=True).written  # --check notices a stale build

    with running_replay(other) as srv:
        assert get(srv, f"/web/{SEED_TS}id_/{SEED_URL}").content == GBK_PAGE
        assert get(srv, f"/web/20240101000000id_/{SEED_URL}").content == GBK_PAGE
        assert get(srv, f"/web/20240601000000id_/{SEED_URL}").headers["Content-Type"] == "text/html"
        redirect = get(srv, f"/web/20231221091900id_/{SEED_URL}?wscckey=ab12_1703")
        assert redirect.status_code == 302 and redirect.headers["Location"].endswith(f"/web/20231221091900id_/{SEED_URL}")
        nearest = get(srv, f"/web/20231224001357id_/{SEED_URL}")
        assert nearest.headers["Location"] == f"{srv.base_url}/web/{SEED_TS}id_/{SEED_URL}"
        assert nearest.headers["X-Archive-Redirect-Reason"] == f"found capture at {SEED_TS}"
        listed = rows(cdx(srv, url=SEED_URL))
        assert [r[4] for r in listed] == ["200", "-", "200"]


def test_build_fixtures_reports_bad_entries(tmp_path):
    pages = _pages(tmp_path)
    data = json.loads((pages / "manifest.json").read_text(encoding="utf-8"))
    data["pages"][0]["captures"][2]["file"] = "era-b/missing.html"
    (pages / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FixtureError, match="missing.html does not exist"):
        build_fixtures(pages, tmp_path / "out")
    data["pages"][0]["captures"][2] = {"timestamp": "2024"}
    (pages / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FixtureError, match="era-b-seed.*14 digits"):
        build_fixtures(pages, tmp_path / "out")
    data["pages"][0]["captures"] = [{"timestamp": SEED_TS, "revisit": True}]
    (pages / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FixtureError, match="revisit needs an earlier capture"):
        build_fixtures(pages, tmp_path / "out")
    with pytest.raises(FixtureError, match="does not exist"):
        build_fixtures(tmp_path / "nowhere", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_build_fixtures_script(tmp_path):
    pages = _pages(tmp_path)
    script = Path(__file__).parent.parent / "scripts" / "build_fixtures.py"
    args = [sys.executable, str(script), "--pages", str(pages), "--out", str(tmp_path / "out")]
    built = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert built.returncode == 0 and "4 captures" in built.stdout
    checked = subprocess.run([*args, "--check"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "up to date" in checked.stdout
    (pages / "manifest.json").write_text("{", encoding="utf-8")
    broken = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr


def test_command_line_server(tmp_path):
    _other_tool_warc(tmp_path / "a.warc.gz", True)
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.replay", "--captures", str(tmp_path), "--port", "0", "--cdx-limit", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert "2 captures" in line
        base = line.split(" at ")[1].split()[0]
        assert requests.get(f"{base}/web/{SEED_TS}id_/{SEED_URL}", timeout=10).content == GBK_PAGE
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "crawler.replay", "--captures", str(tmp_path / "none")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "does not exist" in bad.stderr


def test_urllib_sees_a_404_as_an_error(server):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{server.base_url}/web/2020id_/http://nope.example/", timeout=10)
    assert raised.value.code == 404


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.skipif(not (FIXTURES / "pages" / "manifest.json").exists(), reason="no page fixtures")
def test_bundled_captures_are_current_and_serve_every_page():
    """tests/fixtures/captures is what scripts/build_fixtures.py makes of the pages, and every capture
    plays back with its page's exact bytes and archived Content-Type."""
    assert build_fixtures(FIXTURES / "pages", FIXTURES / "captures", check=True).written == [], (
        "tests/fixtures/captures is stale: run scripts/build_fixtures.py"
    )
    pages = {p["id"]: p for p in json.loads((FIXTURES / "pages" / "manifest.json").read_text(encoding="utf-8"))["pages"]}
    entries = json.loads((FIXTURES / "captures" / "manifest.json").read_text(encoding="utf-8"))["captures"]
    with running_replay(FIXTURES / "captures") as srv:
        for entry in entries:
            page = pages[entry["page"]]
            position = next(i for i, c in enumerate(page["captures"]) if c["timestamp"] == entry["timestamp"])
            capture = page["captures"][position]
            response = get(srv, f"/web/{entry['timestamp']}id_/{entry['url']}")
            assert response.status_code == int(capture.get("status", page.get("status", 200))), entry["page"]
            headers = capture.get("headers", page.get("headers", {}))
            assert response.headers.get("Content-Type") == headers.get("Content-Type"), entry["page"]
            name = capture.get("file", page.get("file"))
            if name and not capture.get("revisit"):
                assert response.content == (FIXTURES / "pages" / name).read_bytes(), entry["page"]
            if entry["revisit"]:  # the payload of the latest earlier capture that is not a revisit
                original = next(c for c in reversed(page["captures"][:position]) if not c.get("revisit"))
                assert response.content == get(srv, f"/web/{original['timestamp']}id_/{entry['url']}").content
