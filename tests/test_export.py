"""corpus export: every format read back by its own standard reader gives the stored records."""

import csv
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import cli
from crawler.export import FIELD_NAMES, ExportFilters, export
from crawler.export.query import count_documents, iter_records
from crawler.export.warc import archived_headers
from crawler.store import SEED_FIELDS, get_record, load_records, read_records, upsert_capture, upsert_document
from crawler.store.documents import decompress_body
from crawler.store.records import payload_digest
from crawler.store.transaction import write_transaction

SEED_URL = "https://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/20231203462051.shtml"
GBK_URL = "http://fms.mofcom.gov.cn/article/zcjd/202203/20220303280001.shtml"
EN_URL = "http://english.mofcom.gov.cn/article/policyrelease/zcjd/gnmy/201905/20190502860002.shtml"
PLAIN_URL = "http://www.mofcom.gov.cn/zcjdx/art/2024/art_0123456789abcdef0123456789abcdef.html"

GBK_HTML = "<html><head><title>外资准入负面清单解读</title></head><body><p>外资企业在华投资。</p></body></html>"
EN_HTML = "<html><body><p>Interpretation of the foreign trade policy.</p></body></html>"
PLAIN_HTML = "<html><body><p>关于出口管制的解读，第三篇。</p></body></html>"


def _capture(db, url, ts, body, outcome="stored", headers=None, status=200, requested=None):
    from crawler.urls import canonical_url, urlkey

    return upsert_capture(
        db,
        {
            "urlkey": urlkey(url),
            "timestamp": ts,
            "requested_timestamp": requested or ts,
            "original_url": url,
            "canonical_url": canonical_url(url),
            "wayback_url": f"https://web.archive.org/web/{ts}/{url}",
            "status": status,
            "mimetype": "text/html",
            "digest": payload_digest(body) if body is not None else None,
            "length": 2345,
            "response_headers": headers,
            "body": body,
            "outcome": outcome,
        },
    )


def _document(db, url, capture_id, ts, **fields):
    from crawler.urls import canonical_url, section_of, site_of

    doc = {
        "url": canonical_url(url),
        "site": site_of(url),
        "section": section_of(url),
        "capture_id": capture_id,
        "original_url": url,
        "capture_timestamp": ts,
        "requested_timestamp": fields.pop("requested_timestamp", ts),
        "input_url": f"{ts}/{url}",
        "returned_url": f"https://web.archive.org/web/{ts}/{url}",
        "first_seen": ts,
        "last_seen": ts,
        **fields,
    }
    doc_id, _ = upsert_document(db, doc)
    db.execute("UPDATE captures SET document_id = ? WHERE id = ?", [doc_id, capture_id])
    return doc_id


