"""Archived MOFCOM pages turned into clean records.

>>> from crawler.extract import extract_page
>>> result = extract_page(body, url, headers)   # ExtractedPage | Rejection, never raises

One template per era of the site (``era_a``, ``era_b``, ``era_c``), one for the English site, and a
trafilatura fallback (``generic``); ``decode`` chooses the charset, ``clean`` removes boilerplate,
``language`` names the language, ``reject`` says what is not a document, ``listing`` reads listing
pages, ``evaluate`` scores all this against the golden pages in ``tests/fixtures/pages``.
"""

from .decode import UndecodableError, decode_html
from .language import LanguageGuess, detect_language
from .listing import find_listing_links, is_article_url, is_listing_url
from .page import EXTRACTOR_VERSION, ExtractedPage, Rejection, extract_page
from .reject import REASONS, is_interpretation

__all__ = [
    "EXTRACTOR_VERSION",
    "REASONS",
    "ExtractedPage",
    "LanguageGuess",
    "Rejection",
    "UndecodableError",
    "decode_html",
    "detect_language",
    "extract_page",
    "find_listing_links",
    "is_article_url",
    "is_interpretation",
    "is_listing_url",
]
