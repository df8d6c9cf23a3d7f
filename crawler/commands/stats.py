"""``corpus stats``: what the corpus holds."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.columns import Columns
from rich.table import Table

from ..store import corpus_stats
from ..store.stats import run_summary
from .common import console, corpus, db_option


def _table(title: str, counts: dict[str, int], limit: int = 15) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column(title.split()[-1])
    table.add_column("n", justify="right")
    items = list(counts.items())
    for key, n in items[:limit]:
        table.add_row(key, f"{n:,}")
    if len(items) > limit:
        table.add_row(f"… {len(items) - limit} more", f"{sum(n for _, n in items[limit:]):,}")
    return table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@db_option
def stats(as_json: bool, db_path: Path) -> None:
    """Counts of documents by section, year, language and translation state, captures by outcome,
    and the last run."""
    with corpus(db_path) as db:
        s = corpus_stats(db)
    if as_json:
        click.echo(json.dumps(s.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(
        f"[bold]{s.path}[/]: {s.documents:,} documents from {s.captures:,} captures, "
        f"{s.size_bytes / 1e6:.1f} MB, schema v{s.schema_version}"
    )
    console.print(
        Columns(
            [
                _table("by section", s.by_section),
                _table("by year", s.by_year),
                _table("by language", s.by_language),
                _table("by translation", s.by_translation),
                _table("by summary", s.by_summary),
                _table("captures by outcome", s.captures_by_outcome),
            ],
            padding=(1, 4),
        )
    )
    if s.pending_translation:
        console.print(
            f"{s.pending_translation:,} document(s) wait for an English translation: "
            "run `corpus translate --engine openai` (any OpenAI-compatible server: set OPENAI_BASE_URL, "
            "OPENAI_API_KEY, CORPUS_MODEL) or `--engine llamacpp --model PATH.gguf` for offline work."
        )
    if s.last_run:
        r = s.last_run
        counts = run_summary(r.get("counts") or {})
        console.print(f"last run: #{r['id']} {r['kind']} {r['status']} ({r['started_at']} → {r.get('finished_at') or '…'}) {counts}")
