"""``corpus crawl``: the Wayback Machine into the corpus."""

from __future__ import annotations

from pathlib import Path

import click

from .common import console, db_option, err_console


def _timestamp(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    digits = value.replace("-", "")
    if not digits.isdigit() or not 4 <= len(digits) <= 14:
        raise click.BadParameter("give a date as YYYY, YYYYMM, YYYYMMDD or YYYY-MM-DD (up to 14 digits)")
    return digits


@click.command()
@click.option("--wayback-url", default="https://web.archive.org", show_default=True, envvar="WAYBACK_BASE_URL",
              help="Base URL of the Wayback Machine, or of a local replay (python -m crawler.replay).")
@click.option("--from", "from_", metavar="DATE", callback=_timestamp, help="Only captures made on or after DATE (YYYY[MM[DD]]).")
@click.option("--to", metavar="DATE", callback=_timestamp, help="Only captures made on or before DATE.")
@click.option("--capture", type=click.Choice(["newest", "oldest"]), default="newest", show_default=True,
              help="Which capture of an article becomes the document; the others stay in `captures`.")
@click.option("--as-of", metavar="TIMESTAMP", callback=_timestamp,
              help="Take each article as the archive stood at TIMESTAMP: request it at that time and keep the "
                   "nearest capture the Wayback Machine answers with (records keep both timestamps).")
@click.option("--sources", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML file of [[prefix]] url = ... entries to crawl instead of the built-in list.")
@click.option("--prefix", "prefixes", multiple=True, metavar="URL",
              help="Crawl only this CDX prefix (repeatable), e.g. www.mofcom.gov.cn/article/zwgk/gkzcjd/.")
@click.option("--cdx-rate", type=float, metavar="N", help="CDX requests per minute (default 24: the archive's own advice).")
@click.option("--playback-rate", type=float, metavar="N", help="Playback requests per second (default in crawler/settings.py).")
@click.option("--workers", metavar="N|auto",
              help="Processes that extract pages while the crawl fetches: a number, or auto (the default: one per "
                   "core beyond the engine's). 0 extracts in the crawl's own process.")
@click.option("--translate", is_flag=True, help="Translate and summarise the new documents after the crawl (see `corpus translate`).")
@click.option("--engine", type=click.Choice(["openai", "llamacpp", "none"]),
              help="With --translate: the translation engine (default as for `corpus translate`).")
@click.option("--model", help="With --translate: the model (as for `corpus translate`).")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Any Scrapy/crawler setting, as `scrapy crawl -s`.")
@db_option
def crawl(wayback_url: str, from_: str | None, to: str | None, capture: str, as_of: str | None, sources: Path | None,
          prefixes: tuple[str, ...], cdx_rate: float | None, playback_rate: float | None, workers: str | None, translate: bool,
          engine: str | None, model: str | None, settings: tuple[str, ...], db_path: Path) -> None:
    """Crawl MOFCOM's policy interpretations from the Wayback Machine into the corpus.

    Discovers articles with CDX prefix queries over every column interpretations have lived in
    (crawler/sources.toml), fetches the chosen capture of each with `id_` playback, extracts and
    stores it. Politeness follows the archive's limits (24 CDX requests a minute; a live 429
    pauses all traffic for a minute); a capture already in the corpus is never fetched again, so
    running the same crawl twice only re-reads the CDX index.

    \b
    Examples:
      corpus crawl                                    # everything, into corpus.db
      corpus crawl --from 2020 --to 2024 --prefix www.mofcom.gov.cn/article/zwgk/gkzcjd/
      python -m crawler.replay --captures tests/fixtures/captures --port 8765 &
      corpus crawl --wayback-url http://127.0.0.1:8765 --db demo.db
    """
    from ..crawl import run_crawl
    from ..store import CorpusError

    overrides: dict[str, object] = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--set")
        overrides[name] = value
    if cdx_rate is not None:
        overrides["WAYBACK_CDX_RATE"] = cdx_rate
        overrides["WAYBACK_RATE_WINDOW"] = 60
    if playback_rate is not None:
        overrides["WAYBACK_PLAYBACK_RATE"] = playback_rate
        overrides["WAYBACK_PLAYBACK_WINDOW"] = 1
    if workers is not None:
        from ..extraction import worker_count

        try:
            worker_count(workers)
        except ValueError as e:
            raise click.BadParameter(f"{workers!r}: a number of processes (0 or more) or 'auto'", param_hint="--workers") from e
        overrides["CORPUS_EXTRACT_WORKERS"] = workers
    try:
        outcome = run_crawl(db_path, wayback_url=wayback_url, from_ts=from_, to_ts=to, capture=capture, as_of=as_of,
                            sources=sources, prefixes=list(prefixes) or None, overrides=overrides)
    except CorpusError as e:
        raise click.ClickException(str(e)) from e
    console.print(f"run #{outcome.run_id}: {outcome.status}")
    if translate:
        from .translate import translate as translate_command

        click.get_current_context().invoke(
            translate_command, engine=engine, model=model, limit=None, redo=False, no_cache=False, summary=True,
            db_path=db_path,
        )
    if outcome.status != "finished":
        err_console.print(f"[red]the crawl ended {outcome.status}[/]: see `corpus stats --db {db_path}` and the log above")
        raise SystemExit(1)
