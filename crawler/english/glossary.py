"""The glossary: fixed English names for MOFCOM departments and recurring policy terms.

The data lives in ``glossary.tsv`` beside this module (researchers edit it; ``$CORPUS_GLOSSARY`` or
the ``glossary`` key of the config file points at another file). Engines are told the entries that
occur in the text they translate; :func:`violations` counts, afterwards, each entry whose Chinese
occurs in the source but whose English is missing from the translation.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GLOSSARY = Path(__file__).with_name("glossary.tsv")
_HEADER = ("chinese", "english", "kind", "note")


@dataclass(frozen=True)
class Entry:
    chinese: str
    english: str
    kind: str = "term"
    note: str = ""


@dataclass(frozen=True)
class Glossary:
    entries: tuple[Entry, ...]
    source: str = ""

    @property
    def digest(self) -> str:
        """A short hash of the entries: part of the cache key, so editing the glossary retranslates."""
        blob = "\n".join(f"{e.chinese}\t{e.english}" for e in self.entries)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12]

    def terms_in(self, text: str | None) -> list[Entry]:
        """The entries whose Chinese occurs in ``text``, in order of first occurrence.

        Longer entries are matched first and mask what they cover, so 服贸司 inside 商务部服贸司 is
        one department, and 服务贸易 inside 服务贸易和商贸服务业司 is not also a term of its own.
        """
        if not text:
            return []
        taken = [False] * len(text)
        found: dict[str, tuple[int, Entry]] = {}
        for entry in sorted(self.entries, key=lambda e: len(e.chinese), reverse=True):
            start = text.find(entry.chinese)
            while start != -1:
                end = start + len(entry.chinese)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    first, _ = found.get(entry.chinese, (start, entry))
                    found[entry.chinese] = (min(first, start), entry)
                start = text.find(entry.chinese, start + 1)
        return [entry for _, entry in sorted(found.values(), key=lambda item: item[0])]

    def prompt_lines(self, text: str | None) -> list[str]:
        """``中文 = English`` for each entry in ``text``, one English name once."""
        lines, seen = [], set()
        for entry in self.terms_in(text):
            if (entry.chinese, entry.english) not in seen:
                seen.add((entry.chinese, entry.english))
                lines.append(f"{entry.chinese} = {entry.english}")
        return lines

    def violations(self, source: str | None, translation: str | None) -> list[Entry]:
        """The entries found in ``source`` whose English does not occur in ``translation``."""
        if not source:
            return []
        target = _normalise(translation or "")
        missing, seen = [], set()
        for entry in self.terms_in(source):
            if entry.english in seen:
                continue
            seen.add(entry.english)
            if f" {_normalise(entry.english)} " not in f" {target} ":
                missing.append(entry)
        return missing


def _normalise(text: str) -> str:
    """Lower case, words only (hyphens and punctuation become spaces), a plural -s dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s ", " ").replace("’s ", " "))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


class GlossaryError(ValueError):
    pass


def load_glossary(path: str | Path | None = None) -> Glossary:
    """Read a glossary file (TSV: chinese, english, kind, note; ``#`` comments; a header line is
    optional). Raises :class:`GlossaryError` naming the line of a malformed entry."""
    path = Path(path) if path else DEFAULT_GLOSSARY
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            row = [cell.strip() for cell in line.rstrip("\r\n").split("\t")]
            if tuple(row[:2]) == _HEADER[:2]:
                continue
            if len(row) < 2 or not row[0] or not row[1]:
                raise GlossaryError(f"{path}, line {number}: needs a Chinese and an English column, TAB-separated: {line.strip()!r}")
            if row[0] in seen:
                raise GlossaryError(f"{path}, line {number}: {row[0]} is given twice (first on line {seen[row[0]]})")
            seen[row[0]] = number
            kind = row[2] if len(row) > 2 and row[2] else "term"
            note = row[3] if len(row) > 3 else ""
            entries.append(Entry(row[0], row[1], kind, note))
    return Glossary(tuple(entries), str(path))
