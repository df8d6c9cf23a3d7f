"""``corpus translate`` and ``corpus summarize``: English for every record."""

from __future__ import annotations

import click

from .common import db_option, not_built_yet


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
