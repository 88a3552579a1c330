"""Text normalisation for the crisis detector.

People in distress write fast: lowercase, no apostrophes, stretched letters ("diiiie"), leetspeak
("su1c1de"), misspellings ("suiside") and slang ("kms"). `Normalizer` turns such text into plain
lowercase English words so that the lexicon's rules can match it. Sentence ends (. ! ? ; and line
breaks) are kept as " . " tokens; ellipses, other punctuation and emoji become spaces.

The word lists (spellings, slang, emoji, fuzzy targets) are data in `lexicon.yml`; the vocabulary
used to decide between readings ("kiiill" -> "kill", not "kil") comes from the spaCy lookup tables.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Mapping

BOUNDARY = " . "
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
         "|": "i"}
_LEET_ALT = {"1": "l", "|": "l"}
_LEET_CHARS = set(_LEET)
_NUMBER_UNIT = re.compile(
    r"^\d+([.,]\d+)?(am|pm|mg|mcg|ml|g|kg|lbs?|st|nd|rd|th|s|k|x|h|hrs?|min|mins|yo|y)?$")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u201c": '"',
                         "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."})
_CONTRACTIONS = [
    (re.compile(r"\bcan't\b"), "can not"), (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bain't\b"), "is not"), (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"n't\b"), " not"), (re.compile(r"'m\b"), " am"), (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"), (re.compile(r"'ll\b"), " will"), (re.compile(r"'d\b"), " would"),
    (re.compile(r"\blet's\b"), "let us"),
]
_IS_AFTER = ("he", "she", "it", "that", "what", "there", "who", "where", "here", "this",
             "everything", "nothing", "everyone", "life", "how", "when", "why", "something")
_S_IS = re.compile(r"\b(" + "|".join(_IS_AFTER) + r")'s\b")
_S_POSSESSIVE = re.compile(r"'s\b")
_SENTENCE_END = re.compile(r"[!?;]+|\.(?!\d)")
_ELLIPSIS = re.compile(r"\.{2,}")
_NON_WORD = re.compile(r"[^a-z0-9. ]+")
_RUN = re.compile(r"(.)\1{2,}")
_SPACED_LETTERS = re.compile(r"(?<!\S)[a-z](?: [a-z]){3,}(?!\S)")  # "k i l l" -> "kill"


def fold(text: str) -> str:
    """Lowercase, fold accents and compatibility forms (e.g. full-width letters), unify quotes."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold().translate(_QUOTES)


def damerau_levenshtein(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (small strings only)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class Normalizer:
    """Callable turning raw user text into normalised text (see the module docstring)."""

    def __init__(self, vocabulary: Iterable[str], spelling: Mapping[str, str],
                 slang: Mapping[str, str], emoji: Mapping[str, str],
                 fuzzy_targets: Iterable[str] = ()) -> None:
        self.spelling = dict(spelling)
        self.vocabulary = set(vocabulary) | set(self.spelling.values())
        self.emoji = dict(emoji)
        self.fuzzy_targets = tuple(fuzzy_targets)
        keys = sorted(slang, key=len, reverse=True)
        self.slang = dict(slang)
        self._slang_re = re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None
        self._word = lru_cache(maxsize=8192)(self._normalize_word)

    def __call__(self, text: str) -> str:
        return self.normalize(text)

    def normalize(self, text: str) -> str:
        """Normalised text: plain lowercase words, sentence ends kept as ' . '."""
        for symbol, word in self.emoji.items():
            text = text.replace(symbol, f" {word} ")
        text = fold(text).replace("\r", "\n").replace("\n", BOUNDARY)
        text = _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)
        text = _ELLIPSIS.sub(" ", text)
        words = [self._chunk(chunk) for chunk in text.split()]
        text = re.sub(r"\s+", " ", " ".join(words))
        if self._slang_re is not None:
            text = self._slang_re.sub(lambda m: self.slang[m.group(1)], text)
        text = re.sub(r"(\s*\.\s*)+", BOUNDARY, f" {text} ")
        return re.sub(r"\s+", " ", text).strip(" .")

    # -- one whitespace-separated chunk -------------------------------------------------------
    def _chunk(self, chunk: str) -> str:
        core, trail = re.match(r"^(.*?)([.!?;,:]*)$", chunk).groups()
        end = BOUNDARY if _SENTENCE_END.search(trail) else " "
        if core in self.spelling:
            return self.spelling[core] + end
        if _LEET_CHARS & set(core) and re.search(r"[a-z]", core) and not _NUMBER_UNIT.match(core):
            core = self._deleet(core)
        core = _expand_contractions(core)
        core = _SENTENCE_END.sub(BOUNDARY, core)
        core = _NON_WORD.sub(" ", core)
        words = [self._word(w) if w != "." else "." for w in core.split()]
        return " ".join(words) + end

    def _deleet(self, core: str) -> str:
        """Read leetspeak ('k1ll', '$uicide'); kept only if it gives a known word."""
        stripped = core.strip("'\"()[]{}")
        options = [[_LEET[c]] + ([_LEET_ALT[c]] if c in _LEET_ALT else []) if c in _LEET else [c]
                   for c in stripped]
        for combo in itertools.islice(itertools.product(*options), 64):
            candidate = "".join(combo)
            fixed = self._word(candidate)
            if fixed in self.vocabulary or candidate in self.spelling:
                return fixed
        return core

    def _normalize_word(self, word: str) -> str:
        """Spelling, stretched letters, dropped final g, and near-misses of key words."""
        if not word.isalpha():
            return self.spelling.get(word, word)
        if word in self.spelling:
            return self.spelling[word]
        if _RUN.search(word):
            word = self._collapse_runs(word)
            if word in self.spelling:
                return self.spelling[word]
        if word in self.vocabulary:
            return word
        if word.endswith("in") and len(word) >= 5 and word + "g" in self.vocabulary:
            return word + "g"
        return self._fuzzy(word)

    def _collapse_runs(self, word: str) -> str:
        """'diiiie' -> 'die', 'killlll' -> 'kill': try doubled then single letters for each run."""
        parts = _RUN.split(word)  # [text, letter, text, letter, ..., text]
        texts, runs = parts[0::2], parts[1::2]
        if len(runs) <= 6:
            for choice in itertools.product((2, 1), repeat=len(runs)):
                candidate = texts[0] + "".join(
                    letter * n + text for letter, n, text in zip(runs, choice, texts[1:], strict=True))
                if candidate in self.vocabulary or candidate in self.spelling:
                    return candidate
        return _RUN.sub(r"\1", word)

    def _fuzzy(self, word: str) -> str:
        """An unknown word one edit (two for long words) from a key lexicon word becomes it."""
        if len(word) < 5:
            return word
        limit = 2 if len(word) >= 9 else 1
        best = min(((damerau_levenshtein(word, t), t) for t in self.fuzzy_targets
                    if abs(len(t) - len(word)) <= limit), default=(limit + 1, word))
        return best[1] if best[0] <= limit else word


def _expand_contractions(core: str) -> str:
    for pattern, replacement in _CONTRACTIONS:
        core = pattern.sub(replacement, core)
    core = _S_IS.sub(r"\1 is", core)
    return _S_POSSESSIVE.sub("", core)
