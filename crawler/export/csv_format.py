"""CSV for spreadsheets: UTF-8 with a byte-order mark (or Excel garbles the Chinese), a header row of
the field names, an empty cell for null, and the link lists as JSON text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from .fields import FIELD_NAMES, FIELDS

ENCODING = "utf-8-sig"  # writes the BOM
_LINK_COLUMNS = [i for i, f in enumerate(FIELDS) if f.kind == "links"]


def write_csv(records: Iterable[Mapping[str, Any]], stream: BinaryIO) -> int:
    """Write a header and one row per record to the binary ``stream``; returns how many records."""
    text = io.TextIOWrapper(stream, encoding=ENCODING, newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow(FIELD_NAMES)
        count = 0
        for record in records:
            row = [record[name] for name in FIELD_NAMES]
            for i in _LINK_COLUMNS:
                row[i] = json.dumps(row[i], ensure_ascii=False)
            writer.writerow(row)
            count += 1
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open
    return count
