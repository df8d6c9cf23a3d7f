"""The real archive's recorded answers (tests/fixtures/ia-recordings, EDGI's VCR cassettes) replayed
through the project's CDX parsing, redirect handling and error classification: one test per family
of cassettes, each checking that we read what the archive meant."""

import asyncio
import gzip
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from scrapy import Request, Spider
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.politeness import PolitenessMiddleware
from crawler.middlewares.redirects import WaybackRedirectMiddleware
from crawler.middlewares.retry import BackoffRetryMiddleware
from crawler.wayback.cdx import (
    CdxBlocked,
    CdxQuery,
    check_cdx_answer,
    dedupe_rows,
    is_malformed_original,
    parse_cdx,
)
from crawler.wayback.errors import RedirectLoop
from crawler.wayback.memento import Kind, classify, memento_datetime, original_url, redirect_reason_timestamp
from crawler.wayback.urls import CDX, PLAYBACK, endpoint_of, rebase

RECORDINGS = Path(__file__).parent / "fixtures" / "ia-recordings"
PUBLIC = "https://web.archive.org"
LOCAL = "http://127.0.0.1:9"  # where a crawl would send them: answers must bring it back here


@dataclass
class Exchange:
    uri: str
    status: int
    headers: dict[str, list[str]]
    body: bytes


def cassette(name: str) -> list[Exchange]:
    data = yaml.safe_load((RECORDINGS / "cassettes" / f"{name}.yaml").read_text())
    out = []
    for item in data["interactions"]:
        resp = item["response"]
        body = resp["body"].get("string") or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k: list(v) for k, v in resp["headers"].items()}
        encodings = [v for k, vs in headers.items() if k.lower() == "content-encoding" for v in vs]
        if "gzip" in encodings and body[:2] == b"\x1f\x8b":
            # What Scrapy's HttpCompressionMiddleware hands on: the body decoded, the header gone.
            body = gzip.decompress(body)
            headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
        out.append(Exchange(item["request"]["uri"], resp["status"]["code"], headers, body))
    return out


def as_response(ex: Exchange, url: str, request: Request) -> Response:
    headers = Headers(ex.headers)
    cls = responsetypes.from_args(headers=headers, url=url, body=ex.body)
    return cls(url=url, status=ex.status, headers=headers, body=ex.body, request=request)


class Probe(Spider):
    name = "recordings"


def make_crawler(**overrides):
    base = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(Probe, {**base, "WAYBACK_RETRY_BACKOFF": 0, **overrides})
    crawler.spider = crawler._create_spider()
    return crawler


def play(name: str, start: str):
    """Drive a playback request through WaybackRedirectMiddleware, the cassette answering each hop
    (asked on LOCAL, looked up on the archive's public host). Returns (request, response, served)."""
    exchanges = cassette(name)
    middleware = WaybackRedirectMiddleware(make_crawler())
    request = Request(rebase(start, LOCAL))
    served = []
    for _ in range(20):
        middleware.process_request(request)
        assert request.url.startswith(LOCAL + "/web/"), request.url
        public = rebase(request.url, PUBLIC)
        ex = next(e for e in exchanges if e.uri == public)
        served.append(ex.uri)
        out = middleware.process_response(request, as_response(ex, request.url, request))
        if isinstance(out, Request):
            request = out
            continue
        return request, out, served
    raise AssertionError("no final response")


# -- CDX search ------------------------------------------------------------------------------------

SEARCH_CASSETTES = ["test_search", "test_search_with_filter", "test_search_with_filter_list", "test_search_with_filter_tuple",
                    "test_search_with_timezone", "test_search_with_date", "test_search_does_not_repeat_results",
                    "test_search_multipage", "test_search_rate_limits", "test_memento_rate_limits"]


