"""Scoring an extractor against the golden pages (``tests/fixtures/pages/manifest.json``).

An *extractor* here is any ``Callable[[bytes, str, dict], dict]``: archived bytes, original URL and
archived headers in; a dict with (some of) the record's fields out, or ``{"rejected": reason}``.
:func:`ours` wraps :func:`crawler.extract.extract_page`; :func:`trafilatura_baseline` runs trafilatura
2 the way a user would (bytes in, its own charset detection, metadata on).

Measures, over the article pages:
- ``title``: exact match (whitespace runs collapsed);
- ``publish_date``: exact match of the day (``YYYY-MM-DD``; trafilatura gives no time);
- ``body_f1``: character-level F1 of the body: the bags of non-whitespace characters of the output
  and of the expected text, intersected (precision = common/output, recall = common/expected);
  averaged over pages, a missing body scoring 0;
- every other expected field the extractor returns (source, department, links...): exact match.
Reject pages score whether the extractor rejected them for the expected reason (when it can reject).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

Extractor = Callable[[bytes, str, dict], dict]

EXACT_FIELDS = (
    "source", "department", "document_number", "index_number", "policy_links", "attachments",
    "english_url", "chinese_url", "language", "extractor", "charset",
)


@dataclass
class GoldenPage:
    id: str
    kind: str  # article / reject / listing
    url: str
    headers: dict[str, str]
    body: bytes
    expected: dict[str, Any]


def load_golden(pages_dir: str | Path) -> list[GoldenPage]:
    """Every page of the manifest that has bytes (redirects have none), with its expected record."""
    pages_dir = Path(pages_dir)
    manifest = json.loads((pages_dir / "manifest.json").read_text(encoding="utf-8"))
    found = []
    for entry in manifest["pages"]:
        if not entry.get("file"):
            continue
        expected = entry.get("expected") or {}
        if isinstance(expected, str):
            expected = json.loads((pages_dir / expected).read_text(encoding="utf-8"))
        found.append(
            GoldenPage(
                id=entry["id"],
                kind=entry.get("kind", "article"),
                url=entry["url"],
                headers=dict(entry.get("headers") or {}),
                body=(pages_dir / entry["file"]).read_bytes(),
                expected=expected,
            )
        )
    return found


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def char_f1(predicted: str | None, expected: str | None) -> float:
    """Character-level F1 of two texts (bags of non-whitespace characters)."""
    pred = Counter(c for c in predicted or "" if not c.isspace())
    gold = Counter(c for c in expected or "" if not c.isspace())
    if not pred and not gold:
        return 1.0
    common = sum((pred & gold).values())
    if not common:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def score_page(output: Mapping[str, Any] | None, expected: Mapping[str, Any]) -> dict[str, float | bool]:
    """Per-field scores of one article page's output against its expected record."""
    output = output or {}
    scores: dict[str, float | bool] = {
        "title": _squash(output.get("title")) == _squash(expected.get("title")),
        "publish_date": (output.get("publish_date") or "")[:10] == (expected.get("publish_date") or "")[:10],
        "body_f1": char_f1(output.get("resulting_text"), expected.get("resulting_text")),
    }
    for name in EXACT_FIELDS:
        if name in expected and name in output:
            scores[name] = output[name] == expected[name]
    return scores


def score_golden(extractor: Extractor, pages_dir: str | Path) -> dict[str, Any]:
    """Per-field accuracy of ``extractor`` on the golden set (see the module docstring).

    Returns ``{"articles": n, "fields": {field: accuracy or mean F1}, "rejects": {...}, "pages": {id: scores}}``.
    """
    golden = load_golden(pages_dir)
    per_page: dict[str, dict[str, float | bool]] = {}
    for page in golden:
        if page.kind != "article":
            continue
        per_page[page.id] = score_page(extractor(page.body, page.url, page.headers), page.expected)
    fields: dict[str, float] = {}
    names = sorted({name for scores in per_page.values() for name in scores})
    for name in names:
        values = [float(scores[name]) for scores in per_page.values() if name in scores]
        fields[name] = round(mean(values), 4) if values else float("nan")

    rejects = [page for page in golden if page.kind == "reject"]
    rejected_right = 0
    for page in rejects:
        output = extractor(page.body, page.url, page.headers) or {}
        rejected_right += output.get("rejected") == page.expected.get("rejected")
    return {
        "articles": len(per_page),
        "fields": fields,
        "rejects": {"pages": len(rejects), "right_reason": rejected_right},
        "pages": per_page,
    }


def ours(body: bytes, url: str, headers: dict) -> dict:
    """Our extractor in the scoring shape."""
    from .page import Rejection, extract_page

    result = extract_page(body, url, headers)
    if isinstance(result, Rejection):
        return {"rejected": result.reason}
    return result.to_document()


def trafilatura_baseline(body: bytes, url: str, headers: dict) -> dict:
    """trafilatura on the same bytes: title, date and text, as ``bare_extraction`` gives them."""
    import trafilatura

    doc = trafilatura.bare_extraction(body, url=url, with_metadata=True)
    if doc is None:
        return {}
    return {
        "title": getattr(doc, "title", None),
        "publish_date": getattr(doc, "date", None),
        "resulting_text": getattr(doc, "text", None),
    }
