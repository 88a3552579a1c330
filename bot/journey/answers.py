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
              "prefer not to say", "that's enough", "thats enough", "that's all", "thats all", "none",
              "idk", "idek", "dunno", "i dunno", "no clue", "not sure really", "unsure", "n/a", "na",
              "nothing", "nothing really", "not really", "no", "nope", "nah", "no thanks", "rather not",
              "that's it", "thats it", "that is it", "that's everyone", "thats everyone", "that's all for now",
              "no one", "noone", "no-one", "nobody", "no one else", "nobody else", "no one really",
              "nobody really", "not anyone", "not really anyone", "there's no one", "theres no one",
              "there is no one", "there's nobody", "theres nobody", "i have no one", "i have nobody"}
# Lead-ins and tails that are not part of the answer ("um my mom i guess", "nah thats it tbh"). Names
# keep a leading yes/no/ok (the general readers drop them too) and a trailing "really"/"or so".
_LEAD_INS = ("um+|uh+|erm+|hm+|well|so|oh|like|honestly|tbh|prob|probably|maybe|i guess|i think|i'd say|id say|"
             "i suppose|definitely|def")
_TAILS = "i guess|i think|i suppose|probably|prob|maybe|tbh|lol|haha|honestly|tho|though|i'd say|id say|or something"


def _starts(words: str) -> re.Pattern:
    return re.compile(rf"^(?:(?:{words})\b[\s,.]*)+", re.IGNORECASE)


def _ends(words: str) -> re.Pattern:
    return re.compile(rf"(?:[\s,.]*\b(?:{words})\b)+[\s.!?]*$", re.IGNORECASE)


_FILLER_START, _FILLER_END = _starts(_LEAD_INS + "|ok|okay|nah|no|yeah|yes|yep"), _ends(_TAILS + "|really|or so")
_NAME_FILLER_START, _NAME_FILLER_END = _starts(_LEAD_INS), _ends(_TAILS)

