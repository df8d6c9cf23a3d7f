"""The replay server: a threaded HTTP server on 127.0.0.1 that answers like web.archive.org.

Routes: ``/cdx/search/cdx``, ``/web/<ts><mod>/<url>``, ``/web/timemap/link/<url>``,
``/web/timemap/json?url=...`` and ``/wayback/available?url=...``. Answers are transfer-gzipped when
the client accepts gzip and the status is 200, 403 or 404 (what web.archive.org's nginx does).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from crawler.replay import cdx, pages, playback
from crawler.replay.captures import CaptureStore
from crawler.replay.faults import Faults, Gate, Stats
from crawler.replay.pages import Reply

log = logging.getLogger("crawler.replay")

LOOPBACK = "127.0.0.1"
_GZIPPED_STATUSES = (200, 403, 404)
_GATEWAY_ERRORS = (502, 503, 504)


def _endpoint(path: str) -> tuple[str, str | None]:
    """(endpoint name for the stats, rate-limit pool or None)."""
    if path == "/cdx/search/cdx":
        return "cdx", "cdx"
    if path.startswith("/web/timemap/"):
        return "timemap", "cdx"
    if path == "/wayback/available":
        return "available", "cdx"
    if path.startswith("/web/"):
        return "playback", "playback"
    return "other", None


def _reset(sock: socket.socket) -> None:
    """Drop a connection with a TCP RST and no HTTP answer, as a firewall block looks to a client."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class ReplayServer(ThreadingHTTPServer):
    """Serves a ``CaptureStore``. ``server.stats`` counts what happened; ``server.base_url`` is its root."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self,
        store: CaptureStore | None = None,
        port: int = 0,
        host: str = LOOPBACK,
        faults: Faults | None = None,
        max_cdx_limit: int = cdx.DEFAULT_MAX_LIMIT,
    ):
        if host != LOOPBACK:
            raise ValueError(f"the replay server binds {LOOPBACK} only, not {host!r}")
        self.store = store if store is not None else CaptureStore()
        self.faults = faults or Faults()
        self.gate = Gate(self.faults)
        self.stats = Stats()
        self.max_cdx_limit = max_cdx_limit
        self._thread: threading.Thread | None = None
        super().__init__((host, port), ReplayHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def verify_request(self, request, client_address) -> bool:
        if self.gate.is_banned(client_address[0]):
            self.stats.incr("connections_refused")
            _reset(request)
            return False
        return True

    def start(self) -> ReplayServer:
        """Serve from a background thread; returns self."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=f"replay:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait for an ACK between
    server_version = "nginx"
    sys_version = ""
    timeout = 60
    server: ReplayServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.client_address[0], format % args)

    def _handle(self, head: bool) -> None:
        server = self.server
        stats, gate = server.stats, server.gate
        path, _, query = self.path.partition("?")
        endpoint, pool = _endpoint(path)
        stats.incr("requests")
        stats.incr(f"requests_{endpoint}")
        client = self.client_address[0]
        verdict = gate.check(client, pool)
        if verdict in (Gate.BAN, Gate.BANNED):
            stats.incr("bans_started" if verdict == Gate.BAN else "connections_refused")
            self._drop()
            return
        if verdict == Gate.LIMIT:
            stats.incr("served_429")
            reply = pages.rate_limited()
        elif gate.chance(server.faults.error_rate):
            stats.incr("injected_5xx")
            reply = pages.server_error(gate.pick(_GATEWAY_ERRORS))
        else:
            try:
                reply = self._dispatch(endpoint, path, query)
            except Exception:
                log.exception("replay failed for %s", self.path)
                stats.incr("internal_errors")
                reply = Reply(500, "Internal Server Error", [("Content-Type", "text/plain")], b"replay error\n")
        self._send(reply, head)

    def _drop(self) -> None:
        self.close_connection = True
        _reset(self.connection)

    def _dispatch(self, endpoint: str, path: str, query: str) -> Reply:
        server = self.server
        base = server.base_url
        if endpoint == "cdx":
            return self._cdx(parse_qsl(query, keep_blank_values=True))
        if endpoint == "timemap":
            if path.startswith("/web/timemap/link/"):
                rest = self.path[len("/web/timemap/link/") :]
                return playback.timemap(server.store, base, rest)
            if path.startswith("/web/timemap/json"):
                params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "output"]
                tail = path[len("/web/timemap/json") :].lstrip("/")
                if tail:
                    params.append(("url", tail))
                return self._cdx([*params, ("output", "json")])
            return pages.not_archived(path)
        if endpoint == "available":
            params = dict(parse_qsl(query, keep_blank_values=True))
            return playback.available(server.store, base, params.get("url", ""), params.get("timestamp", ""))
        if endpoint == "playback":
            return playback.serve(server.store, base, self.path[len("/web/") :])
        return Reply(404, "Not Found", [("Content-Type", "text/plain")], b"not a Wayback Machine path\n")

    def _cdx(self, params: list[tuple[str, str]]) -> Reply:
        server = self.server
        try:
            query = cdx.parse_query(params)
            answer = cdx.run(
                server.store.index(),
                query,
                max_limit=server.max_cdx_limit,
                duplicate_rows=server.faults.duplicate_rows,
            )
        except cdx.CdxError as error:
            headers = [("Content-Type", cdx.TEXT_TYPE), *error.headers]
            reason = "Forbidden" if error.status == 403 else "Bad Request"
            return Reply(error.status, reason, headers, (error.message + "\n").encode())
        if server.faults.duplicate_rows > 1:
            server.stats.incr("duplicated_rows", len(answer.rows))
        body, content_type = cdx.render(answer, query.output)
        return Reply(200, "OK", [("Content-Type", content_type)], body, gzip=query.gzip)

    def _send(self, reply: Reply, head: bool) -> None:
        server = self.server
        faults, gate, stats = server.faults, server.gate, server.stats
        body = reply.body
        headers = list(reply.headers)
        if reply.memento and body and gate.chance(faults.gzip_bodies):
            body = gzip.compress(body, mtime=0)
            stats.incr("gzipped_bodies")
        else:
            wants_gzip = reply.gzip
            if wants_gzip is None:
                wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "").lower()
            if wants_gzip and reply.status in _GZIPPED_STATUSES:
                body = gzip.compress(body, compresslevel=1, mtime=0)
                headers.append(("Content-Encoding", "gzip"))
        truncate = len(body) > 1 and gate.chance(faults.truncate_rate)
        if faults.latency:
            time.sleep(faults.latency)
        self.send_response(reply.status, reply.reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if truncate:
            body = body[: len(body) // 2]
            stats.incr("truncated_bodies")
            self.close_connection = True
        try:
            self.wfile.write(body)
        except OSError:
            self.close_connection = True
            return
        stats.incr("bytes_served", len(body))