@pytest.fixture
def corpus_db(db, seed):
    """The seed record (imported, no page) and three crawled documents with their captures."""
    load_records(db, [seed])
    with write_transaction(db):
        # A department page served as GBK, chunked; an older capture of it too, and a duplicate.
        older = _capture(db, GBK_URL, "20220301080000", GBK_HTML.replace("外资企业", "外资").encode("gbk"))
        gbk_cap = _capture(
            db, GBK_URL, "20220310120000", GBK_HTML.encode("gbk"),
            headers={"Content-Type": "text/html; charset=GBK", "Transfer-Encoding": "chunked",
                     "Server": "nginx", "Content-Length": "99999"},
            requested="20220311000000",
        )
        _capture(db, GBK_URL, "20220320120000", None, outcome="duplicate")
        _capture(db, GBK_URL, "20220321120000", b"<html>captcha</html>", outcome="rejected")
        gbk_id = _document(
            db, GBK_URL, gbk_cap, "20220310120000", requested_timestamp="20220311000000",
            title="外资准入负面清单解读", resulting_text="外资企业在华投资。\n\n第二段。",
            publish_date="2022-03-03", source="外资司", department="外资司",
            document_number="商资发〔2022〕1号", index_number="000016974/2022-00123",
            policy_links=[{"text": "负面清单", "url": "http://www.mofcom.gov.cn/article/b/202203/1.shtml"}],
            attachments=[{"text": "附件1.pdf", "url": "http://fms.mofcom.gov.cn/a.pdf"}],
            english_url="http://english.mofcom.gov.cn/x.shtml", language="zh", language_score=0.97,
            language_method="han-share", charset="gb18030", extractor="mofcom-era-b", extractor_version="3",
            translated_title="Interpretation of the negative list for foreign investment",
            translated_title_engine="openai", translated_title_model="qwen2.5-7b",
            translated_title_version="1", translated_title_at="2026-01-02T03:04:05Z",
            translated_content="Foreign-invested enterprises invest in China.\n\nSecond paragraph.",
            translated_content_engine="openai", translated_content_model="qwen2.5-7b",
            translated_content_version="1", translated_content_at="2026-01-02T03:04:06Z",
            english_summary="Foreign investment.", english_summary_kind="extractive",
            english_summary_engine="sumy", english_summary_model="lexrank",
            english_summary_version="0.11", english_summary_at="2026-01-02T03:04:07Z",
        )
        db.execute("UPDATE captures SET document_id = ? WHERE id = ?", [gbk_id, older])
        # An English page, archived gzip-compressed, headers as the Wayback playback gave them.
        en_body = gzip.compress(EN_HTML.encode("utf-8"), mtime=0)
        en_cap = _capture(
            db, EN_URL, "20190512101010", en_body,
            headers={"Content-Type": "text/html", "X-Archive-Orig-Content-Encoding": "gzip",
                     "X-Archive-Orig-Server": "Apache", "Memento-Datetime": "Sun, 12 May 2019 10:10:10 GMT",
                     "X-Archive-Src": "live-2019.warc.gz"},
        )
        _document(
            db, EN_URL, en_cap, "20190512101010", title="Interpretation of the foreign trade policy",
            resulting_text="Interpretation of the foreign trade policy.", language="en",
            language_score=0.99, language_method="langdetect", charset="utf-8", department="对外贸易司",
            chinese_url="http://www.mofcom.gov.cn/article/zcjd/gnmy/201905/1.shtml",
            extractor="mofcom-english", extractor_version="1",
        )
        # A page with no stored headers: the WARC gets a minimal block.
        plain_cap = _capture(db, PLAIN_URL, "20240115000000", PLAIN_HTML.encode("utf-8"))
        _document(
            db, PLAIN_URL, plain_cap, "20240115000000", title="出口管制解读", resulting_text="关于出口管制的解读，第三篇。",
            publish_date="2024-01-14 09:30:00", department="安全与管制局", language="zh", language_score=1.0,
            language_method="han-share", charset="utf-8", extractor="mofcom-era-c", extractor_version="1",
        )
    return db


def expected_records(db, with_html=False):
    """What the store holds, read by the store's own API (not the export's query)."""
    out = {}
    for (url,) in db.execute("SELECT url FROM documents ORDER BY id").fetchall():
        record = get_record(db, url)
        capture = db.execute(
            "SELECT digest, body FROM captures WHERE id = ?", [record["capture_id"]]
        ).fetchone()
        record["digest"] = capture[0]
        record["capture_date"] = _ts(record["capture_timestamp"])
        record["requested_date"] = _ts(record["requested_timestamp"])
        record["policy_links"] = record["policy_links"] or []
        record["attachments"] = record["attachments"] or []
        out[url] = {k: record[k] for k in FIELD_NAMES}
    return out


def _ts(ts):
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]} {ts[8:10]}:{ts[10:12]}:{ts[12:14]}"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# --- JSONL -------------------------------------------------------------------------------------------


def test_jsonl_reads_back_as_the_stored_records_seed_fields_first(corpus_db, tmp_path, seed):
    result = export(corpus_db, "jsonl", tmp_path / "c.jsonl")
    records = read_jsonl(tmp_path / "c.jsonl")
    assert result.count == len(records) == 4
    assert result.bytes == (tmp_path / "c.jsonl").stat().st_size
    expected = expected_records(corpus_db)
    assert {r["url"]: r for r in records} == expected
    for record in records:
        assert list(record)[:9] == list(SEED_FIELDS)
        assert list(record) == FIELD_NAMES
    # The seed row comes back exactly as the seed record
    seed_out = next(r for r in records if r["url"] == SEED_URL)
    assert {k: seed_out[k] for k in SEED_FIELDS} == seed
    gbk = next(r for r in records if r["department"] == "外资司")
    assert gbk["date"] == "2022-03-03 00:00:00"
    assert gbk["capture_date"] == "2022-03-10 12:00:00" and gbk["requested_date"] == "2022-03-11 00:00:00"
    assert gbk["policy_links"][0]["text"] == "负面清单"
    assert gbk["translated_content_model"] == "qwen2.5-7b"
    # the capture the document came from, not an older or later capture of the article
    assert gbk["digest"] == payload_digest(GBK_HTML.encode("gbk"))
    # A page with no publish date takes the capture's date
    en = next(r for r in records if r["language"] == "en")
    assert en["publish_date"] is None and en["date"] == "2019-05-12 10:10:10"


