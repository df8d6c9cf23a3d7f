"""The ``corpus`` command line: each subcommand is a thin shell over the Python API in crawler.*."""

from __future__ import annotations

import click

from . import __version__
from .commands.crawl import crawl
from .commands.export import export
from .commands.load import load
from .commands.search import search
from .commands.serve import serve
from .commands.stats import stats
from .commands.translate import summarize, translate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="corpus")
def cli() -> None:
    """Build and query a corpus of MOFCOM's policy interpretations (政策解读), archived by the
    Wayback Machine, with English translations and summaries.

    \b
    Typical session:
      corpus crawl --db corpus.db          # fetch and extract from the Wayback Machine
      corpus translate                     # add English title, body and summary
      corpus search 外资                    # Chinese search, any query length
      corpus search "tariff" --lang en     # English search, stemmed
      corpus stats                         # what the corpus holds
      corpus export --format jsonl --out corpus.jsonl
      corpus serve                         # browse it in Datasette

    Every command takes --db PATH (default corpus.db, or $CORPUS_DB).
    """


for command in (crawl, search, stats, export, serve, translate, summarize, load):
    cli.add_command(command)

if __name__ == "__main__":
    cli()
