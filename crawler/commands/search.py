"""``corpus search``: full-text search in Chinese or English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from rich.table import Table

from ..store import search as search_api
from .common import console, corpus, db_option


@click.command()
@click.argument("query")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Search the Chinese text (zh) or the English translation (en). Default: zh when QUERY has Chinese characters, else en.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="At most this many hits.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many hits (paging).")
@click.option("--sort", type=click.Choice(["newest", "oldest", "rank"]), default="newest", show_default=True,
              help="Order of hits: by publish date (capture date when the page gives none), or by relevance (FTS5 bm25).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit and line: url, wayback_url, title, translated_title, date, snippet, rank (position), score (bm25 with --sort rank).")
@db_option
def search(query: str, lang: str | None, limit: int, offset: int, sort: str, as_json: bool, db_path: Path) -> None:
    """Search the corpus for QUERY, newest documents first (or --sort rank).

    Chinese queries match as exact substrings of the title or body, whatever their length:
    外资, 关税 and 数字化赋能 all work. Several terms separated by spaces must all occur.
    English queries search the English title, translation and summary, stemmed: "tariff"
    also finds "tariffs".

    \b
    Examples:
      corpus search 外资
      corpus search "数字化 赋能" --limit 5
      corpus search "digital empowerment" --lang en --json
    """
    with corpus(db_path) as db:
        hits = search_api(db, query, lang=lang, limit=limit, offset=offset, sort=sort)
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        return
    if not hits:
        console.print(f"No documents match [bold]{query}[/].")
        return
    table = Table(show_lines=True, title=f"{len(hits)} hit(s) for {query}")
    table.add_column("#", justify="right")
    table.add_column("date", no_wrap=True)
    table.add_column("title / snippet")
    for hit in hits:
        snippet = re.sub(r"</?b>", lambda m: "[/bold yellow]" if m.group(0) == "</b>" else "[bold yellow]", _escape(hit.snippet))
        title = hit.title if hit.lang == "zh" else (hit.translated_title or hit.title)
        table.add_row(str(hit.rank), hit.date or "", f"[bold]{_escape(title or '')}[/]\n{snippet}\n[dim]{hit.wayback_url or hit.url}[/]")
    console.print(table)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
