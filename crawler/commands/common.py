"""What every subcommand shares: the --db option, opening the corpus, turning errors into messages."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import sqlite_utils
from rich.console import Console

from ..store import CorpusError, open_corpus

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DEFAULT_DB = "corpus.db"


def db_option(func: Callable) -> Callable:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_DB,
        show_default=True,
        envvar="CORPUS_DB",
        help="The corpus file (SQLite). Also read from $CORPUS_DB.",
    )(func)


@contextlib.contextmanager
def corpus(path: Path, *, create: bool = False, readonly: bool = False) -> Iterator[sqlite_utils.Database]:
    """Open the corpus for a command, turning store errors into clean CLI errors."""
    try:
        db = open_corpus(path, create=create, readonly=readonly)
    except CorpusError as e:
        raise click.ClickException(str(e)) from e
    try:
        yield db
    finally:
        db.close()


def not_built_yet(command: str, issue: int, what: str) -> Callable:
    """A command whose implementation has not landed yet: it says so and exits with status 3."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            err_console.print(
                f"[bold red]corpus {command} is not built yet[/] ({what}; tracked as issue #{issue})."
            )
            raise SystemExit(3)

        return wrapper

    return decorator
