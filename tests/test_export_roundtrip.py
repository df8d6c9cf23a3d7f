"""A WARC export is itself a replayable source: export WARC -> replay -> crawl -> the same documents."""

from __future__ import annotations

from pathlib import Path

from crawling import corpus_crawl as crawl

from crawler.export import export
from crawler.replay.testing import running_replay
from crawler.store import open_corpus

CAPTURES = Path(__file__).parent / "fixtures" / "captures"
COMPARED = ("url", "title", "resulting_text", "publish_date", "source", "department", "document_number",
            "policy_links", "attachments", "english_url", "chinese_url", "language", "charset", "extractor",
            "original_url", "capture_timestamp", "returned_url")


def documents(db_path: Path) -> dict[str, dict]:
    db = open_corpus(db_path)
    try:
        return {row["url"]: {k: row[k] for k in COMPARED} for row in db.query("SELECT * FROM documents")}
    finally:
        db.close()


def test_warc_export_replayed_and_crawled_rebuilds_the_same_documents(tmp_path):
    first = tmp_path / "first.db"
    with running_replay(CAPTURES) as server:
        crawl(first, server.base_url)
    original = documents(first)
    assert len(original) > 10

    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    db = open_corpus(first)
    result = export(db, "warc", warc_dir / "corpus.warc.gz")
    db.close()
    assert result.count >= len(original)

    second = tmp_path / "second.db"
    with running_replay(warc_dir) as server:
        crawl(second, server.base_url)
    assert documents(second) == original
