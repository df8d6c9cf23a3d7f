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
import sys
from array import array
from itertools import accumulate

# CJK Unified Ideographs, Extension A, compatibility ideographs, and the supplementary planes.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Characters unicode61 never puts in a token, in any Unicode version (whitespace, and CJK, fullwidth
# and general punctuation: categories Z, P, S and Cc, none of its token categories L*, N*, Co). A
# space beside one of them changes no token, so segment() may space them out with the Han around.
SEPARATORS = (
    "\\s\u00b7\u2010-\u2027\u3000-\u3004\u3008-\u3011\u3014-\u301f"
    "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
)
_HAN_ANY = re.compile(f"[{HAN}]")
_HAN_RUNS = re.compile(f"([{HAN}]+)")
_SPACED_RUNS = re.compile(f"([{HAN}{SEPARATORS}]+)")
# What unicode61 treats as part of a token: letters, digits (and our spaced Han characters).
_QUERY_TOKEN = re.compile(rf"[{HAN}]|[^\W_{HAN}]+", re.UNICODE)

SEGMENTER_VERSION = 1

_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_CODE = "I" if array("I").itemsize == 4 else "L"
_SPACE = array(_CODE, [ord(" ")])


def segment(text: str | None) -> str:
    """Text as it goes into the Chinese index: each Han character set apart by spaces.

    The tokens are exactly those of ``re.sub(f"([{HAN}])", r" \\1 ", text)``; the punctuation and
    whitespace between Han characters get spaces too, which changes no token. (This runs twice for
    every document stored: spacing whole runs at once, in an array of code points, is five times
    faster than a regular expression or ``str.translate`` working character by character.)
    """
    if not text:
        return ""
    parts = _SPACED_RUNS.split(text)  # other text, a run to space out, other text, ...
    runs = parts[1::2]
    if not runs:
        return text
    codes = array(_CODE)
    codes.frombytes("".join(runs).encode(_UTF32))
    spaced_codes = _SPACE * (3 * len(codes))
    spaced_codes[1::3] = codes  # " x " for every character x
    spaced = spaced_codes.tobytes().decode(_UTF32)
    ends = [3 * end for end in accumulate(map(len, runs))]
    parts[1::2] = map(spaced.__getitem__, map(slice, [0, *ends[:-1]], ends))
    return "".join(parts)


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
