"""MOFCOM policy-interpretation corpus: Wayback crawl, extraction, translation, search and export."""

__version__ = "0.1.0"