def test_jsonl_writes_chinese_unescaped_utf8(corpus_db, tmp_path):
    export(corpus_db, "jsonl", tmp_path / "c.jsonl")
    raw = (tmp_path / "c.jsonl").read_bytes()
    assert "外资准入负面清单解读".encode() in raw
    assert b"\\u" not in raw


def test_exported_jsonl_loads_back_into_an_identical_corpus(corpus_db, tmp_path):
    from crawler.store import open_corpus

    export(corpus_db, "jsonl", tmp_path / "c.jsonl")
    other = open_corpus(tmp_path / "other.db")
    try:
        counts = load_records(other, read_records(tmp_path / "c.jsonl"))
        assert counts["inserted"] == 4
        for url, record in expected_records(corpus_db).items():
            again = get_record(other, url)
            for field in ("title", "resulting_text", "input_url", "returned_url", "date", "translated_title",
                          "translated_content", "english_summary"):
                assert again[field] == record[field], (url, field)
    finally:
        other.close()


def test_with_html_decodes_the_archived_page_with_its_charset(corpus_db, tmp_path):
    export(corpus_db, "jsonl", tmp_path / "c.jsonl", with_html=True)
    by_url = {r["url"]: r for r in read_jsonl(tmp_path / "c.jsonl")}
    assert by_url[SEED_URL]["html"] is None  # imported without a page
    assert next(r for r in by_url.values() if r["department"] == "外资司")["html"] == GBK_HTML
    assert next(r for r in by_url.values() if r["language"] == "en")["html"] == EN_HTML  # un-gzipped
    assert next(r for r in by_url.values() if r["department"] == "安全与管制局")["html"] == PLAIN_HTML
    export(corpus_db, "jsonl", tmp_path / "plain.jsonl")
    assert all(r["html"] is None for r in read_jsonl(tmp_path / "plain.jsonl"))


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_has_a_bom_and_reads_back_as_the_stored_records(corpus_db, tmp_path):
    result = export(corpus_db, "csv", tmp_path / "c.csv")
    raw = (tmp_path / "c.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / "c.csv", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    assert header == FIELD_NAMES
    assert result.count == len(rows) == 4
    expected = expected_records(corpus_db)
    for row in rows:
        want = expected[row["url"]]
        for name in FIELD_NAMES:
            value = want[name]
            if isinstance(value, list):
                assert json.loads(row[name]) == value, name
            elif name == "language_score" and value is not None:
                assert float(row[name]) == value
            else:
                assert row[name] == ("" if value is None else str(value)), name
    # multi-paragraph text survives the quoting
    assert "外资企业在华投资。\n\n第二段。" in [r["resulting_text"] for r in rows]


# --- Parquet -----------------------------------------------------------------------------------------


def test_parquet_is_typed_and_reads_back_as_the_stored_records(corpus_db, tmp_path):
    out = tmp_path / "hf"
    result = export(corpus_db, "parquet", out)
    assert [p.name for p in result.paths] == ["train-00000-of-00001.parquet", "README.md"]
    table = pq.read_table(out / "data")
    schema = table.schema
    assert schema.names == FIELD_NAMES
    assert schema.field("language_score").type == pa.float64()
    assert schema.field("id").type == pa.int64()
    assert schema.field("capture_date").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("policy_links").type == pa.list_(pa.struct([("text", pa.string()), ("url", pa.string())]))
    assert b"description" in schema.field("title").metadata
    rows = {r["url"]: r for r in table.to_pylist()}
    for url, want in expected_records(corpus_db).items():
        got = rows[url]
        for name in FIELD_NAMES:
            value = want[name]
            if name in ("capture_date", "requested_date") or (name.endswith("_at") and value):
                value = datetime.fromisoformat(value).replace(tzinfo=UTC)
            assert got[name] == value, (url, name)


def test_parquet_shards_in_the_hugging_face_layout_and_replaces_old_shards(corpus_db, tmp_path):
    out = tmp_path / "hf"
    result = export(corpus_db, "parquet", out, shard_rows=3)
    names = sorted(p.name for p in (out / "data").iterdir())
    assert names == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    assert [pq.read_metadata(out / "data" / n).num_rows for n in names] == [3, 1]
    assert result.count == 4
    card = (out / "README.md").read_text(encoding="utf-8")
    front = card.split("---\n")[1]
    assert "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*" in front
    assert "license: other" in front and "- zh\n- en" in front and "task_categories:" in front
    assert "pretty_name:" in front
    assert "| `resulting_text` | string |" in card and "Licence" in card and "Source" in card
    # A smaller export into the same folder leaves no stale shard behind
    export(corpus_db, "parquet", out, ExportFilters(language="zh"), shard_rows=10)
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train-00000-of-00001.parquet"]
    assert pq.read_table(out / "data").num_rows == 3


def test_parquet_export_of_nothing_still_has_the_schema(corpus_db, tmp_path):
    result = export(corpus_db, "parquet", tmp_path / "hf", ExportFilters(since="2030"))
    assert result.count == 0
    table = pq.read_table(tmp_path / "hf" / "data")
    assert table.num_rows == 0 and table.schema.names == FIELD_NAMES


# --- WARC --------------------------------------------------------------------------------------------


def stored_captures(db):
    rows = db.execute(
        "SELECT original_url, timestamp, body, status, urlkey, digest, length, wayback_url FROM captures "
        "WHERE outcome IN ('stored', 'imported') AND body IS NOT NULL ORDER BY id"
    ).fetchall()
    return [(url, ts, decompress_body(body), status, key, digest, length, wb)
            for url, ts, body, status, key, digest, length, wb in rows]


def read_warc(path):
    records = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f):
            records.append((record, record.raw_stream.read()))
    return records


