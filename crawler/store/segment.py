"""Chinese text made searchable with SQLite's built-in FTS5, no extension needed.

FTS5's ``unicode61`` tokenizer keeps a whole run of Han characters as one token, so ``外资`` would
never match inside ``外资企业``. We index every Han character as a token of its own (a space on each
side) and search with a phrase query of the query's characters: FTS5 matches a phrase only at
consecutive positions, so ``"外 资"`` finds exactly the texts that contain 外资, and 1-, 2- and
3+-character queries all work the same way. Latin words and numbers stay whole words.

The same function must segment the index and the queries; anyone with the plain ``sqlite3`` shell
can search by writing the spaces themselves: ``MATCH '"外 资"'``.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A, compatibility ideographs, and the supplementary planes.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_ANY = re.compile(f"[{HAN}]")
_HAN_RUNS = re.compile(f"([{HAN}]+)")
# What unicode61 treats as part of a token: letters, digits (and our spaced Han characters).
_QUERY_TOKEN = re.compile(rf"[{HAN}]|[^\W_{HAN}]+", re.UNICODE)

SEGMENTER_VERSION = 1


class _SpacedHan(dict):
    """A ``str.translate`` table, filled as characters are met: a Han character maps to itself with a
    space on each side, any other to itself. (A full table would hold some 120,000 code points.)"""

    def __missing__(self, code: int) -> str | int:
        char = chr(code)
        value: str | int = f" {char} " if _HAN_ANY.match(char) else code
        if len(self) < 50_000:  # hostile text may bring any number of distinct characters
            self[code] = value
        return value


_SPACED_HAN = _SpacedHan()


def segment(text: str | None) -> str:
    """Text as it goes into the Chinese index: each Han character set apart by spaces."""
    if not text:
        return ""
    # Same result as re.sub(f"([{HAN}])", r" \1 ", text). str.translate builds no string per
    # character: a third faster than a regular expression's split (this runs twice per document stored).
    return text.translate(_SPACED_HAN)


def has_han(text: str) -> bool:
    return bool(_HAN_ANY.search(text or ""))


def letters_and_han(text: str) -> tuple[int, int]:
    """(letters, Han characters) in ``text``, in one pass.

    Only the text between the Han characters is tested character by character: Han characters are
    letters, save a few unassigned code points in the ranges.
    """
    parts = _HAN_RUNS.split(text)
    han = "".join(parts[1::2])
    letters = sum(map(str.isalpha, "".join(parts[0::2])))
    letters += len(han) if han.isalpha() else sum(map(str.isalpha, han))
    return letters, len(han)


def han_share(text: str) -> float:
    """Share of Han characters among the letters of ``text`` (0.0 when it has none)."""
    letters, han = letters_and_han(text or "")
    return han / letters if letters else 0.0


def zh_match_query(query: str) -> str:
    """An FTS5 MATCH expression for the Chinese index: one phrase per whitespace-separated term, ANDed.

    >>> zh_match_query("数字化赋能")
    '"数 字 化 赋 能"'
    >>> zh_match_query("外资  2023年")
    '"外 资" AND "2023 年"'

    Returns ``""`` when the query has nothing searchable in it.
    """
    phrases = []
    for term in query.split():
        tokens = _QUERY_TOKEN.findall(term)
        if tokens:
            phrases.append('"' + " ".join(t.replace('"', "") for t in tokens) + '"')
    return " AND ".join(phrases)


def en_match_query(query: str) -> str:
    """An FTS5 MATCH expression for the English index: each word quoted, all required (like Datasette)."""
    words = re.findall(r"[^\W_]+(?:['’][^\W_]+)?", query, re.UNICODE)
    return " AND ".join('"' + w.replace('"', "") + '"' for w in words)
