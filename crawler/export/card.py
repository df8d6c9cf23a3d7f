"""The Hugging Face dataset card (``README.md``) written beside a Parquet export.

YAML front matter (the ``configs`` block pointing at ``data/train-*``, licence, languages, task
categories, size) followed by the field descriptions and the source and licence notes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import __version__
from .fields import FIELDS

PRETTY_NAME = "MOFCOM policy interpretations (商务部政策解读)"
TASK_CATEGORIES = ("translation", "summarization", "text-retrieval")
_KIND_NAMES = {
    "string": "string",
    "float": "float64",
    "int": "int64",
    "links": "list of {text, url}",
    "datetime": "timestamp (UTC)",
}


def size_category(n: int) -> str:
    """The Hugging Face size bucket for ``n`` rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M")]
    return next((name for bound, name in bounds if n < bound), "10M<n<100M")


def _yaml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def front_matter(count: int) -> str:
    lines = [
        "---",
        f"pretty_name: {_yaml(PRETTY_NAME)}",
        "language:",
        "- zh",
        "- en",
        "license: other",
        "license_name: mofcom-public-sector-and-machine-translation",
        f"license_details: {_yaml('See the Licence section of this card: PRC government texts, machine translations.')}",
        "task_categories:",
        *[f"- {task}" for task in TASK_CATEGORIES],
        "size_categories:",
        f"- {size_category(count)}",
        "tags:",
        "- government",
        "- policy",
        "- china",
        "- wayback-machine",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: data/train-*",
        "---",
    ]
    return "\n".join(lines) + "\n"


def dataset_card(count: int, shards: int, filters: Mapping[str, Any], generated_at: str, with_html: bool) -> str:
    """The card's full text for an export of ``count`` records in ``shards`` files."""
    selection = ", ".join(f"{k}={v}" for k, v in filters.items()) or "the whole corpus"
    field_rows = "\n".join(
        f"| `{f.name}` | {_KIND_NAMES[f.kind]} | {f.description.replace('|', '/')} |" for f in FIELDS
    )
    html_note = (
        "`html` holds the archived page, decoded with the charset recorded in `charset`."
        if with_html
        else "`html` is null in this export (as in the seed record); export with `--with-html` to include "
        "the archived pages, or export WARC for the raw bytes."
    )
    return f"""{front_matter(count)}
# {PRETTY_NAME}

Policy interpretations (政策解读) published by China's Ministry of Commerce (MOFCOM) on
`www.mofcom.gov.cn`, its department sub-sites and its English site, recovered from the Internet
Archive's Wayback Machine, with the cleaned Chinese text, its metadata, and (where made) an English
translation and summary. Every record says which Wayback capture it was read from and how.

- Records: {count:,} in {shards} Parquet file(s) under `data/` (split `train`), zstd-compressed.
- Selection: {selection}.
- Made by mofcom-corpus {__version__} (`corpus export --format parquet`) on {generated_at}.

```python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="data/train-*.parquet", split="train")
# or: pyarrow.parquet.read_table("data/"), pandas.read_parquet("data/")
```

## Fields

The first nine fields are the seed record's (`title` ... `html`), so a seed-shaped record can be
rebuilt from any row; the others are its provenance. {html_note}

| field | type | description |
|---|---|---|
{field_rows}

## Source

Every page was fetched from the Wayback Machine (`returned_url` is the capture; `input_url` what was
asked for), not from the live site: the text is what the archive kept at `capture_date`, and pages the
archive never captured are missing. `digest` is the capture's CDX digest, `charset` the encoding that
decoded it, `extractor` and `extractor_version` the parser that read it, `language` with
`language_score` and `language_method` the language check.

## Licence

- The Chinese texts are publications of the Ministry of Commerce of the People's Republic of China.
  Article 5 of the PRC Copyright Law excludes laws, regulations, resolutions, decisions, orders and
  other documents of a legislative, administrative or judicial nature, and their official translations,
  from copyright protection; not every interpretation article need fall under that exclusion, so check
  the terms that apply to your use before redistributing the texts.
- The English translations and summaries are machine-made (the engine, model and version are in each
  record's `*_engine`, `*_model`, `*_version` fields); they are not official translations.
- The archived copies come from the Internet Archive's Wayback Machine; its terms of use apply to them.
- `license: other` in the header reflects these mixed terms. The software that built this dataset
  (mofcom-corpus) is licensed Apache-2.0; that licence covers the code, not this data.
"""