def test_warc_holds_every_stored_capture_byte_for_byte_with_its_metadata(corpus_db, tmp_path):
    result = export(corpus_db, "warc", tmp_path / "c.warc.gz")
    records = read_warc(tmp_path / "c.warc.gz")
    assert records[0][0].rec_type == "warcinfo"
    responses = [(r, body) for r, body in records if r.rec_type == "response"]
    metadata = [(r, body) for r, body in records if r.rec_type == "metadata"]
    stored = stored_captures(corpus_db)
    assert result.count == len(responses) == len(metadata) == len(stored) == 4  # not duplicate/rejected
    for (record, body), (url, ts, raw, status, *_) in zip(responses, stored, strict=True):
        assert body == raw
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert record.rec_headers.get_header("WARC-Date") == f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"
        assert record.rec_headers.get_header("WARC-Payload-Digest") == f"sha1:{payload_digest(raw)}"
        assert record.http_headers.get_statuscode() == str(status)
        assert record.http_headers.get_header("Content-Length") == str(len(raw))
        assert record.http_headers.get_header("Transfer-Encoding") is None
        assert record.http_headers.get_header("Content-Type")
    for (response, _), (meta, fields), (url, ts, _raw, status, key, digest, length, wb) in zip(
        responses, metadata, stored, strict=True
    ):
        assert meta.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header("WARC-Record-ID")
        assert meta.rec_headers.get_header("WARC-Refers-To") == response.rec_headers.get_header("WARC-Record-ID")
        assert meta.rec_headers.get_header("Content-Type") == "application/warc-fields"
        lines = dict(line.split(": ", 1) for line in fields.decode("utf-8").splitlines())
        assert lines["wayback-url"] == wb
        assert lines["cdx"].split(" ") == [key, ts, url, "text/html", str(status), digest, str(length)]


def test_warc_keeps_archived_headers_and_standard_readers_decode_the_page(corpus_db, tmp_path):
    export(corpus_db, "warc", tmp_path / "c.warc.gz")
    with open(tmp_path / "c.warc.gz", "rb") as f:
        pages = {}
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                uri = record.rec_headers.get_header("WARC-Target-URI")
                pages.setdefault(uri, []).append((record.http_headers, record.content_stream().read()))
    gbk_headers, gbk_page = pages[GBK_URL][-1]
    assert gbk_headers.get_header("Content-Type") == "text/html; charset=GBK"
    assert gbk_headers.get_header("Server") == "nginx"
    assert gbk_page.decode("gbk") == GBK_HTML
    assert len(pages[GBK_URL]) == 2  # both stored captures of the article
    en_headers, en_page = pages[EN_URL][0]
    assert en_headers.get_header("Content-Encoding") == "gzip"  # from X-Archive-Orig-Content-Encoding
    assert en_headers.get_header("Server") == "Apache"
    assert en_headers.get_header("Memento-Datetime") is None  # the archive's header, not the page's
    assert en_page == EN_HTML.encode("utf-8")  # warcio un-gzips it
    plain_headers, plain_page = pages[PLAIN_URL][0]
    assert plain_headers.get_header("Content-Type") == "text/html"  # synthesised from the CDX mimetype
    assert plain_page == PLAIN_HTML.encode("utf-8")


