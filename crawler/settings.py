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

# Wayback playback serves archived pages; the archive's own robots policy is applied upstream.
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("CORPUS_LOG_LEVEL", "INFO")
