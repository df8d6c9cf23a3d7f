"""``corpus translate`` and ``corpus summarize``: English for every record."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..english import (
    EngineError,
    TranslationFailed,
    load_glossary,
    resolve_config,
    summarize_pending,
    translate_pending,
)
from ..english.calls import CallFailed
from ..english.glossary import GlossaryError
from .common import console, corpus, db_option

SETUP_HELP = (
    "set up an engine: `--engine openai --model NAME` with $OPENAI_BASE_URL (any OpenAI-compatible "
    "server: Ollama, vLLM, llama.cpp's server; leave it unset for the OpenAI API) and $OPENAI_API_KEY, "
    "or `--engine llamacpp --model PATH.gguf` for offline work; $CORPUS_ENGINE and $CORPUS_MODEL, or "
    "an [english] table in corpus.toml, set the same once."
)


@contextlib.contextmanager
def _progress(what: str) -> Iterator:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(what, total=None, last="")

        def update(done: int, total: int, outcome: str) -> None:
            bar.update(task, completed=done, total=total, last=outcome)

        yield update


def _show(what: str, counts: Counter) -> None:
    shown = ", ".join(f"{key} {value:,}" for key, value in sorted(counts.items()) if value)
    console.print(f"{what}: {shown or 'nothing to do'}")


def _engine(engine: str | None, model: str | None, *, extractive: bool = False):
    """The configuration, the engine (None for none or extractive) and the glossary, or a clean error."""
    try:
        config = resolve_config(engine, model)
        chosen = None if extractive else config.make_engine()
        return config, chosen, load_glossary(config.glossary)
    except (EngineError, GlossaryError, OSError) as e:
        raise click.ClickException(str(e)) from e


@click.command()
@click.option("--engine", type=click.Choice(["openai", "llamacpp", "none"]), help="Translation engine (default: $CORPUS_ENGINE, the config file, else none).")
@click.option("--model", help="Model: the server's model name (openai), or a GGUF path, folder, package or hub repo owner/name (llamacpp). Default: $CORPUS_MODEL.")
@click.option("--limit", type=click.IntRange(1), help="Translate at most N documents in this run.")
@click.option("--redo", is_flag=True, help="Translate documents that already have a translation too (paragraphs in the cache for this engine and model are reused).")
@click.option("--no-cache", is_flag=True, help="Send every paragraph to the model again (the cache is refreshed, not read).")
@click.option("--summary/--no-summary", default=True, show_default=True, help="Then write English summaries (abstractive with an engine, else extractive).")
@db_option
def translate(
    engine: str | None, model: str | None, limit: int | None, redo: bool, no_cache: bool, summary: bool, db_path: Path
) -> None:
    """Translate pending documents' titles and bodies into English, then summarise them.

    Pending: not an English page, and no English title or body yet (or a failed try). Each document
    is stored as soon as it is done, so a killed run loses at most the one in flight and the next
    run goes on from there; a crawl may write to the same corpus meanwhile. Every field records the
    engine, model, version and time that made it; the glossary of department names and policy
    terms (crawler/english/glossary.tsv, or $CORPUS_GLOSSARY) is given to the model, and the check
    afterwards counts the names it missed.

    \b
    Examples:
      corpus translate --engine openai --model gpt-4o-mini          # $OPENAI_API_KEY set
      OPENAI_BASE_URL=http://127.0.0.1:11434/v1 corpus translate --engine openai --model qwen2.5:7b
      corpus translate --engine llamacpp --model ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf --limit 20
      corpus translate --engine none                                  # how many wait
    """
    config, chosen, glossary = _engine(engine, model)
    with corpus(db_path) as db:
        if chosen is None:
            counts = translate_pending(db, None, limit=limit, redo=redo)
            console.print(f"{counts['pending']:,} document(s) wait for an English translation; {SETUP_HELP}")
        else:
            console.print(f"engine {chosen.name}, model {chosen.model} ({chosen.version}; from {config.source})")
            try:
                with _progress("translating") as update:
                    counts = translate_pending(
                        db, chosen, limit=limit, redo=redo, progress=update, glossary=glossary, reuse_cache=not no_cache
                    )
            except (TranslationFailed, EngineError) as e:
                raise click.ClickException(f"translation stopped: {e}") from e
            _show("translated", counts)
            if counts["failed"]:
                console.print("failed documents keep the reason in documents.translation_error and are tried again next run.")
        if summary:
            _summarize(db, chosen, limit=limit, redo=False, glossary=glossary)


def _summarize(db, chosen, *, limit, redo, glossary) -> None:
    try:
        with _progress("summarising") as update:
            counts = summarize_pending(db, chosen, limit=limit, redo=redo, progress=update, glossary=glossary)
    except (CallFailed, EngineError) as e:
        raise click.ClickException(f"summaries stopped: {e}") from e
    _show("summaries", counts)
    if counts["no_english_text"]:
        console.print(
            f"{counts['no_english_text']:,} document(s) have no English text to summarise yet: translate them first, "
            "or give summarize an LLM engine for an abstractive summary from the Chinese."
        )


@click.command()
@click.option("--engine", type=click.Choice(["extractive", "openai", "llamacpp"]), help="extractive (sumy LexRank over the English text, offline) or an LLM engine for abstractive summaries from the Chinese. Default: $CORPUS_ENGINE or the config file's engine, else extractive.")
@click.option("--model", help="Model for an LLM engine (as for corpus translate). Default: $CORPUS_MODEL.")
@click.option("--limit", type=click.IntRange(1), help="Summarise at most N documents in this run.")
@click.option("--redo", is_flag=True, help="Replace existing summaries too (with an LLM engine: all of them; extractive: the extractive ones).")
@db_option
def summarize(engine: str | None, model: str | None, limit: int | None, redo: bool, db_path: Path) -> None:
    """Write English summaries for documents that lack one.

    Extractive summaries (the three most central sentences, LexRank) need an English text: the
    translation, or the page itself for English pages. With an LLM engine the summary is
    abstractive, 3-5 sentences written from the Chinese text, and replaces extractive ones; where
    the engine fails on a document, the extractive summary stands in. english_summary_kind says
    which kind each record holds.

    \b
    Examples:
      corpus summarize                                  # extractive, offline
      corpus summarize --engine openai --model gpt-4o-mini
      corpus summarize --engine llamacpp --model model.gguf --limit 10
    """
    config, chosen, glossary = _engine(None if engine == "extractive" else engine, model, extractive=engine == "extractive")
    with corpus(db_path) as db:
        if chosen is not None:
            console.print(f"engine {chosen.name}, model {chosen.model} ({chosen.version}; from {config.source})")
        _summarize(db, chosen, limit=limit, redo=redo, glossary=glossary)
