"""``corpus export``: the corpus as JSONL, CSV, Parquet or WARC."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ..export import DEFAULT_OUT, FIELDS, FORMATS, STDOUT, ExportFilters
from ..export import export as export_api
from .common import console, corpus, db_option, err_console


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text("… rec/s", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:,.0f} rec/s", style="progress.data.speed")


def _print_fields() -> None:
    for f in FIELDS:
        click.echo(f"{f.name:28} {f.kind:9} {f.description}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (required unless --fields).")
@click.option("--out", help="Output file (jsonl, csv, warc; '-' for standard output: jsonl and csv) or "
              "directory (parquet). Default: " + ", ".join(f"{k}: {v}" for k, v in DEFAULT_OUT.items()) + ".")
@click.option("--since", metavar="DATE", help="Only documents published on or after DATE (YYYY, YYYY-MM or "
              "YYYY-MM-DD); the capture date counts when a page gives no publish date.")
@click.option("--until", metavar="DATE", help="Only documents published on or before DATE (inclusive: "
              "--until 2023 includes all of 2023).")
@click.option("--department", "departments", multiple=True, metavar="NAME",
              help="Only this issuing department (e.g. 服贸司); repeat for several.")
@click.option("--section", "sections", multiple=True, metavar="SECTION",
              help="Only this site section and its sub-sections (zwgk/gkzcjd, zcjd...), on any site unless "
              "prefixed with one (fms:zcjd); repeat for several.")
@click.option("--lang", "language", type=click.Choice(["zh", "en", "other"]),
              help="Only documents in this language (of the page, not of the query).")
@click.option("--query", metavar="QUERY", help="Only documents matching QUERY, searched exactly as "
              "`corpus search` does: Chinese as substrings, English stemmed over the translations.")
@click.option("--query-lang", type=click.Choice(["zh", "en"]),
              help="Search QUERY in the Chinese text (zh) or the English (en). Default: from the query.")
@click.option("--limit", type=click.IntRange(0), help="At most this many records (the first by id).")
@click.option("--with-html", is_flag=True, help="Fill `html` with the archived page, decoded with its stored "
              "charset. Large (the whole page, often several times the text), so off by default: `html` is null, as in the seed "
              "record. CSV cells over 32,767 characters do not open in Excel.")
@click.option("--shard-rows", type=click.IntRange(1), default=50_000, show_default=True,
              help="Parquet: rows per data/train-*.parquet file.")
@click.option("--fields", "list_fields", is_flag=True, help="List the exported fields with their types and "
              "meaning, then exit.")
@db_option
def export(
    fmt: str | None,
    out: str | None,
    since: str | None,
    until: str | None,
    departments: tuple[str, ...],
    sections: tuple[str, ...],
    language: str | None,
    query: str | None,
    query_lang: str | None,
    limit: int | None,
    with_html: bool,
    shard_rows: int,
    list_fields: bool,
    db_path: Path,
) -> None:
    """Export the corpus as JSONL, CSV, Parquet or WARC, streaming (memory stays flat).

    Every record carries the seed record's fields by name (title, resulting_text, input_url,
    returned_url, date, translated_title, translated_content, english_summary, html), then its
    provenance: canonical and original URL, publish, capture and requested dates, CDX digest,
    charset, extractor, language and score, and the engine, model, version and time of each
    English field (`corpus export --fields` lists them all).

    \b
    Formats:
      jsonl    one JSON object per line, UTF-8, Chinese unescaped
      csv      UTF-8 with BOM (Excel shows the Chinese), header row; links as JSON text
      parquet  typed columns in the Hugging Face layout: DIR/data/train-0000N-of-0000M.parquet
               and a dataset card DIR/README.md
      warc     a response record per stored capture (archived headers, raw bytes) and a metadata
               record with its Wayback URL and CDX row; replayable by WARC tools

    \b
    Examples:
      corpus export --format jsonl --out corpus.jsonl
      corpus export --format csv --since 2023 --department 服贸司 --out fumao-2023.csv
      corpus export --format jsonl --query 外资 --out - | jq -r .title
      corpus export --format parquet --out mofcom-hf/ --with-html
      corpus export --format warc --section zwgk/gkzcjd --out gkzcjd.warc.gz
    """
    if list_fields:
        _print_fields()
        return
    if fmt is None:
        raise click.UsageError("give --format (jsonl, csv, parquet or warc), or --fields to list the fields")
    if with_html and fmt == "warc":
        raise click.UsageError("--with-html is for jsonl, csv and parquet: a WARC always holds the raw pages")
    filters = ExportFilters(
        since=since,
        until=until,
        departments=departments,
        sections=sections,
        language=language,
        query=query,
        query_lang=query_lang,
        limit=limit,
    )
    target = out or DEFAULT_OUT[fmt]
    with corpus(db_path) as db, Progress(
        TextColumn(f"exporting {fmt}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=target == STDOUT,
    ) as bar:
        task = bar.add_task("export", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = export_api(db, fmt, target, filters, progress, with_html=with_html, shard_rows=shard_rows)  # type: ignore[arg-type]
        except (ValueError, OSError) as e:
            raise click.ClickException(str(e)) from e
    what = "capture(s)" if fmt == "warc" else "document(s)"
    where = "standard output" if not result.paths else str(result.paths[-1].parent if fmt == "parquet" else result.path)
    out_console = err_console if target == STDOUT else console
    out_console.print(
        f"exported {result.count:,} {what} as {fmt} to {where} "
        f"({_size(result.bytes)}{f', {len(result.paths) - 1} shard(s)' if fmt == 'parquet' else ''}) "
        f"in {result.seconds:.1f} s"
    )


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
