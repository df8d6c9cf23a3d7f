"""``corpus export``: the corpus as JSONL, CSV, Parquet or WARC."""

from __future__ import annotations

from pathlib import Path

import click

from .common import db_option, not_built_yet


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "warc"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@db_option
@not_built_yet("export", 7, "bulk export")
def export(**kwargs: object) -> None:
    """Export the corpus as JSONL, CSV, Parquet or WARC."""
