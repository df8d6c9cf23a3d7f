"""JSON Lines: one record per line, UTF-8, Chinese written as it is (no \\u escapes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO


def write_jsonl(records: Iterable[Mapping[str, Any]], stream: BinaryIO) -> int:
    """Write ``records`` to ``stream``, one JSON object per line; returns how many."""
    count = 0
    for record in records:
        stream.write(json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n")
        count += 1
    return count
