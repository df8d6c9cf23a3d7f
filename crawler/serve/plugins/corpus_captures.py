"""Datasette plugin: the ``captures`` table view leaves out the raw page (``body``) unless asked.

A page of 100 captures would otherwise read and send megabytes of compressed HTML that no one reads
in a table. ``?_col=...`` or ``?_nocol=...`` in the address choose the columns as usual (``?_col=body``
shows it); a capture's own row page always shows everything.
"""

import re
from urllib.parse import parse_qsl

from datasette import hookimpl

CORPUS_DATABASE = "corpus"
_CAPTURES_TABLE = re.compile(r"^/corpus/captures(\.[a-z]+)?$")


def _without_body(query_string: bytes) -> bytes:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if any(key in ("_col", "_nocol") for key, _ in pairs):
        return query_string
    return query_string + (b"&" if query_string else b"") + b"_nocol=body"


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def captures_without_body(scope, receive, send):
            if (
                scope.get("type") == "http"
                and _CAPTURES_TABLE.match(scope.get("path", ""))
                and CORPUS_DATABASE in datasette.databases
            ):
                scope = {**scope, "query_string": _without_body(scope.get("query_string", b""))}
            await app(scope, receive, send)

        return captures_without_body

    return wrap
