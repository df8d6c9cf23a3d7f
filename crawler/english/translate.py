"""Translating documents: title and body, piece by piece, with the glossary, cache and retries.

:func:`translate_pending` is the batch job behind ``corpus translate`` (and ``corpus crawl
--translate``): every document not in English that lacks an English title or body, oldest first,
each written in its own transaction once done, so a killed run loses at most the document in
flight, and a crawl may write to the same file meanwhile.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

from ..store import finish_run, start_run, update_document_fields, write_transaction
from ..store.runs import close_abandoned_runs, update_run_counts
from ..store.schema import now_iso
from .answers import check_translation
from .cache import TranslationCache, cache_key
from .calls import CallFailed, CallStats, RetryPolicy, ask
from .chunking import join_pieces, plan_pieces
from .engines import Engine
from .glossary import Glossary, load_glossary
from .prompts import PROMPT_VERSION, translation_messages
from .records import ensure_tables, provenance, record_glossary_check, run_counts

Progress = Callable[[int, int, str], None]  # (documents done, documents to do, what just happened)

_NOT_ENGLISH = "coalesce(language, 'zh') != 'en'"
_UNTRANSLATED = "(translated_title IS NULL OR translated_content IS NULL)"


class TranslationFailed(Exception):
    def __init__(self, field_name: str, message: str, fatal: bool = False) -> None:
        super().__init__(f"{field_name}: {message}")
        self.fatal = fatal


@dataclass
class Translator:
    """One engine with its glossary, cache and retry policy; translates texts of any length."""

    engine: Engine
    glossary: Glossary
    cache: TranslationCache
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    output_ratio: float = 2.0  # answer tokens allowed per source token (English runs about even)
    stats: CallStats = field(default_factory=CallStats)
    pieces: int = 0

    def _prompt_overhead(self, text: str, kind: str) -> int:
        messages = translation_messages("", kind=kind, glossary_lines=self.glossary.prompt_lines(text))
        return self.engine.count_tokens(messages[0]["content"]) + 32  # + the chat template's tokens

    def piece_budget(self, text: str, kind: str = "body") -> int:
        """Source tokens per piece: the piece and its answer must fit the context with the prompt."""
        room = self.engine.context_tokens - self._prompt_overhead(text, kind) - 16
        budget = int(room / (1 + self.output_ratio))
        if budget < 8:
            raise TranslationFailed(kind, f"the model's context ({self.engine.context_tokens} tokens) is too small", True)
        return budget

    def translate_piece(self, text: str, kind: str) -> str:
        lines = self.glossary.prompt_lines(text)
        messages = translation_messages(text, kind=kind, glossary_lines=lines)
        key = cache_key(
            text,
            engine=self.engine.name,
            model=self.engine.model,
            kind=kind,
            prompt=f"v{PROMPT_VERSION}\n" + "\n".join(lines),
        )
        self.pieces += 1
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        tokens = self.engine.count_tokens(text)
        room = self.engine.context_tokens - self.engine.count_tokens(messages[0]["content"]) - tokens - 48
        max_tokens = max(16, min(room, int(self.output_ratio * tokens) + 64))
        answer = ask(
            self.engine,
            messages,
            lambda reply, strict: check_translation(reply, text, strict),
            max_tokens=max_tokens,
            policy=self.policy,
            stats=self.stats,
        )
        self.cache.put(
            key, source=text, translation=answer, engine=self.engine.name, model=self.engine.model,
            kind=kind, version=self.engine.version,
        )
        return answer

    def translate(self, text: str | None, kind: str = "body") -> str:
        """``text`` in English: split at paragraphs (and sentences where one is too long), each piece
        translated (or taken from the cache), joined back in order. Raises :class:`TranslationFailed`."""
        if not text or not text.strip():
            return ""
        pieces = plan_pieces(text, self.piece_budget(text, kind), self.engine.count_tokens)
        translations = []
        for piece in pieces:
            try:
                translations.append(self.translate_piece(piece.text, kind))
            except CallFailed as e:
                where = f"paragraph {piece.paragraph + 1}" + (f" part {piece.part + 1}" if piece.part else "")
                raise TranslationFailed(kind, f"{where}: {e}", e.fatal) from e
        joined = join_pieces(pieces, translations)
        return " ".join(joined.split("\n\n")) if kind == "title" else joined


def make_translator(
    db: sqlite_utils.Database,
    engine: Engine,
    *,
    glossary: Glossary | None = None,
    policy: RetryPolicy | None = None,
    reuse_cache: bool = True,
    output_ratio: float = 2.0,
) -> Translator:
    return Translator(
        engine=engine,
        glossary=glossary or load_glossary(),
        cache=TranslationCache(db, reuse=reuse_cache),
        policy=policy or RetryPolicy(),
        output_ratio=output_ratio,
    )


def translate_document(db: sqlite_utils.Database, translator: Translator, doc_id: int) -> tuple[str, int]:
    """Translate one document's title and body and store them; returns (outcome, glossary violations).

    Outcomes: ``translated``; ``failed`` (what did translate is stored, the reason goes to
    ``translation_error``); ``changed`` (a crawl rewrote the Chinese meanwhile: nothing stored, the
    document stays pending); ``gone`` (deleted meanwhile). A fatal engine error is raised.
    """
    row = db.execute("SELECT title, resulting_text FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None:
        return "gone", 0
    title, body = row
    engine = translator.engine
    values: dict[str, str | None] = {}
    error: TranslationFailed | None = None
    try:
        values = {"translated_title": translator.translate(title, "title"), **provenance("translated_title", engine)}
        content = translator.translate(body, "body")
        values.update(translated_content=content, **provenance("translated_content", engine))
    except TranslationFailed as e:
        if e.fatal:
            raise
        error = e
    with write_transaction(db):
        now = db.execute("SELECT title, resulting_text FROM documents WHERE id = ?", [doc_id]).fetchone()
        if now is None:
            return "gone", 0
        if tuple(now) != (title, body):
            return "changed", 0
        values["translation_error"] = f"{now_iso()} {engine.name}/{engine.model}: {error}" if error else None
        update_document_fields(db, doc_id, values)
        violations = record_glossary_check(
            db,
            doc_id,
            translator.glossary,
            [("title", title, values.get("translated_title")), ("content", body, values.get("translated_content"))],
        )
    return ("failed" if error else "translated"), violations


def pending_translation_ids(db: sqlite_utils.Database, *, limit: int | None = None, redo: bool = False) -> list[int]:
    """Documents to translate, oldest first, those that failed before last."""
    where = _NOT_ENGLISH if redo else f"{_NOT_ENGLISH} AND {_UNTRANSLATED}"
    sql = f"SELECT id FROM documents WHERE {where} ORDER BY translation_error IS NOT NULL, id"
    params: list[int] = []
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [r[0] for r in db.execute(sql, params)]


def translate_pending(
    db: sqlite_utils.Database,
    engine: Engine | None,
    *,
    limit: int | None = None,
    redo: bool = False,
    progress: Progress | None = None,
    glossary: Glossary | None = None,
    policy: RetryPolicy | None = None,
    reuse_cache: bool = True,
) -> Counter:
    """Translate the pending documents with ``engine``; returns the counts (also logged in
    ``crawl_runs`` as a run of kind "translate").

    ``engine`` None (the ``none`` engine) translates nothing: the counts say how many wait.
    ``redo`` translates documents that have a translation already too (paragraphs already in the
    cache for this engine and model are not sent again, so a killed redo catches up quickly).
    """
    ids = pending_translation_ids(db, limit=limit, redo=redo)
    if engine is None:
        return Counter(pending=len(ids))
    ensure_tables(db)
    translator = make_translator(db, engine, glossary=glossary, policy=policy, reuse_cache=reuse_cache)
    arguments = {"engine": engine.name, "model": engine.model, "version": engine.version, "limit": limit, "redo": redo}
    close_abandoned_runs(db)
    run_id = start_run(db, "translate", arguments)
    counts: Counter = Counter()
    started = time.monotonic()
    status, run_error = "finished", None
    try:
        for done, doc_id in enumerate(ids, 1):
            outcome, violations = translate_document(db, translator, doc_id)
            counts[outcome] += 1
            counts["glossary_violations"] += violations
            for key, total in _translator_counts(translator).items():
                counts[key] = total
            update_run_counts(db, run_id, run_counts(counts, started))
            if progress:
                progress(done, len(ids), outcome)
    except TranslationFailed as e:  # fatal: no document will translate (bad key, model gone...)
        status, run_error = "failed", str(e)
        counts["fatal"] += 1
        raise
    except BaseException as e:
        status, run_error = ("interrupted" if isinstance(e, KeyboardInterrupt) else "failed"), repr(e)
        raise
    finally:
        finish_run(db, run_id, status, run_counts(counts, started), run_error)
    return counts


def _translator_counts(translator: Translator) -> dict[str, int]:
    """The running totals of a translator, as counts (set, not added)."""
    return {
        "pieces": translator.pieces,
        "cache_hits": translator.cache.hits,
        "calls": translator.stats.calls,
        "retries": translator.stats.retries,
        "bad_answers": translator.stats.bad_answers,
    }
