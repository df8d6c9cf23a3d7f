"""Every page fixture in tests/fixtures/pages/manifest.json against its hand-written expected record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import ExtractedPage, Rejection, extract_page, find_listing_links
from crawler.extract.evaluate import load_golden, ours, score_golden, trafilatura_baseline

PAGES = Path(__file__).parent / "fixtures" / "pages"
MANIFEST = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))
GOLDEN = {page.id: page for page in load_golden(PAGES)}
ARTICLE_FIELDS = (
    "title", "publish_date", "source", "department", "document_number", "index_number", "policy_links",
    "attachments", "english_url", "chinese_url", "language", "extractor", "charset", "resulting_text",
)


def _ids(kind: str) -> list[str]:
    return [page.id for page in GOLDEN.values() if page.kind == kind]


@pytest.mark.parametrize("page_id", _ids("article"))
def test_article_matches_expected_record(page_id):
    page = GOLDEN[page_id]
    result = extract_page(page.body, page.url, page.headers)
    assert isinstance(result, ExtractedPage), result
    got = result.to_document()
    for field in ARTICLE_FIELDS:
        assert field in page.expected, f"{page_id}: expected record lacks {field}"
        assert got[field] == page.expected[field], f"{page_id}: {field}"
    for fragment in page.expected.get("warnings_contain", []):
        assert any(fragment in w for w in result.warnings), (fragment, result.warnings)
    assert 0.0 < got["language_score"] <= 1.0
    assert got["language_method"] in ("han-share", "langdetect")


@pytest.mark.parametrize("page_id", _ids("reject"))
def test_reject_page_is_rejected_for_the_expected_reason(page_id):
    page = GOLDEN[page_id]
    result = extract_page(page.body, page.url, page.headers)
    assert isinstance(result, Rejection), result
    assert result.reason == page.expected["rejected"]
    assert result.detail


@pytest.mark.parametrize("page_id", _ids("listing"))
def test_listing_page_links(page_id):
    page = GOLDEN[page_id]
    assert find_listing_links(page.body, page.url, page.headers) == page.expected["links"]


def test_manifest_covers_what_the_issue_asks():
    pages = MANIFEST["pages"]
    ids = [p["id"] for p in pages]
    assert len(ids) == len(set(ids))
    with_bytes = [p for p in pages if p.get("file")]
    assert len(with_bytes) >= 24
    for p in with_bytes:
        assert (PAGES / p["file"]).is_file(), p["file"]
        assert p["provenance"] in ("real", "rebuilt")
        assert p["captures"] and all(len(c["timestamp"]) == 14 for c in p["captures"])
        assert p["kind"] in ("article", "reject", "listing")
        if p["kind"] == "article":
            assert (PAGES / p["expected"]).is_file()
    extractors = {GOLDEN[i].expected["extractor"] for i in _ids("article")}
    assert {"mofcom-era-a", "mofcom-era-b", "mofcom-era-c", "mofcom-english", "generic-trafilatura"} <= extractors
    reasons = {GOLDEN[i].expected["rejected"] for i in _ids("reject")}
    assert {"site-404", "wayback-error", "empty", "script-shell", "not-interpretation"} <= reasons
    hosts = {p["url"].split("/")[2] for p in with_bytes}
    assert any(h.split(".")[0] not in ("www", "english") for h in hosts)  # a department sub-site
    assert len(_ids("listing")) >= 4
    site_404 = next(p for p in pages if p.get("expected") == {"rejected": "site-404"})
    assert site_404["status"] == 200


def test_real_fixtures_are_the_reference_bytes():
    samples = Path(__file__).parent / "fixtures" / "reference-samples"
    for p in MANIFEST["pages"]:
        if p.get("provenance") != "real":
            continue
        body = (PAGES / p["file"]).read_bytes()
        if p["file"].startswith("real/mofcom_"):
            assert body == (samples / Path(p["file"]).name).read_bytes()
        else:
            assert b"This URL has been excluded from the Wayback Machine." in body


def test_gbk_fixtures_are_really_gbk():
    gbk = [p for p in MANIFEST["pages"] if p.get("file", "").endswith(".gbk.html")]
    assert len(gbk) >= 2
    for p in gbk:
        body = (PAGES / p["file"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        body.decode("gb18030")
    lying = next(p for p in gbk if "UTF-8" in p["headers"].get("Content-Type", "").upper())
    assert lying["id"] == "era-a-lying-header"


def test_golden_scores_ours_and_the_baseline():
    mine = score_golden(ours, PAGES)
    assert mine["articles"] == len(_ids("article"))
    assert mine["fields"]["body_f1"] >= 0.98
    assert mine["fields"]["title"] == 1.0 and mine["fields"]["publish_date"] == 1.0
    assert mine["rejects"]["right_reason"] == mine["rejects"]["pages"]
    baseline = score_golden(trafilatura_baseline, PAGES)
    assert baseline["articles"] == mine["articles"]
    assert 0.0 <= baseline["fields"]["body_f1"] <= 1.0
    assert mine["fields"]["body_f1"] > baseline["fields"]["body_f1"]
