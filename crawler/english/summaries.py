"""English summaries: extractive (sumy LexRank, offline, always there) or abstractive (an LLM engine).

An extractive summary picks sentences of an English text: the translation, or the body itself for
an English page; a document with neither waits for ``corpus translate`` (``english_checks.summary_note``
says so). With an engine, an abstractive summary of 3-5 sentences is written from the Chinese text;
when the engine fails on a document, the extractive summary stands in, where there is one.
``english_summary_kind`` says which kind a record holds.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from importlib.metadata import version as package_version
from typing import Any

import sqlite_utils

from ..store import finish_run, start_run, update_document_fields, write_transaction
from ..store.runs import close_abandoned_runs, update_run_counts
from ..store.schema import now_iso
from .answers import check_summary
from .calls import CallFailed, CallStats, RetryPolicy, ask
from .chunking import PARAGRAPH_SEPARATOR, split_paragraphs, split_to_fit
from .engines import Engine
from .glossary import Glossary, load_glossary
from .prompts import summary_messages
from .records import ensure_tables, provenance, run_counts, set_summary_note
from .translate import Progress

SUMMARY_SENTENCES = 3
SUMMARY_MAX_TOKENS = 320
NO_ENGLISH_NOTE = (
    "no English text to summarise yet: run `corpus translate`, or `corpus summarize --engine "
    "openai|llamacpp` for an abstractive summary from the Chinese"
)


# sumy, NLTK and numpy are imported when the first summary is made, not by every `corpus` command
# (they cost a third of a second).
@functools.cache
def _english_tokenizer_class() -> type:
    from nltk.tokenize import TreebankWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    from sumy.nlp.tokenizers import Tokenizer

    class EnglishTokenizer(Tokenizer):
        """sumy's English tokenizer without NLTK's downloadable data: Punkt untrained, Treebank words."""

        def __init__(self) -> None:
            super().__init__("english")

        def _get_sentence_tokenizer(self, language: str) -> PunktSentenceTokenizer:
            return PunktSentenceTokenizer()

        def _get_word_tokenizer(self, language: str) -> TreebankWordTokenizer:
            return TreebankWordTokenizer()

    return EnglishTokenizer


def english_tokenizer() -> Any:
    """sumy's English tokenizer without NLTK's downloadable data: Punkt untrained, Treebank words."""
    return _english_tokenizer_class()()


def extractive_summary(text: str | None, sentences: int = SUMMARY_SENTENCES) -> str:
    """The ``sentences`` most central sentences of an English ``text`` (LexRank), in text order."""
    if not text or not text.strip():
        return ""
    import numpy
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.utils import get_stop_words

    document = PlaintextParser.from_string(text, english_tokenizer()).document
    if len(document.sentences) <= sentences:  # nothing to choose (and LexRank divides by zero on one)
        return " ".join(str(sentence) for sentence in document.sentences)
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    with numpy.errstate(invalid="ignore", divide="ignore"):
        return " ".join(str(sentence) for sentence in summarizer(document, sentences))


def summary_source(engine: Engine, title: str | None, body: str | None, glossary: Glossary) -> str:
    """The title and as many leading paragraphs of the body as fit the engine's context."""
    overhead = engine.count_tokens(summary_messages("", glossary_lines=glossary.prompt_lines(body))[0]["content"])
    room = engine.context_tokens - overhead - SUMMARY_MAX_TOKENS - 96
    parts, used = [], 0
    for paragraph in ([title] if title else []) + split_paragraphs(body):
        cost = engine.count_tokens(paragraph) + 2
        if used + cost > room:
            if not parts and room > 8:  # a first paragraph longer than the room: its start
                parts.append(split_to_fit(paragraph, room, engine.count_tokens)[0])
            break
        parts.append(paragraph)
        used += cost
    return PARAGRAPH_SEPARATOR.join(parts)


def abstractive_summary(
    engine: Engine,
    title: str | None,
    body: str | None,
    *,
    glossary: Glossary,
    policy: RetryPolicy,
    stats: CallStats | None = None,
) -> str:
    """A 3-5 sentence English summary written by ``engine``; raises :class:`CallFailed`."""
    text = summary_source(engine, title, body, glossary)
    messages = summary_messages(text, glossary_lines=glossary.prompt_lines(text))
    return ask(engine, messages, check_summary, max_tokens=SUMMARY_MAX_TOKENS, policy=policy, stats=stats)


def _extractive_fields(english: str, source_field: str) -> dict[str, str]:
    return {
        "english_summary": extractive_summary(english),
        "english_summary_kind": "extractive",
        "english_summary_engine": "sumy",
        "english_summary_model": f"LexRank over {source_field}",
        "english_summary_version": f"sumy {package_version('sumy')}",
        "english_summary_at": now_iso(),
    }