@pytest.mark.parametrize("name", SEARCH_CASSETTES)
def test_every_recorded_cdx_page_parses_to_its_distinct_lines_and_key(name):
    for ex in cassette(name):
        if endpoint_of(ex.uri) != CDX:
            continue
        text = ex.body.decode()
        lines = [line for line in text.split("\n") if line.strip()]
        has_key = "\n\n" in text
        page = parse_cdx(ex.body, ex.headers.get("Content-Type", [None])[0])
        rows = lines[:-1] if has_key else lines
        assert page.resume_key == (lines[-1] if has_key else None)
        assert len(page.rows) + page.duplicates + page.skipped == len(rows)
        kept = [r.line() for r in page.rows]
        assert len(kept) == len(set(kept))  # nothing twice...
        # ...and nothing lost but junk (an e-mail address indexed as http://name@host/).
        assert all(is_malformed_original(line.split()[2]) for line in set(rows) - set(kept))
        assert set(page.skip_reasons) <= {"malformed original"}


def test_filters_were_applied_server_side_and_survive_parsing():
    for name in ("test_search_with_filter", "test_search_with_filter_list"):
        filtered = [e for e in cassette(name) if "filter=" in e.uri]
        for ex in filtered:
            rows = parse_cdx(ex.body).rows
            assert rows and all(r.status == 404 for r in rows)
            if "feature" in ex.uri:
                assert all("feature" in r.urlkey for r in rows)


def test_revisits_and_repeats_of_a_day_of_energystar():
    (ex,) = cassette("test_search_does_not_repeat_results")
    page = parse_cdx(ex.body)
    revisits = [r for r in page.rows if r.is_revisit]
    assert revisits and all(r.statuscode == "-" and r.status is None for r in revisits)
    # A revisit carries the digest of the payload it repeats: the ledger's duplicate signal.
    digests = {r.digest for r in page.rows if not r.is_revisit}
    assert any(r.digest in digests for r in revisits)


def test_walking_resume_keys_reproduces_the_archives_own_request_sequence():
    exchanges = cassette("test_search_multipage")
    query = CdxQuery("cnn.com", match_type=None, from_ts="20010410000000", to_ts="20010510000000", limit=25, output="text")
    seen: set = set()
    total = 0
    for i, ex in enumerate(exchanges):
        ours = parse_qs(urlsplit(query.url_for(PUBLIC)).query)
        recorded = parse_qs(urlsplit(ex.uri).query)
        recorded.pop("resolveRevisits")
        assert ours == recorded, f"page {i}"
        page = parse_cdx(ex.body, "text/plain")
        total += len(dedupe_rows(page.rows, seen))
        if page.is_last:
            break
        query = query.next_page(page.resume_key)
    assert i == len(exchanges) - 1  # 15 requests, the last one answered with an empty body
    assert exchanges[-1].body == b""
    # 350 lines, most of them repeated (one capture indexed in several shards): each row once.
    distinct = {line for ex in exchanges for line in ex.body.decode().split("\n") if line.count(" ") == 6}
    assert total == len(seen) == len(distinct) == 96


def test_blocked_site_search():
    (ex,) = cassette("test_search_raises_for_blocked_urls")
    assert ex.status == 403
    with pytest.raises(CdxBlocked):
        check_cdx_answer(ex.status, ex.body)


@pytest.mark.parametrize("name", [p.stem for p in (RECORDINGS / "cassettes").glob("*.yaml")])
def test_each_recorded_request_draws_on_the_right_rate_pool(name):
    for ex in cassette(name):
        expected = CDX if "/cdx/search/cdx" in ex.uri else PLAYBACK
        assert endpoint_of(ex.uri) == expected
        assert endpoint_of(rebase(ex.uri, LOCAL) or ex.uri.replace(PUBLIC, LOCAL)) == expected


# -- playback: exact mementos ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["test_get_memento", "test_get_memento_with_archive_url", "test_get_memento_with_cdx_record",
                                  "test_get_memento_with_mode_string", "test_get_memento_with_string_datetime",
                                  "test_get_memento_handles_non_utc_datetime"])
def test_exact_memento(name):
    request, response, served = play(name, f"{PUBLIC}/web/20171124151315id_/https://www.fws.gov/birds/")
    info = request.meta["wayback"]
    assert len(served) == 1 and info["hops"] == []
    assert info["kind"] == "memento" and info["timestamp"] == info["requested_timestamp"] == "20171124151315"
    assert info["returned_url"] == "https://web.archive.org/web/20171124151315/https://www.fws.gov/birds/"
    assert response.body == (RECORDINGS / "cdx" / "fws-gov-birds.txt").read_bytes()  # id_: the archived bytes


