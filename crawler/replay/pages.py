"""Answers the Wayback Machine makes itself (no ``Memento-Datetime``): "Hrm." 404, "Sorry." exclusion,
live 429, 5xx, and the view-mode page for an archived redirect. Short pages with the recorded wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

HTML_UTF8 = "text/html; charset=utf-8"


@dataclass
class Reply:
    """One HTTP answer. ``memento`` marks an archived payload (faults may gzip or truncate it)."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    memento: bool = False
    gzip: bool | None = None  # transfer compression: None follows Accept-Encoding


def _page(title: str, inner: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <title>Wayback Machine</title>\n  </head>\n"
        f"  <body>\n    <div id=\"positionHome\">\n{inner}\n    </div>\n"
        "    <footer><p>The Wayback Machine is an initiative of the Internet Archive (local replay).</p></footer>\n"
        "  </body>\n</html>\n"
    ).encode()


def not_archived(url: str) -> Reply:
    """``404 NOT FOUND``: the URL has no capture at all."""
    link = escape(url, quote=True)
    body = _page(
        "Hrm.",
        '<div id="error">\n<h2>Hrm.</h2>\n<p>The Wayback Machine has not archived that URL.</p>\n'
        "    <p>Click here to search for all archived pages under\n"
        f'      <a href="/web/*/{link}*">{escape(url)}</a>.\n    </p>\n</div>',
    )
    return Reply(404, "NOT FOUND", [("Content-Type", HTML_UTF8)], body)


def excluded(url: str) -> Reply:
    """``200 OK`` without ``Memento-Datetime``: the site is excluded (as recorded in 2020)."""
    body = _page(
        "Sorry.",
        f'<div id="error">\n  <h2>Sorry.</h2>\n  <p>This URL has been excluded from the Wayback Machine.</p>\n'
        f"  <!-- {escape(url)} -->\n</div>",
    )
    return Reply(200, "OK", [("Content-Type", HTML_UTF8)], body)


def rate_limited() -> Reply:
    """The live 429: HTML, no ``Retry-After``, no ``Memento-Datetime``."""
    body = (
        b"<html><body><h1>429 Too Many Requests</h1>\n"
        b"You have sent too many requests in a given amount of time.\n</body></html>\n"
    )
    return Reply(429, "Too Many Requests", [("Content-Type", "text/html"), ("Cache-Control", "no-cache")], body)


_GATEWAY = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}


def server_error(status: int) -> Reply:
    """An nginx-style 502/503/504 page."""
    reason = _GATEWAY.get(status, "Internal Server Error")
    body = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()
    return Reply(status, reason, [("Content-Type", "text/html")], body)


def view_mode_redirect(original: str, when: str, status: int, location: str, target_path: str, src: str) -> Reply:
    """View mode (no modifier) shows an archived redirect as a 200 page that redirects after 5 s."""
    href = escape(target_path, quote=True)
    body = _page(
        "Redirecting",
        '<div id="error">\n  <script type="text/javascript">\n    function go() {\n'
        f'      document.location.href = "{href}";\n    }}\n    window.setTimeout(go,  5000);\n  </script>\n'
        f'  <p class="code">Loading...</p>\n  <p class="code shift target">{escape(original)} |\n    {escape(when)}</p>\n'
        f'  <p class="code shift red">Got an HTTP {status} response at crawl time</p>\n'
        f'  <p class="code">Redirecting to...</p>\n  <p class="code shift target">{escape(location)}</p>\n'
        f'  <p class="impatient"><a href="{href}">Impatient?</a></p>\n</div>',
    )
    return Reply(200, "OK", [("Content-Type", HTML_UTF8), ("X-Archive-Src", src)], body)


def bad_request(message: str, content_type: str = "text/plain;charset=UTF-8") -> Reply:
    return Reply(400, "Bad Request", [("Content-Type", content_type)], (message + "\n").encode())
