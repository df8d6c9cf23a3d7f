import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlite_utils

from crawler.store import (
    SEED_FIELDS,
    CorpusError,
    ForeignDatabaseError,
    NoCorpusError,
    get_record,
    load_records,
    migrate,
    open_corpus,
    search,
    upsert_document,
    write_transaction,
)
from crawler.store.schema import APPLICATION_ID, LATEST_VERSION
from crawler.store.stats import corpus_stats

SEED_URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"


def other_record(n: int, text: str, title: str | None = None) -> dict:
    url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202401/2024010{n:07d}.shtml"
    return {
        "title": title or f"政策解读第{n}号",
        "resulting_text": text,
        "input_url": f"20240105000000/{url}",
        "returned_url": f"https://web.archive.org/web/20240104120000/{url}",
        "date": "2024-01-04 00:00:00",
        "translated_title": None,
        "translated_content": None,
        "english_summary": None,
        "html": None,
    }


def fts_rows(db, table):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_seed_record_round_trips_with_every_field_intact(db, seed):
    counts = load_records(db, [seed])
    assert counts["inserted"] == 1
    record = get_record(db, SEED_URL)
    for field in SEED_FIELDS:
        assert record[field] == seed[field], field
    # and the provenance the seed only implies
    assert record["capture_timestamp"] == "20231221091931"
    assert record["requested_timestamp"] == "20231224001357"
    assert record["section"] == "zwgk/gkzcjd"
    capture = db.execute("SELECT urlkey, wayback_url, outcome, document_id FROM captures").fetchone()
    assert capture == (
        "cn,gov,mofcom)/article/zwgk/gkzcjd/202312/20231203462051.shtml",
        "https://web.archive.org/web/20231221091931/" + SEED_URL,
        "imported",
        record["id"],
    )


def test_loading_the_same_record_twice_leaves_one_row(db, seed):
    load_records(db, [seed])
    counts = load_records(db, [seed, seed])
    assert counts["unchanged"] == 2
    assert db["documents"].count == 1
    assert db["captures"].count == 1
    assert fts_rows(db, "documents_zh_fts") == 1
    assert fts_rows(db, "documents_en_fts") == 1


@pytest.mark.parametrize(
    "query, lang",
    [
        ("数字化赋能", None),  # 3+ characters
        ("服贸", None),  # 2 characters
        ("赋", None),  # 1 character
        ("生活服务 高质量", None),  # several terms, all required
        ("digital empowerment", "en"),
        ("living service", "en"),  # stemmed: "service" finds "Services"
    ],
)
def test_search_finds_the_seed(db, seed, query, lang):
    load_records(db, [seed])
    hits = search(db, query, lang=lang)
    assert [h.url for h in hits] == ["https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"]
    assert "<b>" in hits[0].snippet
    assert hits[0].wayback_url == seed["returned_url"]


@pytest.mark.parametrize("query, lang", [("外资", None), ("关税", None), ("赋能数字", None), ("quantum tariffs", "en")])
def test_search_for_text_the_seed_lacks_finds_nothing_of_it(db, seed, query, lang):
    load_records(db, [seed, other_record(1, "外资企业的关税问题。")])
    urls = [h.url for h in search(db, query, lang=lang)]
    assert not any("20231203462051" in u for u in urls)


def test_short_chinese_queries_match_substrings_inside_longer_words(db, seed):
    load_records(db, [seed, other_record(1, "鼓励外资企业扩大投资，降低关税。"), other_record(2, "对外开放。")])
    assert [h.title for h in search(db, "外资")] == ["政策解读第1号"]
    assert len(search(db, "关税")) == 1
    assert len(search(db, "外")) == 2  # 外资 and 对外


def test_changed_text_reindexes_and_clears_stale_translation(db, seed):
    load_records(db, [seed])
    doc_id = get_record(db, SEED_URL)["id"]
    with write_transaction(db):
        _, change = upsert_document(db, {"url": "https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml", "resulting_text": "新的正文：跨境电商。"})
    assert change == "updated"
    record = get_record(db, SEED_URL)
    assert record["id"] == doc_id
    assert record["translated_content"] is None and record["english_summary"] is None
    assert record["translated_title"] == seed["translated_title"]  # title unchanged: kept
    # the old body is out of the index: 数字化赋能 is found only through the unchanged title now,
    # 生活服务数字化转型 (body only) not at all
    assert [h.id for h in search(db, "数字化赋能")] == [doc_id]
    assert search(db, "生活服务业数字化转型") == []
    assert [h.id for h in search(db, "跨境")] == [doc_id]
    db.execute("INSERT INTO documents_zh_fts(documents_zh_fts) VALUES ('integrity-check')")
    assert fts_rows(db, "documents_zh_fts") == 1


