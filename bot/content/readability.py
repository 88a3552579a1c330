"""Plain-language checks for chat texts: sentence count and Flesch-Kincaid grade.

Our own small implementation (no extra package). The syllable count is the usual vowel-group
heuristic; acronyms such as IPT or CBT are read letter by letter, so they count one syllable per
letter. Markdown emphasis and button-free text only: callers pass the text of one bubble.
"""
from __future__ import annotations

import re
from typing import List

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
# A sentence ends at ., ! or ? (or a run of them) followed by a space or the end of the text.
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def words(text: str) -> List[str]:
    """The words of a text (numbers count as words)."""
    return _WORD.findall(text)


def sentences(text: str) -> List[str]:
    """The sentences of a text; a last part without end mark still counts as a sentence."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip())]
    return [p for p in parts if words(p)]


def sentence_count(text: str) -> int:
    return len(sentences(text))


def syllables(word: str) -> int:
    """Estimated syllables of one word."""
    if word[0].isdigit():
        return max(1, len(word.replace(",", "").replace(".", "")))  # "16" -> "six-teen"-ish
    if len(word) > 1 and word.isupper() and len(word) <= 5:
        return len(word)  # IPT -> I-P-T
    w = word.lower().replace("’", "'").strip("'-")
    count = 0
    for part in re.split(r"[-']", w):
        if not part:
            continue
        n = len(_VOWEL_GROUPS.findall(part))
        syllabic_le = part.endswith("le") and len(part) > 2 and part[-3] not in "aeiouy"
        if part.endswith("e") and not syllabic_le and not part.endswith(("ee", "ye")) and n > 1:
            n -= 1  # silent final e: "phase", "role"
        if part.endswith(("ed",)) and not part.endswith(("ted", "ded")) and n > 1:
            n -= 1  # "helped", "used"
        sibilant_es = part.endswith(("ses", "zes", "ces", "ges", "shes", "ches", "xes"))
        if part.endswith("es") and not sibilant_es and n > 1:
            n -= 1  # "makes", "roles"
        count += max(1, n)
    return max(1, count)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of a text."""
    ws = words(text)
    if not ws:
        return 0.0
    n_sent = max(1, sentence_count(text))
    n_syll = sum(syllables(w) for w in ws)
    return 0.39 * (len(ws) / n_sent) + 11.8 * (n_syll / len(ws)) - 15.59