def test_warc_record_ids_are_stable_across_exports(corpus_db, tmp_path):
    ids = []
    for name in ("a.warc.gz", "b.warc.gz"):
        export(corpus_db, "warc", tmp_path / name)
        ids.append([r.rec_headers.get_header("WARC-Record-ID") for r, _ in read_warc(tmp_path / name)[1:]])
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])


def test_archived_headers_drop_a_gzip_claim_the_body_no_longer_has():
    headers = archived_headers(json.dumps({"Content-Encoding": "gzip", "Content-Type": "text/html"}), b"<html>", None)
    assert headers == [("Content-Type", "text/html"), ("Content-Length", "6")]
    pairs = archived_headers(json.dumps([["Content-Type", "text/html"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]), b"", None)
    assert pairs.count(("Set-Cookie", "a=1")) == 1 and ("Set-Cookie", "b=2") in pairs


# --- Filters -----------------------------------------------------------------------------------------


def _urls(db, **filters):
    return sorted(r["url"] for r in iter_records(db, ExportFilters(**filters)))


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({}, {"seed", "gbk", "en", "plain"}),
        ({"since": "2023"}, {"seed", "plain"}),
        ({"until": "2022"}, {"gbk", "en"}),
        ({"since": "2022-03", "until": "2023-12-24"}, {"gbk", "seed"}),
        ({"since": "2022-03-04", "until": "2023-12-23"}, set()),
        ({"until": "2019-05-12"}, {"en"}),  # no publish date: the capture date counts
        ({"departments": ("外资司",)}, {"gbk"}),
        ({"departments": ("外资司", "对外贸易司")}, {"gbk", "en"}),
        ({"sections": ("zwgk/gkzcjd",)}, {"seed"}),
        ({"sections": ("zcjd",)}, {"gbk"}),  # zcjd (fms:zcjd) and zcjd/..., not zcjdx
        ({"sections": ("fms:zcjd",)}, {"gbk"}),
        ({"sections": ("english:policyrelease", "zcjdx")}, {"en", "plain"}),
        ({"sections": ("www:zcjd",)}, set()),
        ({"language": "en"}, {"en"}),
        ({"query": "外"}, {"gbk"}),  # one character
        ({"query": "出口"}, {"plain"}),  # two characters
        ({"query": "数字化赋能"}, {"seed"}),
        ({"query": "foreign investment"}, {"gbk"}),  # English, stemmed, over the translations
        ({"query": "解读", "since": "2024"}, {"plain"}),
        ({"limit": 2}, {"seed", "gbk"}),
    ],
)
def test_filters_select_the_right_documents(corpus_db, filters, expected):
    names = {
        "seed": SEED_URL,
        "gbk": "https://fms.mofcom.gov.cn/article/zcjd/202203/20220303280001.shtml",
        "en": "https://english.mofcom.gov.cn/article/policyrelease/zcjd/gnmy/201905/20190502860002.shtml",
        "plain": "https://www.mofcom.gov.cn/zcjdx/art/2024/art_0123456789abcdef0123456789abcdef.html",
    }
    assert _urls(corpus_db, **filters) == sorted(names[n] for n in expected)
    assert count_documents(corpus_db, ExportFilters(**filters)) == len(expected)


