"""The replay server answers the recorded Wayback Machine requests the way the recordings do.

For each cassette in tests/fixtures/ia-recordings/cassettes, the captures the recording reveals are
loaded into a store (CDX rows give index rows; memento answers give bodies, archived headers and the
neighbouring captures named in their Link headers); then every recorded request is sent to a replay
server and its status, reason, key headers and body (or CDX lines) are compared with the recording.
"""

from __future__ import annotations

import gzip
import html
import http.client
import re
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.replay import CaptureStore, running_replay, urlkey
from crawler.replay.cassettes import Interaction, load_cassette
from crawler.replay.warcs import payload_digest

CASSETTES = Path(__file__).parent / "fixtures" / "ia-recordings" / "cassettes"
IA = "https://web.archive.org"
_WAYBACK = re.compile(r"^(?:https?:)?(?://web\.archive\.org)?/web/(\d{14})([a-z]{2}_)?/(.+)$")
_LINK = re.compile(r'<([^>]+)>; rel="([^"]+)"(?:; datetime="([^"]+)")?')

# Revisit rows the CDX server *resolved* in these recordings (resolveRevisits=true fills a revisit that
# follows its original, same digest, with the original's mimetype and status): their record lengths
# (605-607 bytes, like the unresolved revisit rows of the same answer) show they are revisit records.
RESOLVED_REVISITS = {
    "test_search_does_not_repeat_results": {"20200612125814", "20200612154733", "20200612232310"},
}
# Captures the Wayback skipped as redirects to themselves: the Link header lists
# https://epa.gov/climatechange at 20200201020358, one second from the request 20200201020357, yet the
# answer is "found capture at 20200201023757": epa.gov redirected to www.epa.gov (the same SURT key).
SELF_REDIRECTS = {
    "test_get_memento_follows_historical_redirects": {"20200201020358": "https://www.epa.gov/climatechange"},
    "test_get_memento_follow_redirects_does_not_follow_historical_redirects": {
        "20200201020358": "https://www.epa.gov/climatechange"
    },
}
EXCLUDED = {
    "test_search_raises_for_blocked_urls": ["https://nationalpost.com/"],
    "test_get_memento_raises_blocked_error": ["https://nationalpost.com/"],
}

CDX_CASSETTES = sorted(p.stem for p in CASSETTES.glob("test_search*.yaml"))
PLAYBACK_CASSETTES = sorted(p.stem for p in CASSETTES.glob("test_get_memento*.yaml")) + ["test_memento_rate_limits"]


def ts_of(http_date: str) -> str:
    return parsedate_to_datetime(http_date).strftime("%Y%m%d%H%M%S")


def is_cdx(interaction: Interaction) -> bool:
    return "/cdx/search/cdx" in interaction.request_uri


def modifier_of(uri: str) -> str | None:
    match = _WAYBACK.match(uri)
    return match.group(2) or "" if match else None


def cdx_lines(body: bytes) -> list[str]:
    lines = body.decode("utf-8").split("\n")
    return lines[: lines.index("")] if "" in lines else lines


def archived_target(location: str) -> tuple[str, str]:
    """The archived redirect target inside a rewritten Location, and the form the Wayback wrote it in."""
    match = _WAYBACK.match(location)
    assert match, f"not a Wayback Location: {location}"
    style = "schemeless" if location.startswith("//") else "path" if location.startswith("/") else "absolute"
    return match.group(3), style


