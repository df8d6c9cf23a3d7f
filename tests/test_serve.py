"""`corpus serve`: the corpus in Datasette, read-only, searched in Chinese and English.

The sample corpus below (the seed record plus a few records in its shape) is also served by
test_browser.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.serve import DATABASE_NAME, SETTINGS, build_datasette, load_metadata, running_server
from crawler.store import import_record, open_corpus, update_document_fields, write_transaction
from crawler.store.schema import CAPTURE_COLUMNS, DOCUMENT_COLUMNS, RUN_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
WAYBACK = "https://web.archive.org/web"
MOFCOM = "http://www.mofcom.gov.cn/article"


def _record(ts: str, path: str, title: str, paragraphs: list[str], date: str, english: list[str] | None,
            translated_title: str | None, summary: str | None) -> dict:
    return {
        "title": title,
        "resulting_text": "\n\n".join(paragraphs),
        "input_url": f"{ts}/{MOFCOM}/{path}",
        "returned_url": f"{WAYBACK}/{ts}/{MOFCOM}/{path}",
        "date": date,
        "translated_title": translated_title,
        "translated_content": "\n\n".join(english) if english else None,
        "english_summary": summary,
    }


# Records in the seed record's shape, with the fields the crawl adds (department, links...) after them.
SAMPLE_RECORDS: list[tuple[dict, dict]] = [
    (
        _record(
            "20240315083000", "zwgk/gkzcjd/202403/20240303481234.shtml",
            "商务部外资司负责人解读《扎实推进高水平对外开放更大力度吸引和利用外资行动方案》",
            [
                "近日，国务院办公厅印发《扎实推进高水平对外开放更大力度吸引和利用外资行动方案》（以下简称《行动方案》）。商务部外资司负责人对《行动方案》进行了解读。",
                "一、《行动方案》出台的背景。利用外资是我国对外开放的重要内容，外资企业是推动经济高质量发展的重要力量。",
                "二、《行动方案》的主要内容。《行动方案》提出扩大市场准入、提高外商投资自由化水平等24条措施。",
            ],
            "2024-03-20",
            [
                "Recently, the General Office of the State Council issued the Action Plan for Steadily Advancing High-Level Opening-Up and Making Greater Efforts to Attract and Utilize Foreign Investment (the Action Plan). The head of the Department of Foreign Investment Administration explained it.",
                "1. Background. Utilizing foreign investment is an important part of China's opening-up, and foreign-invested enterprises are an important force for high-quality development.",
                "2. Main content. The Action Plan puts forward 24 measures, including expanding market access and raising the level of investment liberalization.",
            ],
            "Head of the Department of Foreign Investment Administration explains the action plan on attracting foreign investment",
            "The action plan sets out 24 measures to widen market access and attract foreign investment.",
        ),
        {"department": "外资司", "source": "外资司", "translated_content_engine": "import",
         "policy_links": [{"text": "扎实推进高水平对外开放更大力度吸引和利用外资行动方案",
                           "url": "https://www.gov.cn/zhengce/content/202403/content_6940154.htm"}],
         "attachments": [{"text": "行动方案.pdf", "url": "http://www.mofcom.gov.cn/x/行动方案.pdf"}]},
    ),
    (
        _record(
            "20221110120000", "zwgk/gkzcjd/202211/20221103365432.shtml",
            "商务部条约法律司负责人解读《关于外商投资企业境内投资的规定》",
            [
                "为进一步规范外资企业境内再投资行为，商务部会同有关部门修订了有关规定。",
                "规定明确了外资企业境内投资的备案程序和信息报告要求。",
            ],
            "2022-11-08",
            [
                "To further regulate domestic reinvestment by foreign-funded enterprises, the Ministry of Commerce and other departments revised the relevant provisions.",
                "The provisions set out the filing procedure and information reporting requirements.",
            ],
            "Head of the Department of Treaty and Law explains the provisions on domestic investment by foreign-invested enterprises",
            "New provisions regulate how foreign-funded enterprises reinvest in China.",
        ),
        {"department": "条法司", "source": "条法司", "translated_content_engine": "llamacpp",
         "translated_content_model": "qwen2.5-coder-1.5b-instruct-q4_k_m",
         "attachments": [{"text": "规定全文", "url": "http://www.mofcom.gov.cn/x/guiding.doc"},
                         {"text": "bad link", "url": "javascript:alert(1)"}]},
    ),
    (
        _record(
            "20210601000000", "zwgk/gkzcjd/202105/20210503060001.shtml",
            "商务部对外贸易司负责人解读进口关税调整有关问题",
            [
                "自2021年起，我国对部分商品的进口关税进行调整，降低部分消费品的关税水平。",
                "此次调整有利于扩大进口、满足消费升级需求。",
            ],
            "2021-05-28",
            None,
            None,
            None,
        ),
        {"department": "外贸司", "source": "外贸司", "translation_error": "engine timed out"},
    ),
    (
        _record(
            "20200110093000", "zhengcejd/bj/202001/20200102927001.shtml",
            "关于电子商务进农村综合示范工作的政策解读",
            ["电子商务进农村综合示范工作取得积极成效，带动了农村消费和农产品上行。"],
            "2020-01-06",
            ["The comprehensive demonstration of e-commerce in rural areas has achieved positive results."],
            "Policy interpretation on the comprehensive demonstration of e-commerce in rural areas",
            None,
        ),
        {"department": "电子商务司", "translated_content_engine": "openai"},
    ),
]


def build_sample_corpus(path: Path) -> Path:
    """A small corpus at ``path``: the seed record plus the sample records, with their metadata."""
    seed = json.loads((FIXTURES / "seed-record.json").read_text(encoding="utf-8"))
    db = open_corpus(path)
    try:
        with write_transaction(db):
            doc_id, _ = import_record(db, seed)
            update_document_fields(db, doc_id, {"department": "服贸司", "source": "服贸司",
                                                "translated_content_engine": "import"})
            for record, fields in SAMPLE_RECORDS:
                doc_id, _ = import_record(db, record)
                update_document_fields(db, doc_id, fields)
    finally:
        db.close()
    return path


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory) -> Path:
    return build_sample_corpus(tmp_path_factory.mktemp("serve") / "sample.db")


@pytest.fixture(scope="module")
def ds(corpus_path):
    datasette = build_datasette(corpus_path)
    yield datasette
    for database in datasette.databases.values():
        database.close()


def get(ds, path: str, **kwargs):
    return asyncio.run(ds.client.get(path, **kwargs))


def rows(ds, path: str) -> list[dict]:
    response = get(ds, path + ("&" if "?" in path else "?") + "_shape=array")
    assert response.status_code == 200, response.text
    return response.json()


# --- what is served -------------------------------------------------------------------------------


def test_served_under_the_name_corpus_whatever_the_file_name(ds, corpus_path):
    assert corpus_path.stem != DATABASE_NAME
    assert DATABASE_NAME in ds.databases
    data = get(ds, "/corpus.json").json()
    tables = {t["name"]: t for t in data["tables"]}
    assert {"documents", "captures", "crawl_runs", "corpus_meta"} <= set(tables)
    assert tables["documents"]["count"] == 5
    assert tables["documents"]["fts_table"] == "documents_en_fts"


def test_metadata_describes_every_column_of_the_schema():
    tables = load_metadata()["databases"]["corpus"]["tables"]
    for name, columns in (("documents", DOCUMENT_COLUMNS), ("captures", CAPTURE_COLUMNS), ("crawl_runs", RUN_COLUMNS)):
        described = tables[name]["columns"]
        assert set(described) == set(columns), name
        assert all(isinstance(text, str) and text.strip() for text in described.values())


def test_metadata_title_license_source_and_how_to_search_chinese(ds):
    meta = get(ds, "/-/metadata.json").json()
    assert meta["title"] and meta["license"] and meta["source"] and meta["source_url"]
    assert "MATCH '\"外 资\"'" in meta["description_html"]
    page = get(ds, "/").text
    assert "Searching Chinese" in page and "Wayback" in page


def test_documents_table_has_the_facets_and_sortable_columns(ds):
    data = get(ds, "/corpus/documents.json?_extra=facet_results").json()
    facets = data["facet_results"]
    assert {"department", "publish_date", "section", "language", "translated_content_engine"} <= set(facets)
    departments = {r["value"]: r["count"] for r in facets["department"]["results"]}
    assert departments == {"服贸司": 1, "外资司": 1, "条法司": 1, "外贸司": 1, "电子商务司": 1}
    engines = {r["value"]: r["count"] for r in facets["translated_content_engine"]["results"]}
    assert engines == {"import": 2, "llamacpp": 1, "openai": 1}
    page = get(ds, "/corpus/documents").text
    assert "publish_date (year)" in page
    assert 'data-column="publish_date"' in page


def test_year_facet_counts_by_year_and_filters_by_year(ds):
    data = get(ds, "/corpus/documents.json?_extra=facet_results").json()
    years = data["facet_results"]["publish_date"]
    assert years["type"] == "year"
    assert [(r["value"], r["count"]) for r in years["results"]] == [
        ("2024", 1), ("2023", 1), ("2022", 1), ("2021", 1), ("2020", 1)
    ]
    toggle = next(r for r in years["results"] if r["value"] == "2022")["toggle_url"]
    assert "publish_date__startswith=2022" in toggle
    selected = rows(ds, "/corpus/documents.json?publish_date__startswith=2022")
    assert [r["department"] for r in selected] == ["条法司"]


def test_sortable_columns_and_default_sort(ds):
    data = get(ds, "/corpus/documents.json?_shape=objects").json()
    dates = [r["publish_date"] for r in data["rows"]]
    assert dates == sorted(dates, reverse=True)
    assert get(ds, "/corpus/documents.json?_sort=department").status_code == 200
    refused = get(ds, "/corpus/documents.json?_sort=resulting_text")  # not in sortable_columns
    assert refused.status_code != 200 and "Cannot sort table by resulting_text" in refused.text


def test_captures_table_view_leaves_out_the_raw_page_unless_asked(ds):
    default = get(ds, "/corpus/captures.json").json()
    assert "body" not in default["columns"] and "urlkey" in default["columns"]
    asked = get(ds, "/corpus/captures.json?_col=body").json()
    assert "body" in asked["columns"]
    assert "body" in get(ds, "/corpus/captures/1.json").json()["columns"]


# --- searching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected_departments"),
    [
        ("赋", {"服贸司"}),  # 1 character
        ("外资", {"外资司", "条法司"}),  # 2 characters
        ("关税", {"外贸司"}),
        ("数字化赋能", {"服贸司"}),  # 3+ characters
        ("外资 行动方案", {"外资司"}),  # several terms: all must occur
        ("  外资　规定 ", {"条法司"}),  # ideographic space separates terms too
        ("2021年", {"外贸司"}),
        ("资外", set()),  # characters in the wrong order are not the word
        ('"外资', {"外资司", "条法司"}),  # a stray quote cannot break the query
        ("", set()),
    ],
)
def test_chinese_search_matches_substrings_of_any_length(ds, query, expected_departments):
    from urllib.parse import quote

    hits = rows(ds, f"/corpus/search_zh.json?q={quote(query)}")
    assert {h["department"] for h in hits} == expected_departments


def test_chinese_search_snippet_shows_the_term_in_context(ds):
    [hit] = rows(ds, "/corpus/search_zh.json?q=关税")
    assert hit["snippet"].count("<b>关税</b>") == 2
    assert hit["title"] == "商务部对外贸易司负责人解读进口关税调整有关问题"
    assert hit["wayback_url"].startswith("https://web.archive.org/web/20210601000000/")
    long_hit = rows(ds, "/corpus/search_zh.json?q=%E5%AE%9E%E4%BD%93%E7%BB%8F%E6%B5%8E")  # 实体经济, deep in the seed
    assert long_hit[0]["snippet"].startswith("…") and "<b>实体经济</b>" in long_hit[0]["snippet"]


def test_chinese_search_agrees_with_the_cli_search(corpus_path, ds):
    from crawler.store import search

    db = open_corpus(corpus_path, readonly=True)
    try:
        for query in ("外资", "赋", "数字化 赋能", "规定"):
            expected = {hit.id for hit in search(db, query, lang="zh", limit=100)}
            assert {h["id"] for h in rows(ds, f"/corpus/search_zh.json?q={query}")} == expected, query
    finally:
        db.close()


@pytest.mark.parametrize(
    ("query", "expected_departments"),
    [
        ("action plan", {"外资司"}),
        ("foreign-funded", {"条法司"}),
        ("reinvest", {"条法司"}),  # stemmed: reinvestment
        ("liberalize", {"外资司"}),  # stemmed: liberalization
        ("rural e-commerce", {"电子商务司"}),
        ("digital empowerment", {"服贸司"}),
        ("rural NOT e-commerce", set()),  # operators are words, not syntax: all must occur
        ("tariff", set()),  # the tariff document has no English yet
        ("", set()),
    ],
)
def test_english_search(ds, query, expected_departments):
    from urllib.parse import quote

    hits = rows(ds, f"/corpus/search_en.json?q={quote(query)}")
    assert {h["department"] for h in hits} == expected_departments


def test_english_search_through_the_documents_table_search_box(ds):
    hits = rows(ds, "/corpus/documents.json?_search=action+plan")
    assert [h["department"] for h in hits] == ["外资司"]


def test_search_pages_highlight_and_link_to_the_document(ds):
    page = get(ds, "/corpus/search_zh?q=关税").text
    assert "<title>Chinese search (中文检索)</title>" in page
    assert "<mark>关税</mark>" in page
    doc_id = rows(ds, "/corpus/search_zh.json?q=关税")[0]["id"]
    assert f'href="/corpus/documents/{doc_id}"' in page
    assert "<b>" not in page.split("<tbody>")[1]
    assert '>Wayback 2021-06-01 00:00</a>' in page


# --- the other canned queries ---------------------------------------------------------------------


def test_latest_interpretations_newest_first(ds):
    latest = rows(ds, "/corpus/latest.json")
    assert [r["date"] for r in latest] == ["2024-03-20", "2023-12-24", "2022-11-08", "2021-05-28", "2020-01-06"]


def test_departments_and_by_department(ds):
    departments = {r["department"]: r["documents"] for r in rows(ds, "/corpus/departments.json")}
    assert departments == {"服贸司": 1, "外资司": 1, "条法司": 1, "外贸司": 1, "电子商务司": 1}
    page = get(ds, "/corpus/departments").text
    assert 'href="/corpus/by_department?department=%E5%A4%96%E8%B5%84%E5%8F%B8"' in page
    hits = rows(ds, "/corpus/by_department.json?department=外资司")
    assert [h["date"] for h in hits] == ["2024-03-20"]


def test_documents_missing_a_translation_or_summary(ds):
    missing = {r["department"]: r for r in rows(ds, "/corpus/missing_english.json")}
    assert set(missing) == {"外贸司", "电子商务司"}
    assert missing["外贸司"]["missing"] == "title translation summary"
    assert missing["外贸司"]["translation_error"] == "engine timed out"
    assert missing["电子商务司"]["missing"] == "summary"


def test_every_canned_query_runs_on_an_empty_corpus(tmp_path):
    path = tmp_path / "empty.db"
    open_corpus(path).close()
    empty = build_datasette(path)
    for name in load_metadata()["databases"]["corpus"]["queries"]:
        response = get(empty, f"/corpus/{name}.json?q=外资&department=x&_shape=array")
        assert response.status_code == 200, (name, response.text)
        assert response.json() == []


# --- the document page ----------------------------------------------------------------------------


def test_document_page_side_by_side_with_links_and_paragraphs(ds):
    doc_id = rows(ds, "/corpus/search_zh.json?q=行动方案")[0]["id"]
    page = get(ds, f"/corpus/documents/{doc_id}").text
    assert '<section class="side-by-side">' in page
    # three paragraphs each side, paired row by row
    assert page.count('<p class="zh" lang="zh-CN">') == 3
    assert page.count('<p class="en" lang="en">') == 3
    assert "一、《行动方案》出台的背景" in page and "1. Background." in page
    assert 'href="https://web.archive.org/web/20240315083000/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202403/20240303481234.shtml"' in page
    assert 'class="original-link" href="http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202403/20240303481234.shtml"' in page
    assert 'href="https://www.gov.cn/zhengce/content/202403/content_6940154.htm"' in page
    assert "行动方案.pdf" in page
    assert "The action plan sets out 24 measures" in page


def test_document_page_names_the_translation_engine_and_model(ds):
    doc_id = rows(ds, "/corpus/search_zh.json?q=规定")[0]["id"]
    page = get(ds, f"/corpus/documents/{doc_id}").text
    assert "machine translation: llamacpp, qwen2.5-coder-1.5b-instruct-q4_k_m" in page
    assert 'href="http://www.mofcom.gov.cn/x/guiding.doc"' in page
    assert 'href="javascript:' not in page and "<li>bad link</li>" in page  # not http(s): text only


def test_document_page_without_translation_says_so(ds):
    doc_id = rows(ds, "/corpus/search_zh.json?q=关税")[0]["id"]
    page = get(ds, f"/corpus/documents/{doc_id}").text
    assert "Not translated yet (last attempt failed: engine timed out)" in page
    assert page.count("<p>自2021年起") == 1 and "<p>此次调整" in page


def test_document_page_of_the_seed_record(ds):
    doc_id = rows(ds, "/corpus/search_zh.json?q=数字化赋能")[0]["id"]
    page = get(ds, f"/corpus/documents/{doc_id}").text
    assert "Wayback capture of 2023-12-21 09:19:31" in page
    assert "Accelerating the Digital Empowerment" in page


# --- read-only --------------------------------------------------------------------------------------


def test_write_attempts_are_refused_and_the_file_is_unchanged(corpus_path, ds):
    before = file_digest(corpus_path)
    attempts = [
        "insert into corpus_meta (key, value) values ('x', 'y')",
        "with x as (select 1) insert into corpus_meta (key, value) select 'x', 'y' from x",
        "with x as (select 1) update documents set title = 'x'",
        "with x as (select 1) delete from documents",
        "drop table documents",
        "pragma user_version = 99",
        "attach database ':memory:' as other",
    ]
    for sql in attempts:
        response = get(ds, "/corpus.json", params={"sql": sql})
        assert response.status_code == 400 or not response.json().get("ok", True), sql
        assert response.json().get("error"), sql
    # Only reading methods are answered: no write API, no posted canned query, no posted form
    for path in ("/corpus/-/create", "/corpus/documents/-/insert", "/corpus/documents/1/-/delete",
                 "/corpus/search_zh", "/corpus"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = asyncio.run(ds.client.request(method, path, json={"row": {"title": "x"}}))
            assert response.status_code == 405, (method, path)
            assert "read-only" in response.text
    assert not any(q.get("write") for q in load_metadata()["databases"]["corpus"]["queries"].values())
    assert file_digest(corpus_path) == before
    assert get(ds, "/corpus.json").json()["tables"][0]["count"] >= 0
    assert rows(ds, "/corpus.json?sql=select+count(*)+as+n+from+corpus_meta+where+key='x'") == [{"n": 0}]


def test_even_a_write_connection_to_the_served_corpus_is_read_only(corpus_path, ds):
    before = file_digest(corpus_path)

    async def write():
        return await ds.get_database("corpus").execute_write("insert into corpus_meta (key, value) values ('x', 'y')")

    with pytest.raises(Exception, match="readonly|read-only|query_only"):
        asyncio.run(write())
    assert file_digest(corpus_path) == before


def test_sql_has_a_time_limit(ds):
    assert SETTINGS["sql_time_limit_ms"] > 0
    assert get(ds, "/-/settings.json").json()["sql_time_limit_ms"] == SETTINGS["sql_time_limit_ms"]
    runaway = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
    response = get(ds, "/corpus.json", params={"sql": runaway})
    assert response.status_code == 400
    assert "took too long" in response.json()["error"].lower()


def test_immutable_mode_serves_the_same_and_refuses_an_unfinished_file(tmp_path):
    path = build_sample_corpus(tmp_path / "snapshot.db")
    snapshot = build_datasette(path, immutable=True)
    assert not snapshot.get_database("corpus").is_mutable
    assert {h["department"] for h in rows(snapshot, "/corpus/search_zh.json?q=外资")} == {"外资司", "条法司"}
    writer = open_corpus(path)  # an open writer keeps a write-ahead log
    try:
        with write_transaction(writer):
            writer["corpus_meta"].upsert({"key": "note", "value": "x"}, pk="key")
        from crawler.store import CorpusError

        with pytest.raises(CorpusError, match="write-ahead log"):
            build_datasette(path, immutable=True)
    finally:
        writer.close()


def test_refuses_a_file_that_is_not_a_corpus(tmp_path):
    from crawler.store import CorpusError

    with pytest.raises(CorpusError, match="no corpus"):
        build_datasette(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    import sqlite3

    conn = sqlite3.connect(other)
    conn.execute("create table t (x)")
    conn.commit()
    conn.close()
    before = file_digest(other)
    with pytest.raises(CorpusError, match="not a MOFCOM corpus"):
        build_datasette(other)
    assert file_digest(other) == before


# --- plain Datasette ---------------------------------------------------------------------------------


def _plain_datasette(corpus_file: Path, path: str, *extra: str) -> subprocess.CompletedProcess:
    from crawler.serve import METADATA_PATH

    command = [sys.executable, "-m", "datasette", str(corpus_file), "-m", str(METADATA_PATH), *extra, "--get", path]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_plain_datasette_with_only_the_metadata_searches_chinese(corpus_path, tmp_path):
    corpus_file = tmp_path / "corpus.db"  # plain Datasette names the database after the file
    corpus_file.write_bytes(corpus_path.read_bytes())
    result = _plain_datasette(corpus_file, "/corpus/search_zh.json?q=%E5%A4%96%E8%B5%84&_shape=array")
    assert result.returncode == 0, result.stderr
    assert {h["department"] for h in json.loads(result.stdout)} == {"外资司", "条法司"}
    result = _plain_datasette(corpus_file, "/corpus/documents?publish_date__startswith=2022")
    assert result.returncode == 0 and "条法司" in result.stdout


def test_plain_datasette_with_the_documented_options_shows_the_document_page(corpus_path, tmp_path):
    from crawler.serve import PLUGINS_DIR, TEMPLATES_DIR

    corpus_file = tmp_path / "corpus.db"
    corpus_file.write_bytes(corpus_path.read_bytes())
    result = _plain_datasette(corpus_file, "/corpus/documents/1", "--template-dir", str(TEMPLATES_DIR),
                              "--plugins-dir", str(PLUGINS_DIR))
    assert result.returncode == 0, result.stderr
    assert '<section class="side-by-side">' in result.stdout


# --- over HTTP: the Python API and the command ------------------------------------------------------


def test_running_server_answers_on_loopback(corpus_path):
    with running_server(corpus_path) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/corpus")
        with urllib.request.urlopen(url + "/search_zh.json?q=%E5%A4%96%E8%B5%84&_shape=array", timeout=10) as r:
            assert {h["department"] for h in json.load(r)} == {"外资司", "条法司"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_corpus_serve_command(corpus_path):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "serve", "--db", str(corpus_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/corpus"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/documents.json?_shape=array&_col=title", timeout=5) as r:
                    titles = [row["title"] for row in json.load(r)]
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "corpus serve did not answer"
                time.sleep(0.2)
        assert len(titles) == 5
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert f"{url}" in output
    assert "read-only" in output
    assert proc.returncode == 0 and "Stopped." in output  # Ctrl-C is the normal way to stop it


def test_corpus_serve_without_a_corpus_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no corpus at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_corpus_serve_on_a_port_in_use_is_a_clear_error(corpus_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(corpus_path), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_corpus_serve_help_teaches():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for text in ("--db", "--port", "--host", "--open", "--immutable", "127.0.0.1", "Example"):
        assert text in result.output
