"""Parquet in the Hugging Face layout: typed columns, zstd-compressed, sharded by row count.

``DIR/data/train-0000N-of-0000M.parquet`` plus the dataset card ``DIR/README.md``. Rows are written
from the stream in row groups (a batch of rows at a time), so memory stays flat. The shards are
written beside the old ones and swapped in only when all are complete: an interrupted export
leaves the previous one intact.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .fields import FIELDS, Field

SHARD_ROWS = 50_000
BATCH_ROWS = 5_000
BATCH_CHARS = 8_000_000  # flush a row group early when the text in it grows past this (~25 MB)
COMPRESSION = "zstd"
_TEXT_FIELDS = ("resulting_text", "translated_content", "english_summary", "html")

LINK_TYPE = pa.list_(pa.struct([("text", pa.string()), ("url", pa.string())]))
_ARROW_TYPES = {
    "string": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "links": LINK_TYPE,
    "datetime": pa.timestamp("ms", tz="UTC"),
}


def arrow_schema() -> pa.Schema:
    """The Parquet schema: one typed column per exported field, each with its description."""
    return pa.schema(
        [pa.field(f.name, _ARROW_TYPES[f.kind], metadata={"description": f.description}) for f in FIELDS]
    )


def shard_names(shards: int) -> list[str]:
    return [f"train-{n:05d}-of-{shards:05d}.parquet" for n in range(shards)]


def shard_count(total: int, shard_rows: int = SHARD_ROWS) -> int:
    return max(1, math.ceil(total / shard_rows))


def to_datetime(value: Any) -> datetime | None:
    """``2023-12-21 09:19:31`` or ISO 8601 (``2026-11-29T17:57:16Z``), read as UTC when naive."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_links(value: Any) -> list[dict[str, Any]]:
    links = []
    for item in value or []:
        if isinstance(item, str):
            links.append({"text": None, "url": item})
        elif isinstance(item, Mapping):
            links.append({"text": item.get("text"), "url": item.get("url")})
        else:
            raise ValueError(f"a link must be a URL or a {{text, url}} object, not {item!r}")
    return links


def _column_value(f: Field, value: Any, record: Mapping[str, Any]) -> Any:
    try:
        if f.kind == "datetime":
            return to_datetime(value)
        if f.kind == "links":
            return to_links(value)
        return value
    except ValueError as e:
        raise ValueError(f"document {record.get('url')}: field {f.name}: {e}") from e


def write_parquet_shards(
    records: Iterable[Mapping[str, Any]], out_dir: Path, total: int, shard_rows: int = SHARD_ROWS
) -> tuple[int, list[Path]]:
    """Write ``total`` records as ``out_dir/data/train-*-of-M.parquet``; returns (count, shard paths).

    ``total`` fixes M; the stream must yield exactly that many records (the caller reads both in
    one transaction). Earlier ``train-*.parquet`` shards in ``data/`` are replaced.
    """
    if shard_rows < 1:
        raise ValueError("shard_rows must be at least 1")
    schema = arrow_schema()
    data_dir = Path(out_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    names = shard_names(shard_count(total, shard_rows))
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=data_dir))
    try:
        count = _write_shards(records, staging, names, schema, shard_rows)
        if count != total:
            raise RuntimeError(f"expected {total} records, the query gave {count}: the shards were not kept")
        for old in data_dir.glob("train-*-of-*.parquet"):
            old.unlink()
        paths = []
        for name in names:
            (staging / name).replace(data_dir / name)
            paths.append(data_dir / name)
        return count, paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_shards(
    records: Iterable[Mapping[str, Any]], staging: Path, names: list[str], schema: pa.Schema, shard_rows: int
) -> int:
    count = 0
    shard = 0
    writer = pq.ParquetWriter(staging / names[0], schema, compression=COMPRESSION)
    columns: dict[str, list[Any]] = {f.name: [] for f in FIELDS}
    rows = chars = 0

    def flush() -> None:
        nonlocal rows, chars
        if rows:
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            for values in columns.values():
                values.clear()
        rows = chars = 0

    try:
        for record in records:
            if count and count % shard_rows == 0:
                flush()
                writer.close()
                shard += 1
                if shard >= len(names):
                    raise RuntimeError(f"the query gave more records than the {count} counted")
                writer = pq.ParquetWriter(staging / names[shard], schema, compression=COMPRESSION)
            for f in FIELDS:
                columns[f.name].append(_column_value(f, record[f.name], record))
            count += 1
            rows += 1
            chars += sum(len(record[name] or "") for name in _TEXT_FIELDS)
            if rows >= BATCH_ROWS or chars >= BATCH_CHARS:
                flush()
        flush()
    finally:
        writer.close()
    return count
