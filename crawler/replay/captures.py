"""The capture store: a sorted CDX index over WARC records, with payloads read on demand.

Captures come from WARC files in a folder (plus an optional ``manifest.json``, see ``manifest.py``)
or from the in-memory API (``add``, ``add_revisit``, ``add_redirect``), which writes real WARC
records into a buffer so that every capture, wherever it came from, is played back the same way.
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import surt
from warcio.warcwriter import WARCWriter

from crawler.replay import manifest as capture_manifest
from crawler.replay.warcs import (
    Headers,
    StoredResponse,
    index_warc,
    mimetype_of,
    payload_digest,
    read_response,
    write_response,
    write_revisit,
)

MEMORY = "<memory>"
MEMORY_SRC = "memory/replay-store.warc.gz"
LOCATION_STYLES = ("absolute", "path", "schemeless")
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


class CaptureError(ValueError):
    """A capture that cannot be added or loaded (bad URL, timestamp, or a stale manifest)."""


def urlkey(url: str) -> str:
    """The SURT key the Wayback Machine sorts and matches by (``surt`` package, IA canonicaliser)."""
    try:
        return surt.surt(url)
    except Exception as error:  # surt raises assorted errors on junk URLs
        raise CaptureError(f"cannot compute a SURT key for {url!r}: {error}") from error


@dataclass(frozen=True)
class Capture:
    """One CDX row and where its record lives."""

    urlkey: str
    timestamp: str
    original: str
    mimetype: str
    status: str
    digest: str
    length: str
    kind: str = "response"  # "response" | "revisit"
    source: str | None = None  # WARC path, MEMORY, or None for an index-only row
    offset: int = 0
    record_length: int = 0
    src: str = MEMORY_SRC  # X-Archive-Src
    refers_to_url: str | None = None
    refers_to_timestamp: str | None = None
    location_style: str = "absolute"  # how playback writes a rewritten Location

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.urlkey, self.timestamp, self.original, self.mimetype, self.status, self.digest, self.length)

    @property
    def line(self) -> str:
        return " ".join(self.fields)

    @property
    def is_revisit(self) -> bool:
        return self.kind == "revisit"


@dataclass(frozen=True)
class Index:
    """An immutable, sorted view of the store (CDX order: the whole line, byte-wise)."""

    lines: list[str]
    captures: list[Capture]
    excluded: tuple[str, ...] = ()
    _by_digest: dict[str, list[Capture]] = field(default_factory=dict, compare=False)

    def range(self, start: str, end: str | None = None) -> Iterator[Capture]:
        """Captures whose line is >= start and < end, ascending."""
        i = bisect.bisect_left(self.lines, start)
        while i < len(self.lines):
            if end is not None and self.lines[i] >= end:
                return
            yield self.captures[i]
            i += 1

    def range_reversed(self, start: str, end: str | None = None) -> Iterator[Capture]:
        """The same captures as ``range``, descending."""
        i = len(self.lines) if end is None else bisect.bisect_left(self.lines, end)
        lo = bisect.bisect_left(self.lines, start)
        for j in range(i - 1, lo - 1, -1):
            yield self.captures[j]

    def of(self, key: str) -> list[Capture]:
        """Every capture of one urlkey, oldest first."""
        return list(self.range(key + " ", key + "!"))

    def is_excluded(self, key: str) -> bool:
        return any(key.startswith(prefix) for prefix in self.excluded)

    def original_of(self, revisit: Capture) -> Capture | None:
        """The capture whose payload a revisit replays."""
        if revisit.refers_to_timestamp:
            key = urlkey(revisit.refers_to_url) if revisit.refers_to_url else revisit.urlkey
            for capture in self.of(key):
                if capture.timestamp == revisit.refers_to_timestamp and capture.kind == "response":
                    return capture
        same_url = [
            c
            for c in self.of(revisit.urlkey)
            if c.kind == "response" and c.digest == revisit.digest and c.source is not None
        ]
        earlier = [c for c in same_url if c.timestamp <= revisit.timestamp]
        if earlier:
            return earlier[-1]
        if same_url:
            return same_url[0]
        for capture in self._by_digest.get(revisit.digest, ()):
            if capture.kind == "response" and capture.source is not None:
                return capture
        return None


class CaptureStore:
    """Captures from WARC folders and from code; thread-safe; payloads stay on disk until played back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._captures: list[Capture] = []
        self._index: Index | None = None
        self._memory = bytearray()
        self._excluded: list[str] = []
        self.files: list[Path] = []

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_folder(cls, folder: str | Path) -> CaptureStore:
        store = cls()
        store.load_folder(folder)
        return store

    def load_folder(self, folder: str | Path) -> int:
        """Index every ``*.warc.gz`` / ``*.warc`` under ``folder`` and apply its ``manifest.json``.

        Returns the number of captures added.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise CaptureError(f"captures folder {folder} does not exist")
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".warc.gz", ".warc")))
        loaded: list[Capture] = []
        for path in files:
            src = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            loaded.extend(self._index_file(path, src))
        manifest_path = folder / "manifest.json"
        excluded: list[str] = []
        if manifest_path.exists():
            entries = capture_manifest.read(manifest_path)
            loaded = _apply_manifest(loaded, entries.captures, folder)
            excluded = entries.excluded
        with self._lock:
            self._captures.extend(loaded)
            self._excluded.extend(urlkey(url) for url in excluded)
            self.files.extend(files)
            self._index = None
        return len(loaded)

    def load_warc(self, path: str | Path, src: str | None = None) -> int:
        """Index one WARC file; returns the number of captures added."""
        path = Path(path)
        loaded = list(self._index_file(path, src or f"{path.parent.name}/{path.name}"))
        with self._lock:
            self._captures.extend(loaded)
            self.files.append(path)
            self._index = None
        return len(loaded)

    @staticmethod
    def _index_file(path: Path, src: str) -> Iterator[Capture]:
        for record in index_warc(path):
            yield Capture(
                urlkey=urlkey(record.url),
                timestamp=record.timestamp,
                original=record.url,
                mimetype=record.mimetype,
                status=record.status,
                digest=record.digest,
                length=str(record.length),
                kind=record.kind,
                source=str(path),
                offset=record.offset,
                record_length=record.length,
                src=src,
                refers_to_url=record.refers_to_url,
                refers_to_timestamp=record.refers_to_timestamp,
            )

    # -- the in-memory API -------------------------------------------------------------------

    def add(
        self,
        url: str,
        timestamp: str,
        body: bytes | None = b"",
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        mimetype: str | None = None,
        *,
        reason: str | None = None,
        digest: str | None = None,
        length: int | str | None = None,
        src: str | None = None,
        location_style: str = "absolute",
    ) -> Capture:
        """Add a capture of ``url`` at ``timestamp`` (14 digits) with these archived headers and body.

        ``body=None`` adds an index-only row (a CDX line whose record is not held: ``digest`` is then
        required); ``digest``/``length``/``src`` override the computed CDX digest, record length and
        ``X-Archive-Src``; ``location_style`` picks how playback rewrites an archived ``Location``.
        """
        header_list = _header_list(headers)
        _check_timestamp(timestamp)
        _check_style(location_style)
        key = urlkey(url)
        cdx_mimetype = mimetype or mimetype_of(header_list)
        if body is None:
            if not digest:
                raise CaptureError("an index-only row (body=None) needs its digest")
            capture = Capture(
                key, timestamp, url, cdx_mimetype, str(status), digest, str(length if length is not None else "-"),
                source=None, src=src or MEMORY_SRC, location_style=location_style,
            )
        else:
            buffer = io.BytesIO()
            write_response(WARCWriter(buffer, gzip=True), url, timestamp, body, status, header_list, reason)
            offset, record_length = self._append_memory(buffer.getvalue())
            capture = Capture(
                key, timestamp, url, cdx_mimetype, str(status), digest or payload_digest(body),
                str(length if length is not None else record_length),
                source=MEMORY, offset=offset, record_length=record_length, src=src or MEMORY_SRC,
                location_style=location_style,
            )
        self._append(capture)
        return capture

    def add_redirect(
        self,
        url: str,
        timestamp: str,
        location: str,
        status: int = 302,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        **options,
    ) -> Capture:
        """Add an archived redirect: ``status`` with ``Location: location`` (absolute or relative)."""
        header_list = [(k, v) for k, v in _header_list(headers) if k.lower() != "location"]
        header_list.append(("Location", location))
        return self.add(url, timestamp, body=body, status=status, headers=header_list, **options)

    def add_revisit(
        self,
        url: str,
        timestamp: str,
        refers_to_timestamp: str | None = None,
        refers_to_url: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        digest: str | None = None,
        length: int | str | None = None,
        src: str | None = None,
    ) -> Capture:
        """Add a ``warc/revisit`` of an earlier capture (by default the latest earlier one of ``url``).

        Its CDX row has mimetype ``warc/revisit``, status ``-`` and the original's digest; playback
        replays the original payload (with the revisit's own status and headers when given). With no
        original in the store, ``digest`` makes it an index-only revisit row.
        """
        _check_timestamp(timestamp)
        key = urlkey(url)
        original = self._find_original(key, timestamp, refers_to_url, refers_to_timestamp, digest)
        if original is None or original.source is None:
            if not digest and original is None:
                raise CaptureError(f"no earlier capture of {url} to revisit; pass refers_to_timestamp or digest")
            capture = Capture(
                key, timestamp, url, "warc/revisit", "-", digest or original.digest,
                str(length if length is not None else "-"),
                kind="revisit", source=None, src=src or MEMORY_SRC,
                refers_to_url=refers_to_url, refers_to_timestamp=refers_to_timestamp,
            )
            self._append(capture)
            return capture
        buffer = io.BytesIO()
        write_revisit(
            WARCWriter(buffer, gzip=True), url, timestamp, original.digest, original.original,
            original.timestamp, status, _header_list(headers),
        )
        offset, record_length = self._append_memory(buffer.getvalue())
        capture = Capture(
            key, timestamp, url, "warc/revisit", "-", digest or original.digest,
            str(length if length is not None else record_length), kind="revisit", source=MEMORY,
            offset=offset, record_length=record_length, src=src or MEMORY_SRC,
            refers_to_url=original.original, refers_to_timestamp=original.timestamp,
        )
        self._append(capture)
        return capture

    def exclude(self, url: str) -> None:
        """Mark ``url`` and everything under it as excluded (CDX 403, playback "Sorry." page)."""
        with self._lock:
            self._excluded.append(urlkey(url))
            self._index = None

    def _find_original(
        self,
        key: str,
        timestamp: str,
        refers_to_url: str | None,
        refers_to_timestamp: str | None,
        digest: str | None,
    ) -> Capture | None:
        index = self.index()
        if refers_to_timestamp:
            target = urlkey(refers_to_url) if refers_to_url else key
            for capture in index.of(target):
                if capture.timestamp == refers_to_timestamp and capture.kind == "response":
                    return capture
            raise CaptureError(f"no capture of {refers_to_url or key} at {refers_to_timestamp} to revisit")
        earlier = [
            c
            for c in index.of(key)
            if c.kind == "response" and c.timestamp < timestamp and (digest is None or c.digest == digest)
        ]
        return earlier[-1] if earlier else None

    def _append_memory(self, record: bytes) -> tuple[int, int]:
        with self._lock:
            offset = len(self._memory)
            self._memory.extend(record)
        return offset, len(record)

    def _append(self, capture: Capture) -> None:
        with self._lock:
            self._captures.append(capture)
            self._index = None

    # -- reading -----------------------------------------------------------------------------

    def index(self) -> Index:
        """The current sorted snapshot (rebuilt after changes; safe to use from many threads)."""
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                ordered = sorted(self._captures, key=lambda c: c.line)
                by_digest: dict[str, list[Capture]] = {}
                for capture in ordered:
                    by_digest.setdefault(capture.digest, []).append(capture)
                self._index = Index([c.line for c in ordered], ordered, tuple(self._excluded), by_digest)
            return self._index

    def read(self, capture: Capture) -> StoredResponse | None:
        """The archived response of a capture, read from its WARC now; None for an index-only row."""
        if capture.source is None:
            return None
        if capture.source == MEMORY:
            with self._lock:
                record = bytes(self._memory[capture.offset : capture.offset + capture.record_length])
            return read_response(io.BytesIO(record))
        with open(capture.source, "rb") as stream:
            stream.seek(capture.offset)
            return read_response(stream)

    def __len__(self) -> int:
        return len(self._captures)


def _header_list(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Headers:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _check_timestamp(timestamp: str) -> None:
    if not (isinstance(timestamp, str) and len(timestamp) == 14 and timestamp.isdigit()):
        raise CaptureError(f"timestamp must be 14 digits (YYYYMMDDhhmmss), got {timestamp!r}")


def _check_style(style: str) -> None:
    if style not in LOCATION_STYLES:
        raise CaptureError(f"location_style must be one of {', '.join(LOCATION_STYLES)}, got {style!r}")


def _apply_manifest(
    loaded: list[Capture], entries: list[capture_manifest.CaptureEntry], folder: Path
) -> list[Capture]:
    """Check the manifest against the WARCs, apply its per-capture extras, add its index-only rows."""
    by_place: dict[tuple[str, str, str], list[int]] = {}
    for i, capture in enumerate(loaded):
        name = Path(capture.source).relative_to(folder).as_posix() if capture.source else ""
        by_place.setdefault((name, capture.original, capture.timestamp), []).append(i)
    result = list(loaded)
    for entry in entries:
        if entry.warc is None:
            _check_style(entry.location_style or "absolute")
            result.append(
                Capture(
                    urlkey(entry.url), entry.timestamp, entry.url, entry.mimetype or "unk",
                    entry.status or "-", entry.digest or "-", entry.length or "-",
                    kind="revisit" if entry.revisit else "response", source=None,
                    src=entry.src or MEMORY_SRC, location_style=entry.location_style or "absolute",
                )
            )
            continue
        positions = by_place.get((entry.warc, entry.url, entry.timestamp))
        if not positions:
            raise CaptureError(
                f"{folder / 'manifest.json'}: {entry.url} at {entry.timestamp} is not in {entry.warc}; "
                "the manifest is stale (rebuild with scripts/build_fixtures.py)"
            )
        for i in positions:
            capture = result[i]
            if entry.digest and entry.digest != capture.digest:
                raise CaptureError(
                    f"{folder / 'manifest.json'}: {entry.url} at {entry.timestamp} has digest {capture.digest} in "
                    f"{entry.warc}, the manifest says {entry.digest}; rebuild with scripts/build_fixtures.py"
                )
            changes: dict[str, str] = {}
            if entry.src:
                changes["src"] = entry.src
            if entry.location_style:
                _check_style(entry.location_style)
                changes["location_style"] = entry.location_style
            if changes:
                result[i] = dataclasses.replace(capture, **changes)
    return result


__all__ = ["CDX_FIELDS", "Capture", "CaptureError", "CaptureStore", "Index", "urlkey"]
