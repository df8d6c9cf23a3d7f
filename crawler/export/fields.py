"""The exported record: its fields, in order, with their types and what each one means.

The seed record's nine fields come first, by the seed's names, so any row of the seed record can be
rebuilt from an export; the provenance fields follow. Every format writes these names in this order
(Parquet types them by ``kind``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..store import SEED_FIELDS

# string: text; float / int: numbers; links: a list of {"text", "url"};
# datetime: "YYYY-MM-DD HH:MM:SS" or ISO 8601 text in JSONL/CSV, a UTC timestamp in Parquet.
Kind = Literal["string", "float", "int", "links", "datetime"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    description: str


def _english(field: str, what: str) -> list[Field]:
    return [
        Field(f"{field}_engine", "string", f"Engine that made {what} (openai, llamacpp, extractive, import...)."),
        Field(f"{field}_model", "string", f"Model that made {what}."),
        Field(f"{field}_version", "string", f"Version of the engine or model that made {what}."),
        Field(f"{field}_at", "datetime", f"When {what} was made (UTC)."),
    ]


SEED = [
    Field("title", "string", "Chinese title of the article, as on the page."),
    Field("resulting_text", "string", "Cleaned Chinese body text; paragraphs separated by blank lines."),
    Field("input_url", "string", "What was asked of the Wayback Machine: {requested timestamp}/{original URL}."),
    Field("returned_url", "string", "The Wayback URL of the capture actually read: "
          "https://web.archive.org/web/{capture timestamp}/{original URL}."),
    Field("date", "string", "Publish date as YYYY-MM-DD HH:MM:SS (00:00:00 when the page gives a day only); "
          "the capture's date when the page gives none."),
    Field("translated_title", "string", "English translation of the title (null until translated)."),
    Field("translated_content", "string", "English translation of the body (null until translated)."),
    Field("english_summary", "string", "English summary of the body (null until summarised)."),
    Field("html", "string", "The archived page, decoded with the stored charset. Null unless the export was "
          "made with --with-html (as in the seed record)."),
]

PROVENANCE = [
    Field("id", "int", "Row id of the document in the corpus file (documents.id)."),
    Field("url", "string", "Canonical URL of the article (https, www., no session parameters): the document key."),
    Field("original_url", "string", "The URL as the Wayback Machine archived it."),
    Field("site", "string", "MOFCOM site the page belongs to: www, english, or a department sub-site."),
    Field("section", "string", "Column of the site the page sits in (zwgk/gkzcjd, zcjd/gnmy...)."),
    Field("publish_date", "string", "The page's own publish date: YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS "
          "when the page gives a time. Null when the page gives none."),
    Field("capture_date", "datetime", "When the Wayback Machine captured the page (UTC)."),
    Field("requested_date", "datetime", "The capture time that was asked for (UTC)."),
    Field("capture_timestamp", "string", "The capture's Wayback timestamp (YYYYMMDDhhmmss, UTC)."),
    Field("requested_timestamp", "string", "The Wayback timestamp that was asked for."),
    Field("first_seen", "string", "Oldest capture timestamp of this article seen in the archive."),
    Field("last_seen", "string", "Newest capture timestamp of this article seen in the archive."),
    Field("digest", "string", "CDX digest of the capture (base32 SHA-1 of the archived bytes)."),
    Field("charset", "string", "Character set that decoded the page."),
    Field("extractor", "string", "Parser that produced the record (import: loaded from a seed-shaped file)."),
    Field("extractor_version", "string", "Version of that parser."),
    Field("language", "string", "Language of the text: zh, en or other."),
    Field("language_score", "float", "Confidence of the language decision (0 to 1)."),
    Field("language_method", "string", "How the language was decided: han-share, langdetect or import."),
    Field("source", "string", "Source line of the page (来源)."),
    Field("department", "string", "Issuing department (服贸司...)."),
    Field("document_number", "string", "Document number (发文字号)."),
    Field("index_number", "string", "Index number (索引号)."),
    Field("policy_links", "links", "The policy text(s) the article interprets: a list of {text, url}."),
    Field("attachments", "links", "Attachments of the page: a list of {text, url}."),
    Field("english_url", "string", "Link to the English version of the page, when it has one."),
    Field("chinese_url", "string", "On an English page: link to its Chinese counterpart."),
    *_english("translated_title", "the English title"),
    *_english("translated_content", "the English body"),
    Field("english_summary_kind", "string", "Kind of summary: extractive, abstractive or import."),
    *_english("english_summary", "the English summary"),
]

FIELDS: list[Field] = SEED + PROVENANCE
FIELD_NAMES: list[str] = [f.name for f in FIELDS]
# Fields computed at export time rather than read from a documents column of the same name.
DERIVED = {"date", "html", "capture_date", "requested_date", "digest"}

assert tuple(f.name for f in SEED) == SEED_FIELDS, "the export must start with the seed record's fields"
