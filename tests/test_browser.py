"""The served corpus in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

It serves the sample corpus on 127.0.0.1, runs a 2-character Chinese search and an English search
through the pages' own search boxes, checks the rows shown, opens a document page and screenshots it.
``UPDATE_SCREENSHOT=1`` writes the screenshot to docs/document-page.png (the README's picture);
otherwise it goes to a temporary folder, so a test run leaves the tree clean.

Needs: ``apt-get install -y chromium fonts-noto-cjk`` (the font: Chinese glyphs, not boxes) and the
``playwright`` Python package (no ``playwright install``: Debian's browser is used). Without them the
test is skipped with the reason, and fails when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_serve import build_sample_corpus

from crawler.serve import running_server

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SETUP = "apt-get install -y chromium fonts-noto-cjk && .venv/bin/pip install playwright"


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    return None


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    return bool(subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout.strip())


def _missing(reason: str) -> None:
    message = f"{reason}; the browser test needs it: {SETUP}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    executable = _chromium()
    if executable is None:
        _missing("no chromium browser on PATH")
    outside: list[str] = []

    def loopback_only(route):
        # Tests never touch the internet: anything not on 127.0.0.1 is refused and recorded.
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1000},
            locale="en-US",
        )
        context.set_default_timeout(15_000)
        context.route("**/*", loopback_only)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page
        finally:
            context.close()
        assert not errors, f"JavaScript errors on the pages: {errors}"
        assert not outside, f"the pages asked for resources off this machine: {outside}"


@pytest.fixture(scope="module")
def corpus_url(tmp_path_factory):
    path = build_sample_corpus(tmp_path_factory.mktemp("browser") / "corpus.db")
    with running_server(path) as url:
        yield url


def _cells(page, column: str) -> list[str]:
    return [text.strip() for text in page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()]


def test_chinese_search_english_search_and_the_document_page(browser_page, corpus_url, tmp_path):
    page = browser_page
    page.goto(corpus_url)
    assert "Searching Chinese" in page.locator(".metadata-description").inner_text()

    # A 2-character Chinese search through the Chinese search page's own box.
    page.get_by_role("link", name="Chinese search").first.click()
    page.wait_for_url("**/corpus/search_zh**")
    page.fill("input[name=q]", "外资")
    page.locator("form.sql input[type=submit]").click()
    page.wait_for_url("**/corpus/search_zh?q=*")
    assert sorted(_cells(page, "department")) == ["外资司", "条法司"]
    assert set(_cells(page, "title")) == {
        "商务部外资司负责人解读《扎实推进高水平对外开放更大力度吸引和利用外资行动方案》",
        "商务部条约法律司负责人解读《关于外商投资企业境内投资的规定》",
    }
    highlights = page.locator("td.col-snippet mark").all_inner_texts()
    assert highlights and set(highlights) == {"外资"}

    # Its title opens the document page: Chinese and English side by side, with the provenance links.
    page.get_by_role("link", name="商务部外资司负责人解读", exact=False).first.click()
    page.wait_for_url("**/corpus/documents/*")
    assert "行动方案" in page.locator("h1").inner_text()
    zh = page.locator(".side-by-side p.zh")
    en = page.locator(".side-by-side p.en")
    assert zh.count() == en.count() == 3
    for i in range(3):
        zh_box, en_box = zh.nth(i).bounding_box(), en.nth(i).bounding_box()
        assert zh_box["x"] + zh_box["width"] <= en_box["x"]  # Chinese on the left, English on the right
        assert abs(zh_box["y"] - en_box["y"]) < 2  # each pair of paragraphs starts on the same line
    assert zh.nth(1).inner_text().startswith("一、《行动方案》出台的背景")
    assert en.nth(1).inner_text().startswith("1. Background.")
    wayback = page.locator("a.wayback-link")
    assert wayback.get_attribute("href") == (
        "https://web.archive.org/web/20240315083000/http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202403/20240303481234.shtml"
    )
    assert page.locator("a.original-link").get_attribute("href").startswith("http://www.mofcom.gov.cn/article/")
    if os.environ.get("UPDATE_SCREENSHOT"):
        assert _has_cjk_font(), "no Chinese font: the screenshot would show boxes (apt-get install -y fonts-noto-cjk)"
    shot = (DOCS if os.environ.get("UPDATE_SCREENSHOT") else tmp_path) / "document-page.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # An English search through the documents table's own search box.
    page.goto(corpus_url + "/documents")
    page.fill("#_search", "action plan")
    page.press("#_search", "Enter")
    page.wait_for_url("**/corpus/documents?_search=*")
    assert _cells(page, "department") == ["外资司"]
    assert "action plan" in _cells(page, "translated_title")[0]

    # And through the English search query's box, with the hit highlighted.
    page.goto(corpus_url + "/search_en")
    page.fill("input[name=q]", "digital empowerment")
    page.locator("form.sql input[type=submit]").click()
    page.wait_for_url("**/corpus/search_en?q=*")
    assert _cells(page, "department") == ["服贸司"]
    assert {m.lower() for m in page.locator("td.col-snippet mark").all_inner_texts()} == {"digital", "empowerment"}
