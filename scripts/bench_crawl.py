"""Crawl throughput: documents per second of the full crawl (discover, fetch, decode, extract,
language, store) against a bare Scrapy spider that only fetches the same captures, both against the
local replay with no limits, in the same run. Each crawl runs in its own process."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = ROOT / "tests" / "fixtures" / "pages" / "era-b" / "seed-20231203462051.html"
NO_LIMITS = {"WAYBACK_CDX_RATE": 1_000_000, "WAYBACK_PLAYBACK_RATE": 1_000_000, "CONCURRENT_REQUESTS": 16,
             "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR", "CORPUS_PROGRESS": False}

BARE_SPIDER = textwrap.dedent('''
    import json, sys, scrapy
    from scrapy.crawler import CrawlerProcess

    class Bare(scrapy.Spider):
        """Fetch every capture CDX lists, and nothing else."""
        name = "bare"

        def __init__(self, base, **kw):
            super().__init__(**kw)
            self.base = base

        async def start(self):
            yield scrapy.Request(f"{self.base}/cdx/search/cdx?url=www.mofcom.gov.cn/article/&matchType=prefix&output=json&limit=1000000")

        def parse(self, response):
            for row in json.loads(response.text)[1:]:
                yield scrapy.Request(f"{self.base}/web/{row[1]}id_/{row[2]}", callback=self.fetched)

        def fetched(self, response):
            self.crawler.stats.inc_value("bare/fetched")

    settings = json.loads(sys.argv[2])
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Bare)
    process.crawl(crawler, base=sys.argv[1])
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"fetched": stats.get("bare/fetched", 0), "seconds": stats["elapsed_time_seconds"]}))
''')


def synthetic_store(n: int):
    """``n`` distinct era-B interpretation pages (the seed page with its paragraphs varied)."""
    from crawler.replay.captures import CaptureStore

    page = SEED_PAGE.read_bytes()
    store = CaptureStore()
    for i in range(n):
        body = page.replace("近日".encode(), f"第{i}次".encode()).replace(b"20231203462051", f"2023120{i:07d}".encode())
        url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/202312/2023120{i:07d}.shtml"
        store.add(url, f"2023122{i % 10}091931", body=body, headers={"Content-Type": "text/html; charset=UTF-8"})
    return store


def ours(base_url: str) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        args = [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--wayback-url", base_url,
                "--prefix", "www.mofcom.gov.cn/article/"]
        for key, value in NO_LIMITS.items():
            args += ["--set", f"{key}={value}"]
        subprocess.run(args, check=True, capture_output=True, cwd=ROOT)
        import sqlite3

        conn = sqlite3.connect(db)
        counts = json.loads(conn.execute("SELECT counts FROM crawl_runs ORDER BY id DESC").fetchone()[0])
        stored = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        conn.close()
    return stored, counts["corpus/elapsed_seconds"]


def bare(base_url: str) -> tuple[int, float]:
    settings = {k: v for k, v in NO_LIMITS.items() if not k.startswith(("WAYBACK", "CORPUS"))}
    settings["TWISTED_REACTOR"] = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
    done = subprocess.run([sys.executable, "-c", BARE_SPIDER, base_url, json.dumps(settings)],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["fetched"], result["seconds"]


def run(quick: bool = False) -> str:
    from crawler.replay.testing import running_replay

    n = 300 if quick else 2000
    runs = 3 if quick else 5
    ours_rates, bare_rates = [], []
    with running_replay(synthetic_store(n)) as server:
        for _ in range(runs):  # alternate, so both see the same machine weather
            stored, seconds = ours(server.base_url)
            assert stored == n, f"the crawl stored {stored} of {n}"
            ours_rates.append(stored / seconds)
            fetched, seconds = bare(server.base_url)
            assert fetched == n, f"the bare spider fetched {fetched} of {n}"
            bare_rates.append(fetched / seconds)
    ours_med, bare_med = statistics.median(ours_rates), statistics.median(bare_rates)
    overhead = bare_med / ours_med - 1
    verdict = "met" if overhead <= 0.25 else "NOT met"
    return "\n".join([
        f"{n:,} distinct article captures on the local replay with no limits; median of {runs} runs each, "
        "alternating; documents (or fetches) per second of Scrapy's own elapsed time, so process start-up "
        "is not counted. Both crawls: 16 concurrent requests.",
        "",
        "| crawl | per second (median) | runs |",
        "|---|---:|---|",
        f"| bare Scrapy spider: CDX + fetch only (baseline) | {bare_med:,.0f} | {', '.join(f'{r:,.0f}' for r in bare_rates)} |",
        f"| `corpus crawl`: fetch, ledger, decode, extract, language, store | {ours_med:,.0f} | {', '.join(f'{r:,.0f}' for r in ours_rates)} |",
        "",
        f"Pipeline cost over the bare fetch: {overhead:+.0%} of time per document. Goal at most +25%: {verdict}.",
    ])
