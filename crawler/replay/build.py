"""Build the bundled captures: the page-fixture manifest -> a deterministic WARC + ``manifest.json``.

Input: ``tests/fixtures/pages/manifest.json`` (format: /work/briefs/manifest-format.md, shared with the
extraction fixtures). Output, in the captures folder: ``pages.warc.gz`` (a ``warcinfo`` record, then one
``response`` or ``revisit`` record per capture, in manifest order) and ``manifest.json`` (one entry per
capture: page id, URL, timestamp, urlkey, status, mimetype, digest, record length and offset).
Record IDs and dates derive from the content, so the same input gives the same bytes; files that would
not change are not rewritten.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from warcio.warcwriter import WARCWriter

from crawler.replay import manifest as capture_manifest
from crawler.replay.captures import urlkey
from crawler.replay.warcs import (
    Headers,
    mimetype_of,
    payload_digest,
    write_response,
    write_revisit,
    write_warcinfo,
)

WARC_NAME = "pages.warc.gz"
GENERATED_BY = "scripts/build_fixtures.py"
KINDS = ("article", "listing", "reject", "redirect")


class FixtureError(ValueError):
    """A page manifest entry that cannot be built."""


@dataclass(frozen=True)
class PlannedCapture:
    page: str
    kind: str
    url: str
    timestamp: str
    status: int
    headers: Headers
    body: bytes
    revisit_of: PlannedCapture | None = None


@dataclass(frozen=True)
class BuildResult:
    captures: int
    written: list[Path]
    unchanged: list[Path]


def _headers(where: str, value: object) -> Headers:
    if value is None:
        return []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
        pairs = [tuple(p) for p in value]
    else:
        raise FixtureError(f"{where}: 'headers' must be an object or a list of [name, value] pairs")
    for name, header in pairs:
        if not isinstance(name, str) or not isinstance(header, str):
            raise FixtureError(f"{where}: header names and values must be strings")
    return [(str(k), str(v)) for k, v in pairs]


def _status(where: str, value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise FixtureError(f"{where}: 'status' must be an HTTP status code, got {value!r}")
    status = int(value)
    if not 100 <= status <= 599:
        raise FixtureError(f"{where}: 'status' {status} is not an HTTP status")
    return status


def plan(pages_dir: Path) -> list[PlannedCapture]:
    """Read and check the page manifest; every problem is a ``FixtureError`` naming the entry."""
    manifest_path = pages_dir / "manifest.json"
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{manifest_path} does not exist") from None
    except json.JSONDecodeError as error:
        raise FixtureError(f"{manifest_path}: not valid JSON ({error})") from error
    pages = data.get("pages") if isinstance(data, dict) else None
    if not isinstance(pages, list):
        raise FixtureError(f"{manifest_path}: expected an object with a 'pages' list")
    planned: list[PlannedCapture] = []
    seen_ids: set[str] = set()
    seen_captures: set[tuple[str, str]] = set()
    for i, page in enumerate(pages):
        where = f"{manifest_path}: pages[{i}]"
        if not isinstance(page, dict):
            raise FixtureError(f"{where}: expected an object")
        page_id = page.get("id")
        if not isinstance(page_id, str) or not page_id:
            raise FixtureError(f"{where}: 'id' is required")
        where = f"{manifest_path}: page {page_id!r}"
        if page_id in seen_ids:
            raise FixtureError(f"{where}: duplicate id")
        seen_ids.add(page_id)
        url = page.get("url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise FixtureError(f"{where}: 'url' must be an http(s) URL, got {url!r}")
        kind = page.get("kind", "article")
        if kind not in KINDS:
            raise FixtureError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
        captures = page.get("captures")
        if not isinstance(captures, list) or not captures:
            raise FixtureError(f"{where}: 'captures' must be a non-empty list")
        page_status = _status(where, page.get("status"), 200)
        page_headers = _headers(where, page.get("headers"))
        previous: PlannedCapture | None = None
        for j, capture in enumerate(captures):
            cwhere = f"{where} captures[{j}]"
            if not isinstance(capture, dict):
                raise FixtureError(f"{cwhere}: expected an object")
            timestamp = str(capture.get("timestamp", ""))
            if not (len(timestamp) == 14 and timestamp.isdigit()):
                raise FixtureError(f"{cwhere}: 'timestamp' must be 14 digits, got {timestamp!r}")
            if (url, timestamp) in seen_captures:
                raise FixtureError(f"{cwhere}: {url} at {timestamp} is listed twice")
            seen_captures.add((url, timestamp))
            status = _status(cwhere, capture.get("status"), page_status)
            headers = _headers(cwhere, capture["headers"]) if "headers" in capture else page_headers
            if capture.get("revisit"):
                original = previous.revisit_of if previous and previous.revisit_of else previous
                if original is None:
                    raise FixtureError(f"{cwhere}: a revisit needs an earlier capture of the same URL before it")
                if timestamp <= original.timestamp:
                    raise FixtureError(f"{cwhere}: revisit at {timestamp} is not after {original.timestamp}")
                current = PlannedCapture(page_id, kind, url, timestamp, status, headers, original.body, original)
            else:
                file_name = capture.get("file", page.get("file"))
                body = b""
                if file_name is not None:
                    if not isinstance(file_name, str):
                        raise FixtureError(f"{cwhere}: 'file' must be a path")
                    path = pages_dir / file_name
                    if not path.is_file():
                        raise FixtureError(f"{cwhere}: file {path} does not exist")
                    body = path.read_bytes()
                elif kind != "redirect" and status < 300:
                    raise FixtureError(f"{cwhere}: a {kind} page with status {status} needs a 'file'")
                current = PlannedCapture(page_id, kind, url, timestamp, status, headers, body)
            planned.append(current)
            previous = current
    return planned


def render(planned: list[PlannedCapture]) -> tuple[bytes, str]:
    """The WARC bytes and the capture-manifest text for a plan (pure: same plan, same bytes)."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    latest = max((c.timestamp for c in planned), default="19700101000000")
    write_warcinfo(
        writer,
        WARC_NAME,
        latest,
        {
            "software": f"mofcom-corpus {GENERATED_BY}",
            "format": "WARC File Format 1.0",
            "description": "Test fixtures: MOFCOM pages as archived captures, built from tests/fixtures/pages",
        },
    )
    entries = []
    for capture in planned:
        offset = buffer.tell()
        digest = payload_digest(capture.body)
        if capture.revisit_of is not None:
            original = capture.revisit_of
            write_revisit(
                writer, capture.url, capture.timestamp, digest, original.url, original.timestamp,
                capture.status, capture.headers,
            )
        else:
            write_response(writer, capture.url, capture.timestamp, capture.body, capture.status, capture.headers)
        revisit = capture.revisit_of is not None
        entries.append(
            {
                "page": capture.page,
                "kind": capture.kind,
                "url": capture.url,
                "timestamp": capture.timestamp,
                "warc": WARC_NAME,
                "urlkey": urlkey(capture.url),
                "status": "-" if revisit else str(capture.status),
                "mimetype": "warc/revisit" if revisit else mimetype_of(capture.headers),
                "digest": digest,
                "length": str(buffer.tell() - offset),
                "offset": offset,
                "revisit": revisit,
            }
        )
    return buffer.getvalue(), capture_manifest.dumps(entries, generated_by=GENERATED_BY)


def build_fixtures(pages_dir: str | Path, out_dir: str | Path, check: bool = False) -> BuildResult:
    """Build (or with ``check``, only compare) the captures folder from the page manifest."""
    pages_dir, out_dir = Path(pages_dir), Path(out_dir)
    planned = plan(pages_dir)
    warc_bytes, manifest_text = render(planned)
    outputs = {out_dir / WARC_NAME: warc_bytes, out_dir / "manifest.json": manifest_text.encode("utf-8")}
    written, unchanged = [], []
    for path, content in outputs.items():
        if path.exists() and path.read_bytes() == content:
            unchanged.append(path)
            continue
        written.append(path)
        if not check:
            out_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(content)
            partial.replace(path)
    return BuildResult(len(planned), written, unchanged)
