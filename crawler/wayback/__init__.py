"""The Wayback Machine as the crawl sees it: URL forms, CDX rows, mementos and their redirects."""