def test_stats_count_by_section_year_language_and_translation(db, seed):
    load_records(db, [seed, other_record(1, "外资。"), other_record(2, "关税。")])
    s = corpus_stats(db)
    assert s.documents == 3
    assert s.by_section == {"zwgk/gkzcjd": 3}
    assert s.by_year == {"2024": 2, "2023": 1}
    assert s.by_translation == {"pending": 2, "translated": 1}
    assert s.pending_translation == 2
    assert s.last_run["kind"] == "load" and s.last_run["status"] == "finished"


def test_bad_records_are_counted_and_skipped(db, seed):
    counts = load_records(db, [{"title": "x"}, seed, {"title": "t", "resulting_text": "b", "returned_url": "nope"}])
    assert counts["rejected"] == 2 and counts["inserted"] == 1
    assert db["documents"].count == 1


def test_missing_and_foreign_files_are_refused_untouched(tmp_path):
    with pytest.raises(NoCorpusError):
        open_corpus(tmp_path / "none.db", create=False)
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    with pytest.raises(ForeignDatabaseError):
        open_corpus(text)
    assert text.read_text() == "not a database"
    other = tmp_path / "other.db"
    sqlite_utils.Database(other)["birds"].insert({"name": "crane"})
    before = other.read_bytes()
    with pytest.raises(ForeignDatabaseError, match="birds"):
        open_corpus(other)
    assert other.read_bytes() == before


def test_a_corpus_from_a_newer_version_is_refused(db_path):
    open_corpus(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(CorpusError, match="newer"):
        open_corpus(db_path)


def test_an_older_corpus_is_upgraded_in_place_without_losing_rows(db_path, seed):
    # A corpus at schema version 1 (before the search indexes), holding a record.
    old = sqlite_utils.Database(db_path)
    migrate(old, target=1)
    with write_transaction(old):
        old["documents"].insert({"url": "https://www.mofcom.gov.cn/x", "title": "旧文件", "resulting_text": "外资准入。"})
    old.close()
    db = open_corpus(db_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert [h.title for h in search(db, "外资")] == ["旧文件"]
    load_records(db, [seed])
    assert db["documents"].count == 2
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_wal_mode(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


BULK = 10_000


def _write_bulk(path, n):
    url = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/2024{m:02d}/2024{m:02d}0{i:07d}.shtml"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            u = url.format(m=i % 12 + 1, i=i)
            body = "。".join(f"第{i}号文件第{p}段：促进外资稳定增长，优化营商环境，推动数字化赋能。" for p in range(8))
            rec = other_record(0, body) | {
                "title": f"政策解读第{i}号",
                "input_url": f"20240201000000/{u}",
                "returned_url": f"https://web.archive.org/web/20240131000000/{u}",
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def test_kill_9_during_bulk_load_leaves_an_intact_corpus_that_a_rerun_completes(tmp_path):
    records = tmp_path / "bulk.jsonl"
    _write_bulk(records, BULK)
    db_path = tmp_path / "corpus.db"
    cmd = [sys.executable, "-m", "crawler.cli", "load", "--db", str(db_path), "--batch-size", "200", str(records)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Wait until some batches are committed, then kill without warning.
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
            stored = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            conn.close()
        except sqlite3.OperationalError:
            continue
        if stored >= 1000:
            break
    assert proc.poll() is None, "the load finished before it could be killed: make BULK larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert 0 < docs < BULK
    assert docs % 200 == 0  # whole batches only: no half-written batch
    # every stored document is complete and indexed
    assert conn.execute("SELECT count(*) FROM documents WHERE title IS NULL OR resulting_text IS NULL OR capture_id IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM documents_zh_fts").fetchone()[0] == docs
    assert conn.execute("SELECT count(*) FROM documents_en_fts").fetchone()[0] == docs
    conn.close()

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    db = open_corpus(db_path)
    assert db["documents"].count == BULK
    assert db["captures"].count == BULK
    assert fts_rows(db, "documents_zh_fts") == BULK
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = [r[0] for r in db.execute("SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["interrupted", "finished"]
    assert len(search(db, "第9999号文件", limit=5)) == 1


def test_hits_come_newest_first_or_by_relevance(db):
    load_records(db, [
        other_record(1, "外资。") | {"date": "2019-05-01 00:00:00"},
        other_record(2, "外资外资外资，外资。") | {"date": "2015-05-01 00:00:00"},
        other_record(3, "外资。") | {"date": None, "returned_url": other_record(3, "")["returned_url"].replace("20240104120000", "20210101120000")},
    ])
    newest = search(db, "外资")
    assert [h.date for h in newest] == ["20210101", "2019-05-01", "2015-05-01"]
    assert [h.rank for h in newest] == [1, 2, 3] and all(h.score is None for h in newest)
    assert [h.date for h in search(db, "外资", sort="oldest")][0] == "2015-05-01"
    ranked = search(db, "外资", sort="rank")
    assert ranked[0].date == "2015-05-01"  # four hits in a short text: most relevant
    assert all(h.score is not None for h in ranked)
    assert [h.id for h in search(db, "外资", limit=1, offset=1)] == [newest[1].id]
