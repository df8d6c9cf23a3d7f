"""Which language a text is in: the share of Han characters decides first; seeded langdetect names the
language where that share is unclear.

- Han share >= 0.6 of the letters: Chinese (``han-share``), whatever the length. langdetect is never
  asked about short Chinese, where it answers Korean about half the time.
- Han share <= 0.05: not Chinese. A long text (>= 40 letters) is named by langdetect; a short one
  is taken as English (``han-share``): the only non-Chinese site in scope is the English one.
- In between (mixed pages, bilingual notices): langdetect on the whole text, seeded, so the same text
  always gets the same answer.

The score is the decided script's share of the letters (``han-share``) or langdetect's probability.
"""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from ..store.segment import letters_and_han

# langdetect is non-deterministic unless seeded (corpus-conventions.md, "Language").
DetectorFactory.seed = 0

ZH_MIN_SHARE = 0.6
NON_ZH_MAX_SHARE = 0.05
LANGDETECT_MIN_LETTERS = 40
LANGDETECT_SAMPLE = 3000

@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1 ("zh", "en", ...), "und" when the text has no letters
    score: float
    method: str  # "han-share" or "langdetect"


def _langdetect(text: str) -> LanguageGuess | None:
    DetectorFactory.seed = 0
    try:
        best = detect_langs(text[:LANGDETECT_SAMPLE])[0]
    except (LangDetectException, IndexError):
        return None
    lang = "zh" if best.lang.startswith("zh") else best.lang
    return LanguageGuess(lang, round(float(best.prob), 4), "langdetect")


def detect_language(text: str | None) -> LanguageGuess:
    text = text or ""
    letters, han = letters_and_han(text)
    if not letters:
        return LanguageGuess("und", 0.0, "han-share")
    share = han / letters
    if share >= ZH_MIN_SHARE:
        return LanguageGuess("zh", round(share, 4), "han-share")
    if share <= NON_ZH_MAX_SHARE and letters < LANGDETECT_MIN_LETTERS:
        return LanguageGuess("en", round(1 - share, 4), "han-share")
    guess = _langdetect(text)
    if guess is not None:
        return guess
    return LanguageGuess("zh" if share >= 0.5 else "en", round(max(share, 1 - share), 4), "han-share")
