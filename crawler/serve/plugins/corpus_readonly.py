"""Datasette plugin: the served corpus is read-only for visitors, at two levels.

- HTTP: only GET, HEAD and OPTIONS are answered; any other method (a POSTed form, a write API call,
  a canned query posted to) gets 405 before Datasette sees it.
- SQLite: every connection to the corpus runs with ``PRAGMA query_only``, on top of Datasette's own
  ``mode=ro`` (or ``immutable=1``) and its SELECT-only rule for visitors' SQL, so even a connection
  opened for writing cannot change the file.
"""

from datasette import hookimpl

CORPUS_DATABASE = "corpus"
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@hookimpl
def prepare_connection(conn, database, datasette):
    if database == CORPUS_DATABASE:
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def read_only(scope, receive, send):
            if (
                scope.get("type") == "http"
                and scope.get("method", "GET").upper() not in READ_METHODS
                and CORPUS_DATABASE in datasette.databases  # another Datasette in this process: not ours
            ):
                await send({
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD, OPTIONS")],
                })
                await send({"type": "http.response.body", "body": b"This corpus is served read-only.\n"})
                return
            await app(scope, receive, send)

        return read_only

    return wrap