def test_filters_apply_to_every_format(corpus_db, tmp_path):
    filters = ExportFilters(departments=("外资司",))
    assert [r["department"] for r in read_jsonl(export(corpus_db, "jsonl", tmp_path / "f.jsonl", filters).path)] == ["外资司"]
    export(corpus_db, "parquet", tmp_path / "hf", filters)
    assert pq.read_table(tmp_path / "hf" / "data").column("department").to_pylist() == ["外资司"]
    result = export(corpus_db, "warc", tmp_path / "f.warc.gz", filters)
    uris = {r.rec_headers.get_header("WARC-Target-URI") for r, _ in read_warc(tmp_path / "f.warc.gz") if r.rec_type == "response"}
    assert result.count == 2 and uris == {GBK_URL}  # both stored captures of that one document


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"since": "2023/01/01"}, "--since must be"),
        ({"until": "23"}, "--until must be"),
        ({"since": "2024", "until": "2023-06"}, "is after"),
        ({"query": "  ，。 "}, "nothing searchable"),
    ],
)
def test_bad_filters_are_clear_errors(corpus_db, tmp_path, filters, message):
    with pytest.raises(ValueError, match=message):
        export(corpus_db, "jsonl", tmp_path / "x.jsonl", ExportFilters(**filters))
    assert not (tmp_path / "x.jsonl").exists()


# --- Safety ------------------------------------------------------------------------------------------


def test_a_failed_export_leaves_the_previous_file_intact(corpus_db, tmp_path):
    out = tmp_path / "c.jsonl"
    export(corpus_db, "jsonl", out)
    before = out.read_bytes()
    with write_transaction(corpus_db):
        corpus_db.execute("UPDATE documents SET policy_links = '{broken' WHERE language = 'en'")
    with pytest.raises(json.JSONDecodeError):
        export(corpus_db, "jsonl", out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("c.jsonl")] == ["c.jsonl"]


def test_export_does_not_write_to_the_corpus(corpus_db, tmp_path):
    before = corpus_db.execute("SELECT total_changes()").fetchone()[0]
    for fmt in ("jsonl", "csv", "parquet", "warc"):
        export(corpus_db, fmt, tmp_path / f"out-{fmt}")
    assert corpus_db.execute("SELECT total_changes()").fetchone()[0] == before
    assert not corpus_db.conn.in_transaction


def test_progress_reports_counts_up_to_the_total(corpus_db, tmp_path):
    seen = []
    export(corpus_db, "csv", tmp_path / "c.csv", progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_exports_with_filters_and_reports(corpus_db, db_path, tmp_path):
    out = tmp_path / "fumao.jsonl"
    result = CliRunner().invoke(
        cli, ["export", "--db", str(db_path), "--format", "jsonl", "--out", str(out), "--since", "2022",
              "--until", "2022", "--department", "外资司"]
    )
    assert result.exit_code == 0, result.output
    assert "exported 1 document(s) as jsonl" in result.output
    assert [r["title"] for r in read_jsonl(out)] == ["外资准入负面清单解读"]


def test_cli_writes_jsonl_and_csv_to_standard_output(corpus_db, db_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--db", str(db_path), "--format", "jsonl", "--out", "-", "--query", "出口"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["title"] for r in lines] == ["出口管制解读"]
    result = runner.invoke(cli, ["export", "--db", str(db_path), "--format", "csv", "--out", "-", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbftitle,resulting_text,")


def test_cli_refuses_bad_arguments_with_clear_messages(corpus_db, db_path, tmp_path):
    runner = CliRunner()
    bad = runner.invoke(cli, ["export", "--db", str(db_path), "--format", "csv", "--since", "last week"])
    assert bad.exit_code == 1 and "--since must be YYYY" in bad.output
    assert runner.invoke(cli, ["export", "--db", str(db_path)]).exit_code == 2
    assert runner.invoke(cli, ["export", "--db", str(db_path), "--format", "warc", "--with-html"]).exit_code == 2
    assert runner.invoke(cli, ["export", "--db", str(db_path), "--format", "parquet", "--out", "-"]).exit_code == 1
    missing = runner.invoke(cli, ["export", "--db", str(tmp_path / "none.db"), "--format", "jsonl"])
    assert missing.exit_code == 1 and "no corpus" in missing.output
    assert not (tmp_path / "none.db").exists()


def test_cli_help_teaches_and_lists_fields():
    runner = CliRunner()
    text = runner.invoke(cli, ["export", "--help"]).output
    for needle in ("Examples:", "--with-html", "--query", "--since", "train-0000N-of-0000M", "seed record"):
        assert needle in text
    fields = runner.invoke(cli, ["export", "--fields"]).output.splitlines()
    assert [line.split()[0] for line in fields] == FIELD_NAMES


def test_default_output_names(corpus_db, db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for fmt in ("jsonl", "warc"):
        assert CliRunner().invoke(cli, ["export", "--db", str(db_path), "--format", fmt]).exit_code == 0
    assert Path("corpus.jsonl").exists() and Path("corpus.warc.gz").exists()