def derive_store(name: str, interactions: list[Interaction]) -> CaptureStore:
    store = CaptureStore()
    resolved = RESOLVED_REVISITS.get(name, set())

    rows: Counter[str] = Counter()
    for interaction in interactions:
        if is_cdx(interaction) and interaction.status == 200:
            for line, count in Counter(cdx_lines(interaction.body)).items():
                rows[line] = max(rows[line], count)
    row_fields = {line: line.split(" ") for line in rows}
    for fields in row_fields.values():
        assert urlkey(fields[2]) == fields[0], f"our SURT key differs from IA's for {fields[2]}"

    known: set[tuple[str, str]] = set()
    mementos = [i for i in interactions if not is_cdx(i) and i.header("Memento-Datetime")]
    # id_ answers first: they hold the archived bytes; a view-mode answer (rewritten body) only
    # stands in for a capture the recording shows in no other way.
    mementos.sort(key=lambda i: modifier_of(i.request_uri) == "")
    for interaction in mementos:
        links = _LINK.findall(interaction.header("Link"))
        original = html.unescape(next(url for url, rel, _ in links if rel == "original"))
        timestamp = ts_of(interaction.header("Memento-Datetime"))
        key = urlkey(original)
        if (key, timestamp) in known:
            continue
        known.add((key, timestamp))
        headers = [("Content-Type", v) for v in interaction.header_all("Content-Type")]
        headers += [(k[len("X-Archive-Orig-") :], v) for k, v in interaction.headers if k.lower().startswith("x-archive-orig-")]
        style = "absolute"
        if interaction.header("Location"):
            target, style = archived_target(interaction.header("Location"))
            headers.append(("Location", target))
        digest = payload_digest(interaction.body)
        length = None
        for line, fields in row_fields.items():
            if fields[0] == key and fields[1] == timestamp and fields[5] == digest and rows[line] > 0:
                rows[line] -= 1
                length = fields[6]
                break
        store.add(
            original, timestamp, body=interaction.body, status=interaction.status, headers=headers,
            reason=interaction.reason, src=interaction.header("X-Archive-Src"), location_style=style, length=length,
        )

    for interaction in interactions:
        page = interaction.body.decode("utf-8", "replace")
        if interaction.header("X-Archive-Src") and "response at crawl time" in page:
            # The view-mode page of an archived redirect names the capture, its status and its Location.
            original, when = re.search(r'class="code shift target">([^ ]+) \|\s*([^<]+)</p>', page).groups()
            status = int(re.search(r"Got an HTTP (\d{3}) response", page).group(1))
            location = re.findall(r'class="code shift target">([^<]+)</p>', page)[1]
            timestamp = modifier_ts = re.match(r".*/web/(\d{14})/", interaction.request_uri).group(1)
            assert when.strip() and modifier_ts
            if (urlkey(original), timestamp) not in known:
                known.add((urlkey(original), timestamp))
                store.add_redirect(original, timestamp, location, status=status, src=interaction.header("X-Archive-Src"))

    for line, count in rows.items():
        fields = row_fields[line]
        key, timestamp, original, mimetype, status, digest, length = fields
        for _ in range(count):
            if mimetype == "warc/revisit" or timestamp in resolved:
                store.add_revisit(original, timestamp, digest=digest, length=length)
            else:
                store.add(original, timestamp, body=None, status=int(status), mimetype=mimetype, digest=digest, length=length)
        known.add((key, timestamp))

    # Captures named but not shown: Link neighbours of a memento, and the target of a 302 to the nearest.
    named: list[str] = []
    for interaction in interactions:
        if interaction.header("Memento-Datetime"):
            named += [html.unescape(url) for url, rel, _ in _LINK.findall(interaction.header("Link")) if "memento" in rel]
        elif interaction.header("X-Archive-Redirect-Reason"):
            named.append(interaction.header("Location"))
    self_redirects = SELF_REDIRECTS.get(name, {})
    for url in named:
        timestamp, _, original = _WAYBACK.match(url).groups()
        if (urlkey(original), timestamp) in known:
            continue
        known.add((urlkey(original), timestamp))
        if timestamp in self_redirects:
            store.add_redirect(original, timestamp, self_redirects[timestamp], status=301)
        else:
            store.add(original, timestamp, body=None, status=200, mimetype="unk", digest="-")
    for url in EXCLUDED.get(name, []):
        store.exclude(url)
    return store


def fetch(base: str, interaction: Interaction, accept_encoding: str | None = None):
    """Send the recorded request as recorded (same path, same Accept-Encoding); raw headers kept."""
    path = interaction.request_uri[len(IA) :]
    encoding = accept_encoding or (interaction.request_headers.get("Accept-Encoding") or ["identity"])[0]
    host, port = urlsplit(base).hostname, urlsplit(base).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": encoding})
        response = connection.getresponse()
        body = response.read()
        headers = response.getheaders()
    finally:
        connection.close()
    if any(k.lower() == "content-encoding" and v == "gzip" for k, v in headers):
        body = gzip.decompress(body)
    return response.status, response.reason, headers, body


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def orig_headers(headers: list[tuple[str, str]]) -> Counter:
    return Counter((k.lower(), v) for k, v in headers if k.lower().startswith("x-archive-orig-"))


