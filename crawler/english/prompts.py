"""What the models are asked. ``PROMPT_VERSION`` is part of the cache key: change it with the wording."""

from __future__ import annotations

PROMPT_VERSION = 1

_TRANSLATOR = (
    "You are a professional translator of Chinese government documents of China's Ministry of "
    "Commerce (MOFCOM) into English. Translate the text the user sends into accurate, fluent English, "
    "completely: every sentence, number and name. Reply with the English translation only: no "
    "explanations, no notes, no Chinese characters, no pinyin."
)
_TITLE = " The text is the title of a document: translate it as a title."
_SUMMARISER = (
    "You are an analyst of Chinese trade and commerce policy. You read documents of China's Ministry "
    "of Commerce (MOFCOM) in Chinese and summarise them in English."
)
SUMMARY_REQUEST = (
    "Summarise the following MOFCOM document in 3 to 5 English sentences: what it is, who issued it, "
    "and its main measures. Reply with the summary only, in English."
)


def _glossary_block(lines: list[str]) -> str:
    if not lines:
        return ""
    return "\n\nUse exactly these English names for these Chinese terms:\n" + "\n".join(lines)


def translation_messages(text: str, *, kind: str = "body", glossary_lines: list[str] | None = None) -> list[dict[str, str]]:
    system = _TRANSLATOR + (_TITLE if kind == "title" else "") + _glossary_block(glossary_lines or [])
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def summary_messages(text: str, *, glossary_lines: list[str] | None = None) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": _SUMMARISER + _glossary_block(glossary_lines or [])},
        {"role": "user", "content": f"{SUMMARY_REQUEST}\n\n{text}"},
    ]
