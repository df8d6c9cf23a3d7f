"""Read VCR cassettes (the recorded Wayback Machine exchanges in ``tests/fixtures/ia-recordings``)."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Interaction:
    """One recorded exchange. ``headers`` keep the recorded names and repeats; ``body`` is decoded
    from the transfer ``Content-Encoding`` (gzip/deflate) when the recording says so."""

    request_uri: str
    request_headers: dict[str, list[str]]
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


def _decode(body: bytes, encodings: list[str]) -> bytes:
    for encoding in reversed([e.strip().lower() for e in encodings if e.strip()]):
        if encoding == "gzip" and body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def load_cassette(path: str | Path) -> list[Interaction]:
    """The interactions of one cassette, in recorded order."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ten times faster
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    interactions = []
    for item in data.get("interactions", []):
        request, response = item["request"], item["response"]
        raw = response.get("body", {}).get("string", b"")
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
        headers = [(str(k), str(v)) for k, values in (response.get("headers") or {}).items() for v in values]
        encodings = [v for k, v in headers if k.lower() == "content-encoding"]
        interactions.append(
            Interaction(
                request_uri=request["uri"],
                request_headers={str(k): [str(v) for v in vs] for k, vs in (request.get("headers") or {}).items()},
                status=int(response["status"]["code"]),
                reason=str(response["status"].get("message", "")),
                headers=headers,
                body=_decode(body, encodings),
                method=request.get("method", "GET"),
            )
        )
    return interactions
