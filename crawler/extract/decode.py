"""Archived bytes to text: gzip sniffed, then the charset chosen in a fixed, recorded order.

Order (corpus-conventions.md, "Decoding Chinese pages"): the HTTP ``Content-Type`` charset, then the
``<meta>`` charset, then strict UTF-8, then GB18030. ``gb2312``/``gbk`` labels decode as GB18030 (a
superset, so a GB2312-labelled page that uses a GBK-only character still decodes). A declared charset
that does not decode the bytes strictly is wrong and the next candidate is tried. Archived headers lie
both ways, so one more rule guards the declared ones: bytes that are valid UTF-8 *and* contain
multi-byte sequences are UTF-8, whatever a legacy label (iso-8859-1, gb2312...) says. Legacy Chinese
text essentially never forms valid UTF-8 (GBK lead bytes are UTF-8 continuation bytes), while a
single-byte label on a UTF-8 page would "decode" strictly into mojibake.

A page cut off inside a multi-byte character still decodes: the incomplete tail is dropped and a
warning says so. Only when no candidate decodes strictly does the least-damaged decoding win, with a
warning; when even that is mostly replacement characters the page is undecodable.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

# Inflated size limit: an archived gzip bomb must not take the crawler down.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
# Share of U+FFFD above which a forced decoding is not text in that charset.
MAX_REPLACEMENT_SHARE = 0.02

_UNICODE = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030"}


class UndecodableError(ValueError):
    """No charset turns the bytes into text."""


@dataclass
class Decoded:
    text: str
    charset: str
    warnings: list[str] = field(default_factory=list)
    gzipped: bool = False


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, case-insensitively (archived headers come in every spelling)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def inflate_if_gzipped(body: bytes) -> tuple[bytes, bool, bool]:
    """(bytes, was_gzipped, was_truncated): a body that is still a gzip stream (magic 1f 8b) inflated.

    A truncated stream yields what inflates; a stream that is not gzip after all is left as it is.
    """
    if body[:2] != b"\x1f\x8b":
        return body, False, False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_INFLATED_BYTES)
    except zlib.error:
        return body, False, False
    truncated = not inflater.eof
    # Concatenated gzip members (some servers write them): inflate the rest too.
    while inflater.eof and inflater.unused_data[:2] == b"\x1f\x8b" and len(out) < MAX_INFLATED_BYTES:
        rest = inflater.unused_data
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, MAX_INFLATED_BYTES - len(out))
        except zlib.error:
            break
        truncated = not inflater.eof
    return out, True, truncated


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, gb2312/gbk widened to gb18030; None if unknown."""
    if not label:
        return None
    name = resolve_encoding(label.strip().strip("\"'"))
    if not name:
        return None
    return codecs.lookup(name).name


def _strict(body: bytes, codec: str) -> tuple[str, bool] | None:
    """(text, tail_dropped) if ``codec`` decodes ``body`` strictly, allowing an incomplete last character."""
    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
        text = decoder.decode(body, final=False)
        leftover = decoder.getstate()[0]
    except (UnicodeError, LookupError):
        return None
    if leftover and len(leftover) > 4:
        return None
    return text, bool(leftover)


def decode_bytes(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """Decode archived bytes; raises :class:`UndecodableError` when nothing yields text."""
    warnings: list[str] = []
    body, gzipped, truncated_gzip = inflate_if_gzipped(body)
    if gzipped:
        warnings.append("body was a gzip stream" + (" (truncated)" if truncated_gzip else ""))
        # A page stored gzipped and served with the archive's gzip left on is gzipped twice.
        for _ in range(2):
            body, again, truncated_again = inflate_if_gzipped(body)
            if not again:
                break
            warnings.append("body was gzipped again" + (" (truncated)" if truncated_again else ""))

    bom_codec, bom = read_bom(body)
    if bom_codec:
        codec = codecs.lookup(bom_codec).name
        decoded = _strict(body[len(bom):], codec)
        if decoded is not None:
            return Decoded(decoded[0], codec, warnings, gzipped)

    declared: list[tuple[str, str]] = []
    http = _codec(http_content_type_encoding(header(headers, "content-type")))
    if http:
        declared.append(("http", http))
    try:
        meta = _codec(html_body_declared_encoding(body))
    except (LookupError, ValueError):
        meta = None
    if meta:
        declared.append(("meta", meta))

    # Bytes that are valid UTF-8 and not ASCII (multi-byte sequences): the decoding is kept for the loop below.
    utf8 = None if body.isascii() else _strict(body, "utf-8")
    utf8_page = utf8 is not None
    candidates: list[tuple[str, str]] = []
    for origin, codec in declared:
        if utf8_page and codec not in _UNICODE:
            warnings.append(f"{origin} charset {codec} ignored: the bytes are UTF-8")
            continue
        candidates.append((origin, codec))
    candidates += [("fallback", "utf-8"), ("fallback", "gb18030")]

    tried: list[str] = []
    for origin, codec in candidates:
        if codec in tried:
            continue
        tried.append(codec)
        decoded = utf8 if codec == "utf-8" and utf8 is not None else _strict(body, codec)
        if decoded is None:
            if origin != "fallback":
                warnings.append(f"{origin} charset {codec} does not decode the bytes")
            continue
        text, tail_dropped = decoded
        if tail_dropped:
            warnings.append(f"incomplete {codec} character at the end dropped (truncated page)")
        return Decoded(text, codec, warnings, gzipped)

    # Nothing decodes strictly: take the candidate that damages the fewest characters.
    best: tuple[int, str, str] | None = None
    for codec in tried:
        try:
            text = body.decode(codec, errors="replace")
        except (UnicodeError, LookupError):
            continue
        bad = text.count("\ufffd")
        if best is None or bad < best[0]:
            best = (bad, codec, text)
    if best is None:
        raise UndecodableError(f"no charset decodes the bytes (tried {', '.join(tried)})")
    bad, codec, text = best
    if not text or bad / max(len(text), 1) > MAX_REPLACEMENT_SHARE:
        raise UndecodableError(f"no charset decodes the bytes (tried {', '.join(tried)})")
    warnings.append(f"{bad} undecodable byte sequence(s) replaced under {codec}")
    return Decoded(text, codec, warnings, gzipped)


def decode_html(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(text, charset)`` for archived bytes: HTTP charset, ``<meta>``, strict UTF-8, then GB18030.

    gzip bodies (magic ``1f 8b``) are inflated first. Raises :class:`UndecodableError` when no charset
    yields text.
    """
    decoded = decode_bytes(body, headers)
    return decoded.text, decoded.charset
