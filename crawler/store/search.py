"""Searching the corpus: Chinese (any length, via the segmented index) and English (stemmed)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal

import sqlite_utils

from .schema import SORT_DATE_SQL
from .segment import en_match_query, has_han, zh_match_query

Lang = Literal["zh", "en"]
HIGHLIGHT = ("<b>", "</b>")


Sort = Literal["newest", "oldest", "rank"]


@dataclass
class SearchHit:
    url: str
    wayback_url: str | None
    title: str | None
    translated_title: str | None
    date: str | None
    snippet: str
    rank: int  # 1-based position in the result list
    score: float | None  # FTS5 bm25 (lower is better) when sorted by relevance
    lang: str
    id: int

    def to_dict(self) -> dict:
        return asdict(self)


def detect_query_lang(query: str) -> Lang:
    return "zh" if has_han(query) else "en"


def _fts(lang: Lang) -> str:
    return "documents_zh_fts" if lang == "zh" else "documents_en_fts"


_COLUMNS = (
    "d.id, d.url, d.returned_url, d.title, d.translated_title, d.publish_date, d.capture_timestamp, "
    "d.resulting_text, d.translated_content, d.english_summary"
)


def _search_sql(lang: Lang, sort: Sort) -> str:
    table = _fts(lang)
    if sort == "rank":
        return (
            f"SELECT {_COLUMNS}, {table}.rank AS score FROM {table} JOIN documents d ON d.id = {table}.rowid "
            f"WHERE {table} MATCH ? ORDER BY {table}.rank LIMIT ? OFFSET ?"
        )
    direction = "DESC" if sort == "newest" else "ASC"
    # Walk the date index and test each document against the set of matches: a page of hits
    # costs one pass over the match set, not a sort of it.
    return (
        f"SELECT {_COLUMNS}, NULL AS score FROM documents d INDEXED BY idx_documents_sort_date "
        f"WHERE d.id IN ({matching_ids_sql(lang)}) "
        f"ORDER BY {SORT_DATE_SQL} {direction}, d.id {direction} LIMIT ? OFFSET ?"
    )


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    lang: Lang | None = None,
    limit: int = 20,
    offset: int = 0,
    sort: Sort = "newest",
    snippet_chars: int = 80,
) -> list[SearchHit]:
    """Documents matching ``query``: newest first by default, or by relevance (``sort="rank"``).

    ``lang="zh"`` searches the Chinese title and body, where every term matches as an exact
    substring (外资, 关税, 数字化赋能); ``lang="en"`` searches the English title, translation and
    summary with Porter stemming, every word required. Default: zh when the query has Han characters.
    Dates are publish dates, or capture dates for pages that give none.
    """
    lang, match = match_expression(query, lang)
    if not match:
        return []
    hits = []
    terms = _terms(query, lang)
    for position, row in enumerate(db.query(_search_sql(lang, sort), [match, limit, offset]), offset + 1):
        if lang == "zh":
            text = row["resulting_text"] or ""
            if not _find_any(text, terms, lang):
                text = row["title"] or text
        else:
            text = next(
                (t for t in (row["translated_content"], row["english_summary"], row["translated_title"])
                 if t and _find_any(t, terms, lang)),
                row["translated_content"] or row["english_summary"] or "",
            )
        hits.append(
            SearchHit(
                id=row["id"],
                url=row["url"],
                wayback_url=row["returned_url"],
                title=row["title"],
                translated_title=row["translated_title"],
                date=row["publish_date"] or (row["capture_timestamp"] or "")[:8] or None,
                snippet=make_snippet(text, terms, lang, snippet_chars),
                rank=position,
                score=row["score"],
                lang=lang,
            )
        )
    return hits


def matching_ids_sql(lang: Lang) -> str:
    """SQL returning the ids of documents matching the bound parameter (for export filters)."""
    table = _fts(lang)
    return f"SELECT rowid FROM {table} WHERE {table} MATCH ?"


def match_expression(query: str, lang: Lang | None = None) -> tuple[Lang, str]:
    lang = lang or detect_query_lang(query)
    return lang, zh_match_query(query) if lang == "zh" else en_match_query(query)


def _terms(query: str, lang: Lang) -> list[str]:
    if lang == "zh":
        return [t for t in (re.sub(r"[^\w]", "", term) for term in query.split()) if t]
    return [w.lower() for w in re.findall(r"[^\W_]+", query)]


def _find_any(text: str, terms: list[str], lang: Lang) -> bool:
    return _first_span(text, terms, lang) is not None


def _term_pattern(terms: list[str], lang: Lang) -> re.Pattern:
    if lang == "zh":
        return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    # English: match the word and its inflections (what Porter stemming matched), whole words.
    stems = [re.escape(t[:-1] if len(t) > 4 else t) for t in terms]
    return re.compile(r"\b(?:" + "|".join(stems) + r")\w*", re.I)


def _first_span(text: str, terms: list[str], lang: Lang) -> tuple[int, int] | None:
    if not terms:
        return None
    m = _term_pattern(terms, lang).search(text)
    return (m.start(), m.end()) if m else None


def make_snippet(text: str, terms: list[str], lang: Lang, width: int = 80) -> str:
    """About ``width`` characters of ``text`` around the first hit, every hit wrapped in <b></b>."""
    text = re.sub(r"\s+", " ", text or "").strip()
    span = _first_span(text, terms, lang)
    start = 0 if span is None else max(0, span[0] - width // 3)
    end = min(len(text), start + width)
    piece = text[start:end]
    if terms:
        piece = _term_pattern(terms, lang).sub(lambda m: f"{HIGHLIGHT[0]}{m.group(0)}{HIGHLIGHT[1]}", piece)
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")
