"""``corpus crawl``: the Wayback Machine into the corpus."""

from __future__ import annotations

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
