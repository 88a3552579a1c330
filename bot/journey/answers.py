"""Reading a person's answers: numbers, yes/no, choices and free text, kindly and leniently.

Every reader returns the value or raises `Unclear`, which names the kind of answer expected so the
assistant can ask again with an example. Nothing here knows about Rasa.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

MAX_TEXT = 500
MAX_NAME = 40
SKIP_WORDS = {"skip", "skip it", "skip this", "skip this one", "pass", "next", "next question", "dont know",
              "don't know", "i don't know", "i dont know", "not sure", "no idea", "rather not say",
              "prefer not to say", "that's enough", "thats enough", "that's all", "thats all", "none"}

_NUMBER_WORDS = {"zero": 0, "none": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_YES = {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "of course", "definitely", "i do",
        "it has", "there is", "there has", "correct", "right", "true", "absolutely", "kind of", "sort of",
        "a bit", "a little", "somewhat", "👍", "✅", "si", "sí", "oui", "ja"}
_NO = {"no", "n", "nope", "nah", "not really", "no thanks", "no thank you", "never", "i don't", "i dont",
       "not at all", "false", "nothing", "nobody", "no one", "👎", "❌", "non", "nein"}


class Unclear(ValueError):
    """The answer could not be read; `kind` says what was expected (for the example to show)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def normalise(text: str) -> str:
    """Lower-case, unify quotes, drop surrounding punctuation and extra spaces."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u2019", "'").lower()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .!?,;:\"")


def is_skip(text: str) -> bool:
    return normalise(text) in SKIP_WORDS


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Free text as given (trimmed to `limit`); empty or punctuation-only answers are unclear."""
    text = re.sub(r"\s+", " ", (text or "")).strip()
    if not text or not any(ch.isalnum() or unicodedata.category(ch).startswith("S") for ch in text):
        raise Unclear("text")
    if text.startswith("/"):  # a stray button payload is not an answer
        raise Unclear("text")
    return text[: limit - 1].rstrip() + "…" if len(text) > limit else text


def clean_name(text: str) -> str:
    """A name or nickname: the first line, trimmed to 40 characters, common lead-ins removed."""
    text = clean_text((text or "").splitlines()[0] if text and text.strip() else "", MAX_NAME + 40)
    text = re.sub(r"^(?:(?:my|his|her) name is|i'm|i am|call me|it's|its|it is|this is)\s+", "", text,
                  flags=re.IGNORECASE).strip(" .!,")
    if not text:
        raise Unclear("name")
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1].rstrip() + "…"


def parse_number(text: str, low: int = 0, high: int = 10) -> int:
    """A whole number between `low` and `high`, written as digits ("7", "7/10", "about 6.5") or a word."""
    value = normalise(text)
    match = re.search(r"(?<![\d.])(\d{1,3}(?:[.,]\d+)?)(?:\s*(?:/|out of)\s*10)?", value)
    number: Optional[float] = None
    if match:
        number = float(match.group(1).replace(",", "."))
    else:
        words = [w for w in re.findall(r"[a-z]+", value) if w in _NUMBER_WORDS]
        if len(words) == 1:
            number = _NUMBER_WORDS[words[0]]
    if number is None or not low <= number <= high:
        raise Unclear("number")
    return int(number + 0.5)


def parse_yes_no(text: str, intent: Optional[str] = None) -> bool:
    """Yes or no, from the words or, failing that, from the NLU intent (affirm / deny)."""
    value = normalise(text)
    if value in _YES or value.split(" ")[0] in {"yes", "yeah", "yep", "yup", "sure"}:
        return True
    if value in _NO or value.split(" ")[0] in {"no", "nope", "nah", "never"}:
        return False
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    raise Unclear("yes_no")


def parse_choice(text: str, options: dict[str, Iterable[str]], kind: str = "choice") -> str:
    """The option whose key or synonym the answer names, or the n-th option for a number "1".."n"."""
    value = normalise(text)
    keys = list(options)
    if value.isdigit() and 1 <= int(value) <= len(keys):
        return keys[int(value) - 1]
    for key, synonyms in options.items():
        names = {key.replace("_", " "), *synonyms}
        if value in names:
            return key
    found = [key for key, synonyms in options.items()
             if any(re.search(rf"\b{re.escape(name)}\b", value) for name in {key.replace("_", " "), *synonyms})]
    if len(found) == 1:
        return found[0]
    raise Unclear(kind)
