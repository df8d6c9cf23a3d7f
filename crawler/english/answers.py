"""Turning a model's reply into something fit to store, or refusing it (:class:`BadAnswer`).

A reply is cleaned of wrapping a model adds (reasoning blocks, code fences, "Translation:" labels,
quotes) and then refused when it is empty, cut off at max_tokens, still in Chinese, or far longer
than its source (a model repeating itself). Chinese words left inside an English answer (small
models do that) are refused too, except on the last attempt (``strict=False``): an English
sentence with one Chinese word in it is worth keeping once the model has had its chances.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..store.segment import HAN
from .chunking import han_share
from .engines import BadAnswer, Reply

MAX_HAN_SHARE = 0.2  # a translation may quote a Chinese name; more than this is Chinese left over
MAX_SUMMARY_SENTENCES = 5

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```$", re.DOTALL)
_LABEL = re.compile(
    r"^(?:(?:here is|here's) (?:the|my|an?) (?:english )?(?:translation|summary)[^:\n]*:|"
    r"(?:english )?(?:translation|summary)\s*:)\s*",
    re.IGNORECASE,
)
_QUOTES = {'"': '"', "“": "”", "'": "'"}


@functools.cache
def _sentence_splitter() -> Any:
    from nltk.tokenize.punkt import PunktSentenceTokenizer  # imported on first use: NLTK is slow to import

    return PunktSentenceTokenizer()


_CHINESE_WORD = re.compile(f"[{HAN}]{{2,}}")


def clean_answer(text: str, source: str = "") -> str:
    text = _THINK.sub("", text).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    text = _LABEL.sub("", text, count=1).strip()
    if len(text) > 1 and _QUOTES.get(text[0]) == text[-1] and not source.lstrip().startswith(("“", '"', "《")):
        text = text[1:-1].strip()
    return text


def check_translation(reply: Reply, source: str, strict: bool = True) -> str:
    """The cleaned translation of ``source``, or :class:`BadAnswer` saying why it is unusable."""
    text = clean_answer(reply.text, source)
    if not text:
        raise BadAnswer("empty answer")
    if reply.finish_reason == "length":
        raise BadAnswer("answer cut off at max_tokens (the model ran on)")
    _refuse_chinese(text)
    if len(text) > 12 * len(source) + 200:
        raise BadAnswer(f"answer {len(text)} characters long for a source of {len(source)}: the model ran on")
    if strict:
        _refuse_chinese_words(text)
    return text


def _refuse_chinese(text: str) -> None:
    """A reply mostly in Chinese, or with a line that is (the source echoed before or after some
    English), is no translation."""
    share = han_share(text)
    if share > MAX_HAN_SHARE:
        raise BadAnswer(f"answer still in Chinese ({share:.0%} Chinese characters): {text[:60]!r}")
    for line in text.splitlines():
        if len(line.strip()) > 4 and han_share(line) > 0.5:
            raise BadAnswer(f"answer has a line still in Chinese: {line.strip()[:60]!r}")


def _refuse_chinese_words(text: str) -> None:
    words = _CHINESE_WORD.findall(text)
    if words:
        raise BadAnswer(f"Chinese left untranslated in the answer: {', '.join(words[:5])}")


def chinese_words(text: str | None) -> list[str]:
    """Runs of two or more Chinese characters in an English text."""
    return _CHINESE_WORD.findall(text or "")


def english_sentences(text: str) -> list[str]:
    return [s.strip() for s in _sentence_splitter().tokenize(text) if s.strip()]


def check_summary(reply: Reply, strict: bool = True) -> str:
    """The cleaned summary: English, at most five sentences (an unfinished last sentence dropped)."""
    text = clean_answer(reply.text)
    _refuse_chinese(text)
    if strict:
        _refuse_chinese_words(text)
    sentences = english_sentences(text)
    if reply.finish_reason == "length" and sentences and not sentences[-1].endswith((".", "!", "?", '"', "”")):
        sentences = sentences[:-1]
    if not sentences:
        raise BadAnswer("empty summary")
    return " ".join(sentences[:MAX_SUMMARY_SENTENCES])