def test_memento_of_another_spelling_reports_the_url_really_captured():
    request, _, _ = play("test_get_memento_returns_memento_with_accurate_url", f"{PUBLIC}/web/20171124143728id_/http://fws.gov/")
    info = request.meta["wayback"]
    assert info["original"] == "https://www.fws.gov/"
    assert info["input_url"] == "20171124143728/http://fws.gov/"
    assert info["returned_url"] == "https://web.archive.org/web/20171124143728/https://www.fws.gov/"


# -- playback: the archive's hop to the nearest capture ------------------------------------------------

@pytest.mark.parametrize("name, requested", [("test_get_memento_with_inexact_string_datetime", "20171124151310"),
                                             ("test_get_memento_with_date_datetime", "20171124000000"),
                                             ("test_get_memento_target_window", "20171101000000")])
def test_nearest_capture_redirect_is_followed_and_both_timestamps_kept(name, requested):
    request, response, served = play(name, f"{PUBLIC}/web/{requested}id_/https://www.fws.gov/birds/")
    info = request.meta["wayback"]
    assert response.status == 200 and len(served) == 2
    assert info["input_url"] == f"{requested}/https://www.fws.gov/birds/"
    assert info["timestamp"] == "20171124151315"
    assert info["returned_url"] == "https://web.archive.org/web/20171124151315/https://www.fws.gov/birds/"
    (hop,) = info["hops"]
    assert hop["kind"] == "wayback_redirect" and hop["reason_timestamp"] == "20171124151315"
    assert request.url == f"{LOCAL}/web/20171124151315id_/https://www.fws.gov/birds/"


@pytest.mark.parametrize("name, target", [
    ("test_get_memento_raises_when_memento_is_outside_target_window", "20171124151315"),  # 23 days later
    ("test_get_memento_should_fail_for_non_playbackable_mementos", "20150503090125"),  # 6 days earlier
])
def test_lone_nearest_capture_hops(name, target):
    (ex,) = cassette(name)
    assert classify(ex.status, ex.headers, ex.body) is Kind.WAYBACK_REDIRECT
    assert memento_datetime(ex.headers) is None
    assert redirect_reason_timestamp(ex.headers) == target


# -- playback: archived redirects ---------------------------------------------------------------------

def test_archived_redirect_then_nearest_capture():
    start = f"{PUBLIC}/web/20180808094144id_/https://www.epa.gov/ghgreporting/san5779-factsheet"
    request, response, served = play("test_get_memento_with_redirects", start)
    info = request.meta["wayback"]
    target = "https://www.epa.gov/ghgreporting/proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-warming"
    assert response.status == 200 and info["kind"] == "memento"
    assert [h["kind"] for h in info["hops"]] == ["archived_redirect", "wayback_redirect"]
    (archived,) = info["archived_redirects"]
    assert archived["status"] == 301 and archived["timestamp"] == "20180808094144" and archived["target"] == target
    assert info["original"] == target and info["timestamp"] == "20180808104500"
    assert info["input_url"] == "20180808094144/https://www.epa.gov/ghgreporting/san5779-factsheet"


@pytest.mark.parametrize("name, start, final_ts, final_url", [
    ("test_get_memento_with_path_based_redirects",
     "/web/20201027215555id_/https://www.whitehouse.gov/administration/eop/ostp/about/student/faqs",
     "20201027220743", "https://www.whitehouse.gov/ostp/about/student/faqs"),
    ("test_get_memento_with_schemeless_redirects",
     "/web/20201102232816id_/https://www.census.gov/geography/gss-initiative.html",
     "20201102233026", "https://www.census.gov/geo/gssi/"),
])
def test_relative_and_schemeless_locations_stay_on_our_base_and_end_in_archived_404s(name, start, final_ts, final_url):
    request, response, served = play(name, PUBLIC + start)
    info = request.meta["wayback"]
    assert len(served) == 3
    assert response.status == 404 and info["kind"] == "archived_error"  # the site's own 404: content
    assert info["timestamp"] == final_ts and info["original"] == final_url
    assert len(info["archived_redirects"]) == 1


