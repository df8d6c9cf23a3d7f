"""What the Wayback Machine adds to a page replayed without ``id_`` (toolbar, rewrite scripts)."""

from __future__ import annotations

import re

_TOOLBAR = re.compile(r"<!--\s*BEGIN WAYBACK TOOLBAR INSERT\s*-->.*?<!--\s*END WAYBACK TOOLBAR INSERT\s*-->", re.S | re.I)
_REWRITE_JS = re.compile(
    r"<script[^>]*(?:archive\.org|/_static/)[^>]*>\s*</script>|<!--\s*End Wayback Rewrite JS Include\s*-->", re.I
)


def strip_wayback_insert(text: str) -> str:
    """The page without the Wayback toolbar and rewrite-script includes (a no-op on ``id_`` bytes)."""
    if "WAYBACK" not in text and "Wayback" not in text and "archive.org" not in text:
        return text
    return _REWRITE_JS.sub("", _TOOLBAR.sub("", text))
