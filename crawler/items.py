"""The records that flow from the spider to the store.

``CaptureItem`` is one archived capture and what became of it (its row in ``captures``: the ledger);
``DocumentItem`` is an article extracted from a capture, carried together with that capture so the
pipeline writes both in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class CaptureItem:
    urlkey: str
    timestamp: str
    original_url: str
    canonical_url: str
    wayback_url: str
    outcome: str  # stored / duplicate / rejected / error / skipped
    requested_timestamp: str | None = None
    status: int | None = None
    mimetype: str | None = None
    digest: str | None = None
    length: int | None = None
    response_headers: dict[str, str] | None = None
    body: bytes | None = None
    reason: str | None = None

    def to_row(self) -> dict[str, Any]:
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {k: v for k, v in values if v is not None}


@dataclass
class DocumentItem:
    capture: CaptureItem
    document: dict[str, Any] = field(default_factory=dict)  # columns of `documents`, url included