def test_historical_redirect_chain_of_four():
    start = f"{PUBLIC}/web/20200201020357id_/http://epa.gov/climatechange"
    request, response, served = play("test_get_memento_follows_historical_redirects", start)
    info = request.meta["wayback"]
    assert [h["kind"] for h in info["hops"]] == ["wayback_redirect", "archived_redirect", "wayback_redirect"]
    assert info["original"] == "https://www.epa.gov/sites/production/files/signpost/cc.html"
    assert info["timestamp"] == "20200201024405" and info["requested_timestamp"] == "20200201020357"


def test_the_two_redirect_kinds_are_told_apart():
    nearest, archived = cassette("test_get_memento_follow_redirects_does_not_follow_historical_redirects")
    assert classify(nearest.status, nearest.headers) is Kind.WAYBACK_REDIRECT
    assert classify(archived.status, archived.headers) is Kind.ARCHIVED_REDIRECT
    assert memento_datetime(archived.headers) == "20200201023757"
    assert original_url(archived.headers) == "https://www.epa.gov/climatechange"


def test_redirect_loop_is_detected_not_followed_forever():
    start = f"{PUBLIC}/web/20200925075402id_/https://link.springer.com/article/10.1007/s00382-012-1331-2"
    with pytest.raises(RedirectLoop) as caught:
        play("test_get_memento_raises_for_mementos_that_redirect_in_a_loop", start)
    info = caught.value.wayback
    assert len(info["hops"]) == 4 and len(info["archived_redirects"]) == 2
    assert caught.value.final


def test_springer_link_header_is_unescaped():
    exchanges = cassette("test_get_memento_raises_for_mementos_that_redirect_in_a_loop")
    assert original_url(exchanges[2].headers) == (
        "https://idp.springer.com/authorize?response_type=cookie&client_id=springerlink"
        "&redirect_uri=https://link.springer.com/article/10.1007/s00382-012-1331-2")


# -- playback: errors, archived and live ----------------------------------------------------------------

def test_archived_rate_limit_page_is_content_never_retried_never_a_pause():
    (ex,) = cassette("test_get_memento_works_on_archived_rate_limit_responses")
    url = f"{LOCAL}/web/20150129034904id_/http://www.reddit.com/r/PokemonGiveaway"
    request = Request(url)
    response = as_response(ex, url, request)
    assert classify(ex.status, ex.headers) is Kind.ARCHIVED_ERROR and ex.status == 429
    crawler = make_crawler()
    retry = BackoffRetryMiddleware(crawler)
    politeness = PolitenessMiddleware(crawler)
    assert asyncio.run(retry.process_response(request, response)) is response
    assert politeness.process_response(request, response) is response
    assert politeness.limiter.paused_until == 0 and crawler.stats.get_value("wayback/live_429") is None


@pytest.mark.parametrize("name, kind", [
    ("test_get_memento_raises_no_memento_error", Kind.NOT_ARCHIVED),
    ("test_get_memento_raises_blocked_error", Kind.BLOCKED),  # a 200 without Memento-Datetime
    ("test_get_memento_with_redirect_in_view_mode", Kind.UNEXPECTED),  # view mode's "Redirecting to..." page
])
def test_archive_generated_pages_are_not_mementos(name, kind):
    ex = cassette(name)[0]
    assert classify(ex.status, ex.headers, ex.body) is kind
    assert not kind.is_archived


def test_view_mode_and_id_mode_of_one_capture():
    view, raw = cassette("test_get_memento_with_mode")
    assert classify(view.status, view.headers) is classify(raw.status, raw.headers) is Kind.MEMENTO
    assert raw.body == (RECORDINGS / "cdx" / "fws-gov-birds.txt").read_bytes()
    assert len(view.body) > len(raw.body)  # banner and rewriting: why the crawl asks for id_