def summarize_document(
    db: sqlite_utils.Database,
    doc_id: int,
    engine: Engine | None,
    *,
    glossary: Glossary,
    policy: RetryPolicy,
    stats: CallStats | None = None,
) -> str:
    """Summarise one document and store it; returns the outcome: ``abstractive``, ``extractive``,
    ``extractive_fallback`` (the engine failed), ``failed``, ``no_english_text``, ``changed`` or ``gone``."""
    columns = "title, resulting_text, translated_content, language"
    row = db.execute(f"SELECT {columns} FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None:
        return "gone"
    title, body, translation, language = row
    english, source_field = (body, "resulting_text") if language == "en" else (translation, "translated_content")
    note, values = None, None
    if engine is not None:
        try:
            summary = abstractive_summary(engine, title, body, glossary=glossary, policy=policy, stats=stats)
            values = {"english_summary": summary, "english_summary_kind": "abstractive", **provenance("english_summary", engine)}
            outcome = "abstractive"
        except CallFailed as e:
            if e.fatal:
                raise
            note = f"abstractive summary failed ({engine.name}/{engine.model}): {e}"
    if values is None and english and english.strip():
        values = _extractive_fields(english, source_field)
        outcome = "extractive" if engine is None else "extractive_fallback"
    elif values is None:
        note = note or NO_ENGLISH_NOTE
        outcome = "failed" if engine is not None else "no_english_text"
    with write_transaction(db):
        now = db.execute(f"SELECT {columns} FROM documents WHERE id = ?", [doc_id]).fetchone()
        if now is None:
            return "gone"
        if tuple(now) != tuple(row):
            return "changed"
        if values is not None:
            update_document_fields(db, doc_id, values)
        set_summary_note(db, doc_id, note)
    return outcome


def pending_summary_ids(
    db: sqlite_utils.Database, *, llm: bool, limit: int | None = None, redo: bool = False
) -> list[int]:
    """Documents to summarise, oldest first.

    Without an engine: those with English text but no summary, or an extractive one older than the
    translation (``redo``: every extractive one). With an engine: those with no summary or an
    extractive one (``redo``: all, imported and abstractive ones too).
    """
    has_english = "(language = 'en' OR translated_content IS NOT NULL)"
    stale = "(english_summary_kind = 'extractive' AND translated_content_at > english_summary_at)"
    if llm:
        where = "resulting_text IS NOT NULL" if redo else "(english_summary IS NULL OR english_summary_kind = 'extractive')"
    elif redo:
        where = f"{has_english} AND (english_summary IS NULL OR english_summary_kind = 'extractive')"
    else:
        where = f"{has_english} AND (english_summary IS NULL OR {stale})"
    sql = f"SELECT id FROM documents WHERE {where} ORDER BY id" + (" LIMIT ?" if limit is not None else "")
    return [r[0] for r in db.execute(sql, [limit] if limit is not None else [])]


def _note_untranslated(db: sqlite_utils.Database) -> int:
    """Mark every document that has neither a summary nor English text; returns how many."""
    with write_transaction(db):
        return db.execute(
            "INSERT INTO english_checks (document_id, summary_note, checked_at) "
            "SELECT id, ?, ? FROM documents WHERE english_summary IS NULL AND coalesce(language, 'zh') != 'en' "
            "AND translated_content IS NULL "
            "ON CONFLICT(document_id) DO UPDATE SET summary_note = excluded.summary_note, checked_at = excluded.checked_at",
            [NO_ENGLISH_NOTE, now_iso()],
        ).rowcount


def summarize_pending(
    db: sqlite_utils.Database,
    engine: Engine | None = None,
    *,
    limit: int | None = None,
    redo: bool = False,
    progress: Progress | None = None,
    glossary: Glossary | None = None,
    policy: RetryPolicy | None = None,
) -> Counter:
    """Summarise the documents that need it (see :func:`pending_summary_ids`); with no engine the
    summaries are extractive. Returns the counts, also logged in ``crawl_runs`` (kind "summarize");
    ``no_english_text`` counts the documents that must be translated first."""
    ensure_tables(db)
    glossary = glossary or load_glossary()
    policy = policy or RetryPolicy()
    ids = pending_summary_ids(db, llm=engine is not None, limit=limit, redo=redo)
    arguments = {
        "engine": engine.name if engine else "extractive",
        "model": engine.model if engine else "LexRank",
        "limit": limit,
        "redo": redo,
    }
    close_abandoned_runs(db)
    run_id = start_run(db, "summarize", arguments)
    counts: Counter = Counter()
    stats = CallStats()
    started = time.monotonic()
    status, run_error = "finished", None
    try:
        if engine is None:
            counts["no_english_text"] = _note_untranslated(db)
        for done, doc_id in enumerate(ids, 1):
            outcome = summarize_document(db, doc_id, engine, glossary=glossary, policy=policy, stats=stats)
            counts[outcome] += 1
            counts["calls"], counts["retries"] = stats.calls, stats.retries
            update_run_counts(db, run_id, run_counts(counts, started))
            if progress:
                progress(done, len(ids), outcome)
    except BaseException as e:
        status, run_error = ("interrupted" if isinstance(e, KeyboardInterrupt) else "failed"), repr(e)
        raise
    finally:
        finish_run(db, run_id, status, run_counts(counts, started), run_error)
    return counts
