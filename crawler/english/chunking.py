"""Splitting a body into paragraphs, and paragraphs into pieces that fit a model's context.

A stored body separates paragraphs by blank lines. Records from older scrapers (the seed record is
one) flattened the page and kept a single space where a paragraph ended; Chinese puts no spaces
between words, so inside Chinese text whitespace between two Chinese characters or punctuation
marks is read as a paragraph break too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..store.segment import HAN as _HAN

_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014"
_CJK = f"[{_HAN}{_CJK_PUNCT}]"
_BLANK_LINES = re.compile(r"\n\s*\n|\r\n\s*\r\n")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_CJK_GAP = re.compile(f"(?<={_CJK})[ \\t\\u3000\\u00a0]+(?={_CJK})")
# Sentence ends, then clause breaks: where a paragraph too long for the model is cut.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)])|(?<=[。！？][”’」』）)])")
_CLAUSE_END = re.compile(r"(?<=[，、：,:])")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")

PARAGRAPH_SEPARATOR = "\n\n"


def han_share(text: str) -> float:
    """Share of Han characters among the Han characters and Latin letters of ``text``: how Chinese a
    line or an answer reads, other scripts left out (a Japanese name or fullwidth ＷＴＯ inside Chinese
    leaves it Chinese). The language detector's ``crawler.store.segment.han_share`` counts every letter.
    """
    han = len(_HAN_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return han / (han + latin) if han + latin else 0.0


def split_paragraphs(text: str | None) -> list[str]:
    """The paragraphs of a body, in order, stripped, empty ones dropped."""
    if not text:
        return []
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        for line in _LINE_BREAK.split(block):
            line = line.strip()
            if not line:
                continue
            if han_share(line) >= 0.5:
                paragraphs.extend(p.strip() for p in _CJK_GAP.split(line) if p.strip())
            else:
                paragraphs.append(line)
    return paragraphs


def _split_at(pattern: re.Pattern, text: str) -> list[str]:
    return [part for part in pattern.split(text) if part]


def _pack(parts: list[str], budget: int, count: Callable[[str], int]) -> list[str]:
    """Greedily join consecutive parts into pieces of at most ``budget`` tokens."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = current + part
        if current and count(candidate) > budget:
            pieces.append(current)
            current = part
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _hard_split(text: str, budget: int, count: Callable[[str], int]) -> list[str]:
    """Cut ``text`` (one clause with no break in it) into runs of characters that fit."""
    pieces, start = [], 0
    while start < len(text):
        end = len(text)
        while end - start > 1 and count(text[start:end]) > budget:
            end = start + max(1, (end - start) * 3 // 4)
        pieces.append(text[start:end])
        start = end
    return pieces


def split_to_fit(paragraph: str, budget: int, count: Callable[[str], int] = len) -> list[str]:
    """``paragraph`` as one piece if it fits ``budget`` tokens (``count`` measures), else cut at
    sentence ends, then at clause breaks, then anywhere, into pieces that each fit."""
    if budget < 1:
        raise ValueError("the token budget of a piece must be positive")
    if count(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _pack(_split_at(_SENTENCE_END, paragraph), budget, count):
        if count(sentence) <= budget:
            pieces.append(sentence)
            continue
        for clause in _pack(_split_at(_CLAUSE_END, sentence), budget, count):
            pieces.extend([clause] if count(clause) <= budget else _hard_split(clause, budget, count))
    return [p for p in (piece.strip() for piece in pieces) if p]


@dataclass(frozen=True)
class Piece:
    """One unit sent to a model: part ``part`` of paragraph ``paragraph`` (both counted from 0)."""

    paragraph: int
    part: int
    text: str


def plan_pieces(text: str | None, budget: int, count: Callable[[str], int] = len) -> list[Piece]:
    """The pieces of a body in reading order, each within ``budget`` tokens."""
    return [
        Piece(n, k, piece)
        for n, paragraph in enumerate(split_paragraphs(text))
        for k, piece in enumerate(split_to_fit(paragraph, budget, count))
    ]


def join_pieces(pieces: list[Piece], translations: list[str]) -> str:
    """Put translated pieces back together: parts of a paragraph joined by a space, paragraphs by a
    blank line, in the pieces' order."""
    if len(pieces) != len(translations):
        raise ValueError(f"{len(pieces)} pieces but {len(translations)} translations")
    paragraphs: dict[int, list[str]] = {}
    for piece, translation in zip(pieces, translations, strict=True):
        paragraphs.setdefault(piece.paragraph, []).append(translation.strip())
    return PARAGRAPH_SEPARATOR.join(" ".join(parts) for _, parts in sorted(paragraphs.items()))
