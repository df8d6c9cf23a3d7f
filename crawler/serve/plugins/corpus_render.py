"""Datasette plugin: how corpus values look in the browser.

- Template filters for the document page (``row-corpus-documents.html``): ``paragraphs``,
  ``json_links``, ``web_url``, ``ts14``.
- Query results (the canned searches and lists): a title links to its document page, a department
  to its documents, a Wayback URL shows as a short link with its date, and the ``<b>`` marks of a
  search snippet become highlights.
"""

import json
import re
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup, escape

CORPUS_DATABASE = "corpus"
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def paragraphs(text):
    """A body split into its paragraphs: blank lines separate them (single line breaks when a text
    has no blank line at all)."""
    if not text:
        return []
    parts = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    return [p.strip() for p in parts if p.strip()]


def web_url(value):
    """The value when it is an http(s) URL (safe to put in href), else None."""
    if isinstance(value, str) and re.match(r"^https?://", value.strip(), re.I):
        return value.strip()
    return None


def json_links(value):
    """``policy_links`` / ``attachments``: a JSON list of {"text", "url"} as a list of dicts (text, url);
    anything unreadable gives an empty list."""
    if not value:
        return []
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return []
    links = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            links.append({"text": str(item.get("text") or item.get("url") or ""), "url": web_url(item.get("url"))})
        elif isinstance(item, str):
            links.append({"text": item, "url": web_url(item)})
    return links


def ts14(value):
    """``20231221091931`` -> ``2023-12-21 09:19:31`` (other values unchanged)."""
    value = str(value or "")
    if re.fullmatch(r"\d{14}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:8]} {value[8:10]}:{value[10:12]}:{value[12:14]}"
    return value


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["paragraphs"] = paragraphs
    env.filters["json_links"] = json_links
    env.filters["web_url"] = web_url
    env.filters["ts14"] = ts14


def _highlighted(snippet):
    html = str(escape(snippet))
    return Markup(html.replace("&lt;b&gt;", "<mark>").replace("&lt;/b&gt;", "</mark>"))


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != CORPUS_DATABASE or table is not None or value in (None, ""):
        return None
    keys = row.keys() if hasattr(row, "keys") else []
    if column == "snippet" and isinstance(value, str):
        return _highlighted(value)
    if column in ("title", "translated_title") and "id" in keys and isinstance(row["id"], int):
        url = datasette.urls.row(CORPUS_DATABASE, "documents", str(row["id"]))
        return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')
    if column == "wayback_url" and web_url(value):
        m = re.search(r"/web/(\d{8,14})", value)
        label = f"Wayback {ts14(m.group(1))[:16]}" if m else "Wayback capture"
        return Markup(f'<a href="{escape(web_url(value))}" title="{escape(value)}">{escape(label)}</a>')
    if column == "department" and isinstance(value, str):
        url = datasette.urls.query(CORPUS_DATABASE, "by_department") + "?" + urlencode({"department": value})
        return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')
    return None
