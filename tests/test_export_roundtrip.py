"""A WARC export is itself a replayable source: export WARC -> replay -> crawl -> the same documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crawler.export import export
from crawler.replay.testing import running_replay
from crawler.store import open_corpus

CAPTURES = Path(__file__).parent / "fixtures" / "captures"
FAST = ["--cdx-rate", "60000", "--playback-rate", "500", "--set", "LOG_LEVEL=WARNING"]
COMPARED = ("url", "title", "resulting_text", "publish_date", "source", "department", "document_number",
            "policy_links", "attachments", "english_url", "chinese_url", "language", "charset", "extractor",
            "original_url", "capture_timestamp", "returned_url")


def crawl(db: Path, base_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--wayback-url", base_url, *FAST],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


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
