"""Downloader middlewares between the spider and the Wayback Machine.

In request order (the numbers in ``DOWNLOADER_MIDDLEWARES``, crawler/settings.py):

- :mod:`.ledger` (90): a capture the corpus already accounts for is not fetched again;
- :mod:`.retry` (550, replacing Scrapy's): live failures retried with exponential backoff;
- :mod:`.redirects` (585): the archive's redirects followed and written down;
- :mod:`.politeness` (950, last before the network): per-endpoint rates, the 429 pause, ban backoff.
"""

from .ledger import LedgerMiddleware
from .politeness import PolitenessMiddleware
from .redirects import WaybackRedirectMiddleware
from .retry import BackoffRetryMiddleware

__all__ = ["BackoffRetryMiddleware", "LedgerMiddleware", "PolitenessMiddleware", "WaybackRedirectMiddleware"]
