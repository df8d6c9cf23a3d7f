"""The corpus store: one SQLite file (``corpus.db``) written through sqlite-utils.

Open it with :func:`open_corpus`; every write goes through :func:`write_transaction`.
"""

from .database import CorpusError, ForeignDatabaseError, NoCorpusError, open_corpus
from .documents import update_document_fields, upsert_capture, upsert_document
from .load import load_records, read_records
from .records import SEED_FIELDS, get_record, import_record, iter_documents, seed_record
from .runs import finish_run, start_run
from .schema import LATEST_VERSION, migrate, schema_version
from .search import SearchHit, search
from .stats import CorpusStats, corpus_stats
from .transaction import write_transaction

__all__ = [
    "LATEST_VERSION",
    "SEED_FIELDS",
    "CorpusError",
    "CorpusStats",
    "ForeignDatabaseError",
    "NoCorpusError",
    "SearchHit",
    "corpus_stats",
    "finish_run",
    "get_record",
    "import_record",
    "iter_documents",
    "load_records",
    "migrate",
    "open_corpus",
    "read_records",
    "schema_version",
    "search",
    "seed_record",
    "start_run",
    "update_document_fields",
    "upsert_capture",
    "upsert_document",
    "write_transaction",
]
