"""Scrapy settings for the MOFCOM corpus crawl: every default in one place.

Each value can be overridden per run (``scrapy crawl mofcom -s NAME=VALUE``) or through
``corpus crawl`` options, which set the same names.
"""

import os

from crawler import __version__

BOT_NAME = "mofcom-corpus"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Who we are: the Internet Archive asks heavy users for a way to reach them.
CONTACT = os.environ.get("CORPUS_CONTACT", "https://github.com/mofcom-corpus/mofcom-corpus")
USER_AGENT = f"mofcom-corpus/{__version__} (research corpus builder; +{CONTACT})"

# The corpus the pipeline writes to.
CORPUS_DB = os.environ.get("CORPUS_DB", "corpus.db")

# The Wayback Machine (or a local replay of it). Records always show the public form.
WAYBACK_BASE_URL = os.environ.get("WAYBACK_BASE_URL", "https://web.archive.org")

# Politeness (crawler/middlewares/politeness.py). Rates are "N requests per window seconds", spread
# evenly; every time value may be made small (tests run with windows of a fraction of a second).
# CDX and TimeMaps share the archive's 30/min pool; 24/min is 80% of it, the archive's own advice.
WAYBACK_CDX_RATE = 24
WAYBACK_RATE_WINDOW = 60.0  # seconds, for WAYBACK_CDX_RATE
# Playback tolerates more (the best-kept client sends 8/s); a few per second is plenty for MOFCOM.
WAYBACK_PLAYBACK_RATE = 3
WAYBACK_PLAYBACK_WINDOW = 1.0  # seconds, for WAYBACK_PLAYBACK_RATE
WAYBACK_429_PAUSE = 60.0  # a live 429 stops all Wayback traffic this long...
WAYBACK_RATE_DECREASE = 0.5  # ...and multiplies that pool's rate by this
WAYBACK_RATE_RECOVERY = 600.0  # seconds without a 429 before the rate climbs back one step
WAYBACK_MIN_RATE_SHARE = 0.05  # the rate never falls below this share of the configured one
# Seconds added to each window: the archive counts arrivals, and delays on the way vary.
WAYBACK_RATE_SLACK = 0.05
# Refused/reset connections are the archive's firewall: after this many in a row, back off...
WAYBACK_BAN_THRESHOLD = 3
WAYBACK_BAN_BACKOFF_START = 60.0  # ...this long, doubling while they go on...
WAYBACK_BAN_BACKOFF_MAX = 3600.0  # ...up to an hour
# Retries of live failures (5xx, 429, timeouts, refused/reset connections), crawler/middlewares/retry.py:
# WAYBACK_RETRY_BACKOFF * 2**(n-1) seconds before retry n (2, 4, 8, 16, 32, 64 s).
WAYBACK_RETRY_TIMES = 6
WAYBACK_RETRY_BACKOFF = 2.0
WAYBACK_RETRY_BACKOFF_MAX = 300.0
WAYBACK_MAX_HOPS = 10  # redirects followed per capture (nearest-capture hops + archived redirects)
WAYBACK_CDX_LIMIT = 1000  # rows per CDX page (then showResumeKey/resumeKey)

# Downloader middlewares: see crawler/middlewares/__init__.py for what each does and why this order.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ledger.LedgerMiddleware": 90,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.middlewares.redirects.WaybackRedirectMiddleware": 585,
    "crawler.middlewares.politeness.PolitenessMiddleware": 950,
}
# Scrapy retries 429 at once by default; a live 429 is the politeness layer's to handle.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
RETRY_TIMES = 2  # non-Wayback requests only; Wayback ones use WAYBACK_RETRY_TIMES
# Wayback requests carry dont_redirect (WaybackRedirectMiddleware follows them); others redirect as usual.
REDIRECT_ENABLED = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 8  # the limiter, not Scrapy's slots, sets the pace
DOWNLOAD_DELAY = 0
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output (100 by default), which
# cost about 2 ms of CPU per capture; our pipeline is synchronous, so one at a time loses nothing.
CONCURRENT_ITEMS = 1
AUTOTHROTTLE_ENABLED = False  # it ignores 429/503 (scrapy#4424); the limiter replaces it
DOWNLOAD_TIMEOUT = 60

# Wayback playback serves archived pages; the archive's own robots policy is applied upstream.
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("CORPUS_LOG_LEVEL", "INFO")

# Discovery (spiders/mofcom.py). The prefixes themselves are in crawler/sources.toml.
# Server-side CDX filters (full-match regexes): status 200 or "-" (revisits), and no type that is
# surely not a page. Archived Content-Types lie (HTML served as text/plain or octet-stream), so
# pages are not required to say text/html: the extractor tells a page from anything else.
CDX_FILTERS = [
    "statuscode:200|-",
    "!mimetype:(image|audio|video|font)/.*|application/(pdf|zip|x-rar.*|msword|vnd\\..*|x-shockwave-flash|"
    "(x-)?javascript|json)|text/(css|javascript)",
]
# Drop consecutive captures of unchanged content (same digest) on the archive's side.
CDX_COLLAPSE = ["digest"]
# Listing pages are re-read for links: this many of their captures per listing URL, newest first.
LISTING_CAPTURES_PER_URL = 3

# Items -> corpus.db, and what the crawl shows while it runs.
ITEM_PIPELINES = {"crawler.pipelines.CorpusPipeline": 300}
# Items are written in batches: this many per transaction, or whatever is pending after this many
# seconds. A crawl killed outright (kill -9, power loss) loses at most that much fetched work; what
# is already stored is never touched, and the next crawl fetches the lost captures again.
CORPUS_WRITE_BATCH = 100
CORPUS_WRITE_INTERVAL = 1.0
# Batches are written by a writer process, on another core than Scrapy's engine (crawler/writer.py).
CORPUS_WRITE_PROCESS = True
# Worker processes that extract pages while the engine fetches (crawler/extraction.py): a number, or
# "auto", one per core beyond the engine's (1 on 2 cores, none on 1). 0 extracts in the crawl's process.
CORPUS_EXTRACT_WORKERS = os.environ.get("CORPUS_EXTRACT_WORKERS", "auto")
# Seconds a worker may spend on one batch of pages; a page that alone takes longer ends as an error
# (timed-out, tried again by the next crawl) and the worker is replaced, so no page can stall the crawl
# (with 0 workers: seconds for each page, stopped by an alarm signal in the crawl's process).
CORPUS_EXTRACT_TIMEOUT = 60.0
EXTENSIONS = {"crawler.extensions.progress.CrawlProgress": 500}
CORPUS_PROGRESS = True  # live status line on stderr and the run report at the end
CORPUS_PROGRESS_INTERVAL = 1.0
