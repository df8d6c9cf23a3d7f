"""The context the crawl starts its helper processes in: the extraction workers and the writer.

A fork server, not plain fork: the crawl's process runs threads (Scrapy's DNS resolver, the
reactor's), and forking a threaded process can copy a held lock into the child.

Each child of the fork server first runs its parent's main module again (multiprocessing's rule for
spawned processes), so the server preloads what our entry points' main modules import: ``corpus``
(``crawler.cli``), ``scrapy`` (``scrapy.cmdline``) and ``python -m <module>`` (that module). A worker
then starts in about 10 ms instead of 250-350 ms. (``"__main__"`` in the preload list would do nothing
on Python 3.11: the fork server is never told the main module's path.)
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.context import BaseContext

PRELOAD = ["crawler.extract", "crawler.writer", "crawler.cli", "scrapy.cmdline"]


def preload_modules() -> list[str]:
    """The modules the fork server imports once, for every child it starts."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is None or spec.name.endswith("__main__") or spec.name in PRELOAD:
        return list(PRELOAD)
    return [*PRELOAD, spec.name]


def forkserver_context() -> BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload_modules())
    return context
