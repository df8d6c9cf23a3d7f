"""``corpus serve``: the corpus in Datasette."""

from __future__ import annotations

import click

from .common import db_option, not_built_yet


@click.command()
@click.option("--port", type=int, default=8001, show_default=True)
@db_option
@not_built_yet("serve", 6, "publishing in Datasette")
def serve(**kwargs: object) -> None:
    """Serve the corpus read-only in Datasette."""