def check(recorded: Interaction, base: str, got) -> None:
    status, reason, headers, body = got
    where = recorded.request_uri
    netloc = urlsplit(base).netloc

    def local(value: str | None) -> str | None:
        return value.replace(IA, base).replace("//web.archive.org", "//" + netloc) if value else None

    assert status == recorded.status, where
    assert header(headers, "Content-Encoding") == (
        "gzip" if recorded.header("Content-Encoding") == "gzip" else None
    ), where
    if is_cdx(recorded):
        assert reason == recorded.reason, where
        assert header(headers, "Content-Type") == recorded.header("Content-Type"), where
        assert header(headers, "X-Archive-Wayback-Runtime-Error") == recorded.header("X-Archive-Wayback-Runtime-Error")
        assert body == recorded.body, where
        return
    assert reason.upper() == recorded.reason.upper(), where
    view_mode_memento = modifier_of(recorded.request_uri) == "" and recorded.header("Memento-Datetime")
    for name in ("Memento-Datetime", "Link", "Location", "X-Archive-Redirect-Reason", "X-Archive-Src"):
        assert header(headers, name) == local(recorded.header(name)), f"{where}: {name}"
    assert header(headers, "Retry-After") is None
    if view_mode_memento:
        return  # the real view mode rewrites the page and its charset; the stand-in serves the bytes
    assert header(headers, "Content-Type") == recorded.header("Content-Type"), where
    assert orig_headers(headers) == orig_headers(recorded.headers), where
    text = recorded.body.decode("utf-8", "replace")
    if recorded.header("Memento-Datetime") or recorded.status == 302:
        assert body == recorded.body, where
    elif "Hrm." in text:
        for phrase in ("<h2>Hrm.</h2>", "The Wayback Machine has not archived that URL."):
            assert phrase in body.decode(), where
    elif "excluded from the Wayback Machine" in text:
        for phrase in ("<h2>Sorry.</h2>", "This URL has been excluded from the Wayback Machine."):
            assert phrase in body.decode(), where
    elif "response at crawl time" in text:
        mine = body.decode()
        for pattern in (r"Got an HTTP \d{3} response at crawl time", r'<a href="([^"]+)">Impatient\?</a>'):
            assert re.search(pattern, mine).group(0) == re.search(pattern, text).group(0), where
    else:
        pytest.fail(f"{where}: unexpected recorded answer {recorded.status}")


@pytest.mark.parametrize("name", CDX_CASSETTES + PLAYBACK_CASSETTES)
def test_recorded_requests_answered_as_recorded(name):
    interactions = load_cassette(CASSETTES / f"{name}.yaml")
    store = derive_store(name, interactions)
    with running_replay(store) as server:
        for interaction in interactions:
            check(interaction, server.base_url, fetch(server.base_url, interaction))


def test_every_cassette_is_replayed():
    assert set(CDX_CASSETTES + PLAYBACK_CASSETTES) == {p.stem for p in CASSETTES.glob("*.yaml")}


def test_revisits_stay_unresolved_without_resolve_revisits():
    name = "test_search_does_not_repeat_results"
    interactions = load_cassette(CASSETTES / f"{name}.yaml")
    with running_replay(derive_store(name, interactions)) as server:
        path = interactions[0].request_uri[len(IA) :].replace("&resolveRevisits=true", "")
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", path)
        lines = cdx_lines(connection.getresponse().read())
    recorded = cdx_lines(interactions[0].body)
    assert len(lines) == len(recorded) == 15
    for mine, theirs in zip(lines, recorded, strict=True):
        fields = theirs.split(" ")
        if fields[1] in RESOLVED_REVISITS[name]:
            assert mine.split(" ")[3:5] == ["warc/revisit", "-"]
            assert theirs.split(" ")[3:5] == ["text/html", "200"]
        else:
            assert mine == theirs


def test_live_429_differs_from_an_archived_429():
    """An archived 429 is a memento (Memento-Datetime); the live one has none and no Retry-After."""
    name = "test_get_memento_works_on_archived_rate_limit_responses"
    [archived] = load_cassette(CASSETTES / f"{name}.yaml")
    with running_replay(derive_store(name, [archived]), playback_limit=1, window=60) as server:
        first = fetch(server.base_url, archived)
        check(archived, server.base_url, first)
        status, reason, headers, body = fetch(server.base_url, archived)
    assert (status, reason) == (429, "Too Many Requests")
    assert header(headers, "Memento-Datetime") is None and header(headers, "Retry-After") is None
    assert header(headers, "Content-Type") == "text/html"
    assert b"<h1>429 Too Many Requests</h1>" in body
    assert b"You have sent too many requests in a given amount of time." in body
    assert header(first[2], "Memento-Datetime") == "Thu, 29 Jan 2015 03:49:04 GMT"
    assert header(first[2], "X-Archive-Orig-Retry-After") == "6"


def test_recorded_cdx_burst_meets_the_limit():
    """The nine identical CDX requests of the rate-limit recording: five answered as recorded, then 429."""
    name = "test_search_rate_limits"
    interactions = load_cassette(CASSETTES / f"{name}.yaml")
    with running_replay(derive_store(name, interactions), cdx_limit=5, window=60) as server:
        answers = [fetch(server.base_url, interaction) for interaction in interactions]
        for interaction, answer in zip(interactions[:5], answers[:5], strict=True):
            check(interaction, server.base_url, answer)
        assert [a[0] for a in answers[5:]] == [429] * 4
        assert server.stats["served_429"] == 4
