"""``corpus load``: import records in the seed record's shape (JSON or JSON Lines)."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..store import load_records, read_records
from .common import console, corpus, db_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1), default=500, show_default=True, help="Records per transaction.")
@db_option
def load(files: tuple[Path, ...], batch_size: int, db_path: Path) -> None:
    """Import records from FILES (JSON Lines, a JSON list, or one JSON record) into the corpus.

    Records carry the seed record's fields (title, resulting_text, input_url, returned_url, date,
    translated_title, translated_content, english_summary, html), as `corpus export --format jsonl`
    writes them. Loading is idempotent: a record already stored is left as it is, and a load that
    was killed completes when run again.

    \b
    Example:
      corpus load tests/fixtures/seed-record.json
    """
    with corpus(db_path, create=True) as db:
        for path in files:
            with Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console, transient=True,
            ) as progress:
                task = progress.add_task(path.name, total=None)
                try:
                    counts = load_records(
                        db, read_records(path), batch_size=batch_size, source=str(path),
                        progress=functools.partial(progress.advance, task),
                    )
                except ValueError as e:
                    raise click.ClickException(str(e)) from e
            summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            console.print(f"{path}: {summary}")
