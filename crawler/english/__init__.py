"""English for every record: translation of title and body, summaries, the glossary.

The Python API (the ``corpus translate`` and ``corpus summarize`` commands are thin shells over it)::

    from crawler.english import make_engine, translate_pending, summarize_pending
    engine = make_engine("llamacpp", "model.gguf")      # or "openai", model="gpt-4o-mini"; "none" -> None
    translate_pending(db, engine, limit=100)            # Counter: translated, failed, cache_hits...
    summarize_pending(db, engine)                       # abstractive; engine None: extractive
"""

from .calls import CallFailed, RetryPolicy
from .config import EnglishConfig, resolve_config
from .engines import ENGINE_NAMES, BadAnswer, Engine, EngineError, Reply, make_engine
from .glossary import Glossary, GlossaryError, load_glossary
from .summaries import abstractive_summary, extractive_summary, summarize_pending
from .translate import TranslationFailed, Translator, make_translator, translate_pending

__all__ = [
    "ENGINE_NAMES",
    "BadAnswer",
    "CallFailed",
    "Engine",
    "EngineError",
    "EnglishConfig",
    "Glossary",
    "GlossaryError",
    "Reply",
    "RetryPolicy",
    "TranslationFailed",
    "Translator",
    "abstractive_summary",
    "extractive_summary",
    "load_glossary",
    "make_engine",
    "make_translator",
    "resolve_config",
    "summarize_pending",
    "translate_pending",
]
