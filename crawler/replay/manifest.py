"""``manifest.json`` beside the WARCs in a captures folder: what a WARC cannot say.

```json
{
  "format": "mofcom-corpus captures v1",
  "generated_by": "scripts/build_fixtures.py",
  "captures": [
    {"page": "era-b-seed", "url": "http://www.mofcom.gov.cn/...", "timestamp": "20231221091931",
     "warc": "pages.warc.gz", "urlkey": "cn,gov,mofcom)/...", "status": "200", "mimetype": "text/html",
     "digest": "...", "length": "4711", "revisit": false},
    {"url": "http://www.mofcom.gov.cn/gone.shtml", "timestamp": "20200101000000",
     "status": "200", "mimetype": "text/html", "digest": "...", "length": "-"}
  ],
  "excluded": ["http://blocked.example/"]
}
```

- An entry with ``warc`` names a capture in that file (path relative to the folder); loading checks it is
  there with that digest (a stale manifest is an error) and applies its extras: ``src`` (the
  ``X-Archive-Src`` to send) and ``location_style`` (``absolute`` | ``path`` | ``schemeless``: how
  playback writes a rewritten ``Location``, as the Wayback Machine has done at different times).
- An entry without ``warc`` is an index-only CDX row (the archive lists it but holds no record):
  ``status``, ``mimetype`` and ``digest`` are required; ``revisit: true`` makes it a ``warc/revisit`` row.
- ``excluded`` URLs (and everything under them) answer CDX 403 and the playback "Sorry." page.
- ``page``, ``urlkey``, ``length``, ``revisit`` on ``warc`` entries are informational (the build writes them
  so that people and tests can find captures by page id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "mofcom-corpus captures v1"


class ManifestError(ValueError):
    """A capture manifest that cannot be used."""


@dataclass(frozen=True)
class CaptureEntry:
    url: str
    timestamp: str
    warc: str | None = None
    page: str | None = None
    status: str | None = None
    mimetype: str | None = None
    digest: str | None = None
    length: str | None = None
    revisit: bool = False
    src: str | None = None
    location_style: str | None = None


@dataclass(frozen=True)
class CaptureManifest:
    captures: list[CaptureEntry] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


def read(path: Path) -> CaptureManifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: not readable JSON ({error})") from error
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a JSON object with a 'captures' list")
    raw = data.get("captures", [])
    if not isinstance(raw, list):
        raise ManifestError(f"{path}: 'captures' must be a list")
    entries = [_entry(path, i, item) for i, item in enumerate(raw)]
    excluded = data.get("excluded", [])
    if not (isinstance(excluded, list) and all(isinstance(u, str) for u in excluded)):
        raise ManifestError(f"{path}: 'excluded' must be a list of URLs")
    return CaptureManifest(entries, excluded)


def _entry(path: Path, i: int, item: object) -> CaptureEntry:
    where = f"{path}: captures[{i}]"
    if not isinstance(item, dict):
        raise ManifestError(f"{where}: expected an object")
    url, timestamp = item.get("url"), str(item.get("timestamp", ""))
    if not isinstance(url, str) or not url:
        raise ManifestError(f"{where}: 'url' is required")
    if not (len(timestamp) == 14 and timestamp.isdigit()):
        raise ManifestError(f"{where}: 'timestamp' must be 14 digits, got {timestamp!r}")
    warc = item.get("warc")
    if warc is None:
        missing = [k for k in ("status", "mimetype", "digest") if not item.get(k)]
        if missing:
            raise ManifestError(f"{where}: an index-only row (no 'warc') needs {', '.join(missing)}")

    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value)

    return CaptureEntry(
        url=url,
        timestamp=timestamp,
        warc=text("warc"),
        page=text("page"),
        status=text("status"),
        mimetype=text("mimetype"),
        digest=text("digest"),
        length=text("length"),
        revisit=bool(item.get("revisit", False)),
        src=text("src"),
        location_style=text("location_style"),
    )


def dumps(captures: list[dict], excluded: list[str] | None = None, generated_by: str = "") -> str:
    """The manifest text, deterministic (same input, same bytes)."""
    data: dict = {"format": FORMAT}
    if generated_by:
        data["generated_by"] = generated_by
    data["captures"] = captures
    if excluded:
        data["excluded"] = excluded
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
