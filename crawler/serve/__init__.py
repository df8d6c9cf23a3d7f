"""Publishing the corpus in Datasette, read-only: metadata, canned queries, document page, plugins."""

from .app import (
    DATABASE_NAME,
    METADATA_PATH,
    PLUGINS_DIR,
    SETTINGS,
    TEMPLATES_DIR,
    build_datasette,
    check_corpus,
    load_metadata,
    running_server,
    serve,
)

__all__ = [
    "DATABASE_NAME",
    "METADATA_PATH",
    "PLUGINS_DIR",
    "SETTINGS",
    "TEMPLATES_DIR",
    "build_datasette",
    "check_corpus",
    "load_metadata",
    "running_server",
    "serve",
]
