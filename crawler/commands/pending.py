"""Subcommands whose work lands in later issues. Their options are the public interface already."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, not_built_yet


@click.command()
@click.option("--wayback-url", default="https://web.archive.org", show_default=True, envvar="WAYBACK_BASE_URL", help="Base URL of the Wayback Machine (or of a local replay).")
@click.option("--from", "from_", metavar="YYYY[MMDD...]", help="Oldest capture date to consider.")
@click.option("--to", metavar="YYYY[MMDD...]", help="Newest capture date to consider.")
@click.option("--translate", is_flag=True, help="Translate and summarise the new documents after the crawl.")
@db_option
@not_built_yet("crawl", 4, "the Wayback access and the MOFCOM spider")
def crawl(**kwargs: object) -> None:
    """Crawl MOFCOM's policy interpretations from the Wayback Machine into the corpus."""


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "warc"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@db_option
@not_built_yet("export", 7, "bulk export")
def export(**kwargs: object) -> None:
    """Export the corpus as JSONL, CSV, Parquet or WARC."""


@click.command()
@click.option("--port", type=int, default=8001, show_default=True)
@db_option
@not_built_yet("serve", 6, "publishing in Datasette")
def serve(**kwargs: object) -> None:
    """Serve the corpus read-only in Datasette."""


@click.command()
@click.option("--engine", type=click.Choice(["openai", "llamacpp", "none"]))
@click.option("--model")
@click.option("--limit", type=int)
@click.option("--redo", is_flag=True)
@db_option
@not_built_yet("translate", 5, "translation engines")
def translate(**kwargs: object) -> None:
    """Translate pending documents' titles and bodies into English."""


@click.command()
@click.option("--engine", type=click.Choice(["extractive", "openai", "llamacpp"]))
@click.option("--limit", type=int)
@db_option
@not_built_yet("summarize", 5, "summaries")
def summarize(**kwargs: object) -> None:
    """Write English summaries for documents that lack one."""