_NUMBER_WORDS = {"zero": 0, "none": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_RELATIONS = ("best friend|bestie|bff|friend|mom|mum|mommy|mummy|mother|dad|daddy|father|parents|sister|brother|"
              "husband|wife|partner|boyfriend|girlfriend|bf|gf|fiance|fiancee|fiancé|fiancée|ex|son|daughter|kids|"
              "children|baby|grandma|grandpa|gran|granny|nan|nana|grandad|granddad|grandmother|grandfather|"
              "grandson|granddaughter|aunt|auntie|uncle|cousin|niece|nephew|stepmom|stepmum|stepdad|boss|manager|"
              "coworker|co-worker|colleague|flatmate|roommate|housemate|neighbour|neighbor|teacher|therapist|"
              "doctor|pastor|priest|dog|cat")
_NOT_A_NAME = re.compile(r"\b(?:i|we|is|was|and|who|that|because|since|but|guess|think|really|lol|died|passed)\b",
                         re.IGNORECASE)
_YES = {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "of course", "definitely", "i do",
        "it has", "there is", "there has", "correct", "right", "true", "absolutely", "kind of", "sort of",
        "a bit", "a little", "somewhat", "👍", "✅", "si", "sí", "oui", "ja",
        # typos and everyday ways of saying it
        "yse", "yss", "ys", "yes please", "yess", "yesss", "yeh", "yh", "ya", "yas", "ye", "yeahh", "yep sure",
        "k", "kk", "okk", "okey", "oki", "okie", "okay sure", "alright", "allright", "aight", "fine", "go on",
        "go ahead", "lets go", "let's go", "let's do it", "lets do it", "sounds good", "sounds fine",
        "why not", "i guess so", "guess so", "i think so", "think so", "sure thing", "sure why not", "please",
        "that's me", "thats me", "that sounds like me", "pretty much", "mostly", "definitely yes",
        "yes it has", "yes there is", "yes i do", "i have", "yes i have", "it does", "does", "did", "i did",
        "add someone", "add", "add another", "another", "one more", "someone else", "continue", "carry on",
        "keep going", "next", "let's start", "lets start", "start", "go"}
_NO = {"no", "n", "nope", "nah", "not really", "no thanks", "no thank you", "never", "i don't", "i dont",
       "not at all", "false", "nothing", "nobody", "no one", "👎", "❌", "non", "nein",
       "noo", "nooo", "nop", "nah thanks", "no thx", "no ty", "nty", "not now", "not right now", "not rn",
       "not today", "not yet", "maybe later", "later", "another time", "some other time", "not really no",
       "no not really", "not much", "i haven't", "i havent", "it hasn't", "it hasnt", "there isn't",
       "there isnt", "no it hasn't", "no there isn't", "nothing like that", "none of that", "i'd rather not",
       "id rather not", "rather not", "not interested", "no i'm good", "im good", "i'm good", "i'm ok thanks",
       "that's everyone", "thats everyone", "that's it", "thats it", "that's all", "thats all", "that's enough",
       "thats enough", "that's all for now", "no more", "nobody else", "no one else", "done"}
_YES_FIRST = {"yes", "yeah", "yep", "yup", "sure", "yea", "yeh", "ya", "yse", "definitely", "absolutely", "ok",
              "okay"}
_NO_FIRST = {"no", "nope", "nah", "never", "noo", "nop"}


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


NOBODY = {"no one", "noone", "no-one", "nobody", "none", "no", "nope", "nah", "nothing", "no one else",
          "nobody else", "no one really", "nobody really", "not really anyone", "not anyone", "there's no one",
          "theres no one", "there is no one", "there's nobody", "theres nobody", "i have no one",
          "i have nobody", "that's it", "thats it", "that is it", "that's everyone", "thats everyone",
          "that's all", "thats all", "that's all for now", "that's enough", "thats enough", "no more",
          "nobody more", "no one more", "nope that's it", "no thats it", "no that's it", "nah thats it",
          "nah that's it", "done"}


def says_nobody(text: str) -> bool:
    """"no one", "nobody really", "nah that's everyone": there is no (other) person to name."""
    value = normalise(text)
    return value in NOBODY or strip_fillers(value) in NOBODY


def strip_fillers(text: str) -> str:
    """The answer without lead-ins and tails that carry nothing ("um my mom i guess" -> "my mom")."""
    value = normalise(text)
    stripped = _FILLER_END.sub("", _FILLER_START.sub("", value)).strip(" .!?,;:\"")
    return stripped or value


def is_skip(text: str) -> bool:
    """"skip", "idk", "no one", "nah that's it" ...: no answer to give (or nobody more to name)."""
    value = normalise(text)
    return value in SKIP_WORDS or strip_fillers(value) in SKIP_WORDS or (
        value.split(" ")[0] in _NO_FIRST | {"idk", "dunno"} and strip_fillers(" ".join(value.split(" ")[1:])) in
        SKIP_WORDS | {""})


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Free text as given (trimmed to `limit`); empty or punctuation-only answers are unclear."""
    text = re.sub(r"\s+", " ", (text or "")).strip()
    if not text or not any(ch.isalnum() or unicodedata.category(ch).startswith("S") for ch in text):
        raise Unclear("text")
    if text.startswith("/"):  # a stray button payload is not an answer
        raise Unclear("text")
    return text[: limit - 1].rstrip() + "…" if len(text) > limit else text


# "Margaret is fine, or Maggie", "Jo will do": the first name given; "Joan next door", "Dave from work": the name
# without where they are from; "the woman at the corner shop I suppose. Mrs Khan": the name after the description.
_NAME_IS_FINE = re.compile(r"^(.+?)\s+(?:(?:is|'s|would be)\s+(?:fine|good|ok|okay|great|best|grand|perfect)|will do|"
                           r"would do|works|please|pls|thanks|thank you)\b.*$", re.IGNORECASE)
_NAME_OR_OTHER = re.compile(r"^([^,]+?)\s*(?:,?\s+or\s+(?:just\s+)?|,\s*(?:but|though|although)\s+)\S+.*$",
                            re.IGNORECASE)
_WHERE_FROM = re.compile(r"\s+(?:next door|across the (?:road|street|hall)|over the road|down the (?:road|street|hall)|"
                         r"upstairs|downstairs|(?:from|at|in|on) (?:the )?(?:work|church|school|uni|college|the shop|"
                         r"the gym|the pub|number \d+|\w+ street))\b.*$", re.IGNORECASE)
_TITLED_NAME = re.compile(r"^(?:(?:mr|mrs|ms|miss|dr|father|sister|auntie|aunt|uncle)\.?\s+)?[A-Z][\w'-]*"
                          r"(?:\s+[A-Z][\w'-]*)?$")


def _name_part(text: str) -> str:
    """The name in a longer answer: after a description in an earlier sentence, before "is fine" / "or ..." /
    where they live or work. Unchanged when nothing of that shape is there."""
    parts = re.split(r"(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bst)[.!?;]\s+", text, flags=re.IGNORECASE)
    sentences = [part.strip(" .!?,;:\"") for part in parts if part.strip(" .!?,;:\"")]
    if len(sentences) > 1 and _TITLED_NAME.match(sentences[-1]) and not _TITLED_NAME.match(sentences[0]):
        return sentences[-1]
    text = sentences[0] if sentences else text
    for pattern in (_NAME_IS_FINE, _NAME_OR_OTHER):
        match = pattern.match(text)
        if match and len(match.group(1).split()) <= 3:
            text = match.group(1)
    short = _WHERE_FROM.sub("", text).strip(" .!?,;:\"")
    return short if short and len(short.split()) <= 2 and short.split()[0].lower() not in ("the", "a", "an") else text


def clean_name(text: str) -> str:
    """A name or nickname: the first line, trimmed to 40 characters, lead-ins and fillers removed;
    a relation names the person ("my mom i guess" -> "your mom", "my sister jo" -> "jo"); the name alone
    in a longer answer ("Margaret is fine, or Maggie" -> "Margaret", "Joan next door" -> "Joan")."""
    text = clean_text((text or "").splitlines()[0] if text and text.strip() else "", MAX_NAME + 40)
    text = re.sub(r"^(?:(?:my|his|her) name is|i'm|i am|call me|it's|its|it is|this is)\s+", "", text,
                  flags=re.IGNORECASE).strip(" .!,")
    text = _name_part(text)
    stripped = _NAME_FILLER_END.sub("", _NAME_FILLER_START.sub("", text)).strip(" .!?,;:\"")
    text = stripped or text
    relation, rest = _relation_and_rest(text)
    if relation:
        text = (rest[0].upper() + rest[1:]) if rest else f"your {relation}"
    if not text:
        raise Unclear("name")
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1].rstrip() + "…"


def relation_of(text: str) -> Optional[str]:
    """The relation a name answer gives ("my mom i guess" -> "mom", "jo, my sister" -> "sister")."""
    try:
        cleaned = clean_text((text or "").splitlines()[0] if text and text.strip() else "", MAX_NAME + 40)
    except Unclear:
        return None
    cleaned = _NAME_FILLER_END.sub("", _NAME_FILLER_START.sub("", cleaned)).strip(" .!?,;:\"")
    return _relation_and_rest(cleaned)[0]


def _relation_and_rest(text: str) -> tuple[Optional[str], str]:
    """("sister", "jo") for "my sister jo" / "jo, my sister" / "jo (my sister)"; (None, text) otherwise."""
    lowered = text.lower()
    match = re.match(rf"^(?:my|our)\s+({_RELATIONS})\b[\s,:-]*(.*)$", lowered)
    if match:
        rest = text[len(text) - len(match.group(2)):] if match.group(2) else ""
        rest = rest.strip(" .!?,;:()\"")
        return match.group(1), rest if rest and len(rest.split()) <= 2 and not _NOT_A_NAME.search(rest) else ""
    match = re.match(rf"^(.+?)(?:\s+(?:is|was))?[\s,(-]+(?:my|our)\s+({_RELATIONS})\)?$", lowered)
    if match:
        return match.group(2), text[: len(match.group(1))].strip(" .!?,;:()\"")
    return None, text


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
    lead_in_free = _NAME_FILLER_START.sub("", value)
    first = re.split(r"[\s,.!?;:]+", lead_in_free)[0] if lead_in_free else ""
    words = set(re.findall(r"[a-z']+", value))
    if value in _YES or strip_fillers(value) in _YES or (first in _YES_FIRST and not words & _NO_FIRST):
        return True
    if value in _NO or first in _NO_FIRST:
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
    matches = [(key, match.span()) for key, synonyms in options.items()
               for name in {key.replace("_", " "), *synonyms}
               for match in re.finditer(rf"\b{re.escape(name)}\b", value)]
    # A match inside a longer one of another option does not count ("close" in "fairly close").
    found = {key for key, (start, end) in matches
             if not any(other != key and o_start <= start and end <= o_end and (o_end - o_start) > (end - start)
                        for other, (o_start, o_end) in matches)}
    if len(found) == 1:
        return found.pop()
    raise Unclear(kind)
