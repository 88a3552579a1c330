"""Crisis detector: spaCy rules over a lexicon, sentence by sentence. Plain Python, no Rasa.

    >>> get_detector().detect("work is fine. i want to kill myself")
    CrisisSignal(category='suicide', phrase='kill myself', sentence='i want to kill myself')

The message is split into sentences; each is normalised (bot/crisis/normalize.py), lemmatised by
the project's spaCy pipeline (`bot.nlp.load_pipeline`) and matched against `lexicon.yml` with a
`Matcher` (token patterns) and a `PhraseMatcher` (fixed terms, on lemmas). Matches are then
dropped when a `safe` rule of the same category overlaps them (unless an `unsafe` rule matched in
the sentence), when a negatable rule is negated, or when a topic term is talk about a film, book or
the news. Of what remains, the most urgent category wins. Recall comes before specificity.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from bot.crisis.normalize import Normalizer
from bot.nlp import load_pipeline

LEXICON_PATH = Path(__file__).with_name("lexicon.yml")
CATEGORIES = ("suicide", "self_harm", "overdose", "harm_to_others", "abuse")
POSSIBLE = "possible"  # risk cues that are not a plan: hopelessness, burden, "so tired of everything"
_RAW_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\.\.)\s+|[\r\n]+")
_WILDCARD = {"OP": "?"}
_SENTENCE_END = {"ORTH": "."}  # every normalised sentence ends with " ." (see _normalise)
_FIRST_PERSON = {"i", "me", "my", "myself", "mine"}
# A death told as grief (a topic term such as "suicide" or "overdose" naming how someone died).
_DEATH_WORDS = {"died", "dead", "death", "funeral", "passed", "buried", "widow", "widowed", "widower", "grave",
                "inquest", "coroner", "bereaved", "bereavement", "anniversary"}


@dataclass(frozen=True)
class CrisisSignal:
    """A crisis found in a message: its category, the matched phrase and the sentence it is in."""

    category: str
    phrase: str
    sentence: str


@dataclass(frozen=True)
class _Rule:
    """One lexicon rule; kind is `patterns` (a trigger), `safe` or `unsafe` (see lexicon.yml)."""

    category: str
    text: str
    negatable: bool = False
    topic: bool = False
    weak: bool = False
    kind: str = "patterns"


@dataclass(frozen=True)
class _Found:
    signal: CrisisSignal
    weak: bool


@dataclass(frozen=True)
class _Hit:
    rule: _Rule
    start: int
    end: int


class CrisisDetector:
    """Finds crisis language in a message; see the module docstring."""

    def __init__(self, lexicon_path: Path | str = LEXICON_PATH, nlp: Language | None = None) -> None:
        self.lexicon: dict[str, Any] = yaml.safe_load(Path(lexicon_path).read_text(encoding="utf-8"))
        self.nlp = nlp or load_pipeline()
        self.priority: list[str] = self.lexicon["priority"]
        self.sets: dict[str, str] = self.lexicon["sets"]
        self._overrides: dict[str, str] = self.lexicon["lemma_overrides"]
        negation = self.lexicon["negation"]
        self._cues = set(negation["cues"])
        self._fillers = set(negation["fillers"])
        self._voiders = set(negation["voiders"])
        self._window = int(negation["window"])
        self._media = {self.lemma(w) for w in self.lexicon["media"]}
        self._topic_words = {self.lemma(w) for w in self.lexicon["topic_talk"]}
        self._context = {name: re.compile("|".join(patterns)) for name, patterns in self.lexicon["context"].items()}
        self.normalizer = Normalizer(
            vocabulary=self._vocabulary(),
            spelling=self.lexicon["spelling"],
            slang={**self.lexicon["slang"],
                   **{f"ill {verb}": f"i will {verb}" for verb in self.lexicon["ill_verbs"]}},
            emoji=self.lexicon["emoji"],
            fuzzy_targets=self.lexicon["fuzzy_targets"],
        )
        self._sentencizer = Sentencizer(punct_chars=["."])
        self.matcher = Matcher(self.nlp.vocab, validate=True)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._rules: dict[str, _Rule] = {}
        self._compile()

    # -- public API ------------------------------------------------------------------------
    def detect(self, text: str | None) -> CrisisSignal | None:
        """The most urgent crisis signal in `text` (by the lexicon's priority), or None."""
        return self.detect_both(text)[0]

    def detect_possible(self, text: str | None) -> CrisisSignal | None:
        """A risk cue that is not a plan (the lexicon's `possible` rules), or None."""
        return self.detect_both(text)[1]

    def detect_both(self, text: str | None) -> tuple[CrisisSignal | None, CrisisSignal | None]:
        """(the most urgent crisis signal, a possible-risk cue) from one pass over the text."""
        found = self._find(text)
        crisis = [f for f in found if f.signal.category in CATEGORIES]
        cue = next((f.signal for f in found if f.signal.category == POSSIBLE), None)
        if not crisis:
            return None, cue
        return min(crisis, key=lambda f: (f.weak, self.priority.index(f.signal.category))).signal, cue

    def detect_all(self, text: str | None) -> list[CrisisSignal]:
        """Every crisis signal in `text`, one per matched rule (for debugging the lexicon)."""
        return [f.signal for f in self._find(text)]

    def lemma(self, word: str) -> str:
        """The lemma the detector uses for one lowercase word (pipeline lookup plus overrides)."""
        return _cached_lemma(self, word)

    # -- matching --------------------------------------------------------------------------
    def _find(self, text: str | None) -> list[_Found]:
        raw_sentences = [s.strip() for s in _RAW_SENTENCE_END.split(text or "") if s.strip()]
        docs = self.nlp.pipe(self._normalise(s) for s in raw_sentences)
        found: list[_Found] = []
        previous = ([""] + raw_sentences)[: len(raw_sentences)]
        lowered = (text or "").lower()
        present = bool(self._context["present"].search(lowered))
        for raw, before, doc in zip(raw_sentences, previous, docs, strict=True):
            for hit in self._signals(self._prepare(doc), raw, before):
                reading = self._context_reading(hit.signal, before, lowered, present)
                if reading == "possible":
                    hit = _Found(CrisisSignal(POSSIBLE, hit.signal.phrase, raw), hit.weak)
                if reading != "none":
                    found.append(hit)
        return found

    def _context_reading(self, signal: CrisisSignal, previous_sentence: str, text: str, present: bool) -> str | None:
        """"none" for an anger idiom over an everyday grievance; "possible" for a term told as the past or
        recovery (its own sentence) or as someone's settled work (the message); None keeps the crisis. See
        `context` in lexicon.yml; a present marker anywhere in the message keeps a crisis a crisis."""
        sentence, context = signal.sentence.lower(), self._context
        if signal.category == "suicide":
            if context["hyperbole"].search(sentence):
                return "none"
            if context["escape_verb"].search(sentence) and context["escape_break"].search(sentence) \
                    and not context["escape_final"].search(text):
                return "none"
        if signal.category == "harm_to_others":
            if context["idiom_verb"].search(signal.phrase.lower()) and context["idiom_reason"].search(sentence) \
                    and not context["idiom_serious"].search(f"{previous_sentence.lower()} {sentence}"):
                return "none"
        if signal.category == "overdose" and context["hyperbole"].search(sentence):
            return "none"
        if signal.category in ("suicide", "self_harm", "harm_to_others") and self.disavowed(text):
            return "possible"
        if present or signal.category == POSSIBLE:
            return None
        if context["joking"].search(sentence):
            return "possible"
        if context["past"].search(sentence) or context["recovery"].search(sentence) or (
                context["work"].search(text) and context["settled"].search(text)):
            return "possible"
        return None

    def disavowed(self, text: str) -> bool:
        """The writer says plainly they are not at risk, and nothing urgent is in the message (`context` in
        lexicon.yml: `disavowal`, `urgent`)."""
        lowered = (text or "").lower()
        return bool(self._context["disavowal"].search(lowered)) and not self._context["urgent"].search(lowered)

    def _normalise(self, raw_sentence: str) -> str:
        """Normalised text ending with ' .', so that rules can anchor on a sentence's end ($)."""
        return self.normalizer(raw_sentence) + " ."

    def _prepare(self, doc: Doc) -> Doc:
        for token in doc:
            override = self._overrides.get(token.lower_)
            if override:
                token.lemma_ = override
        return self._sentencizer(doc)

    def _signals(self, doc: Doc, raw_sentence: str, previous_sentence: str = "") -> list[_Found]:
        hits = [_Hit(self._rules[self.nlp.vocab.strings[mid]], start, end)
                for mid, start, end in itertools.chain(self.matcher(doc), self.phrases(doc))
                if doc[start].sent.start == doc[end - 1].sent.start]
        unsafe = {(h.rule.category, doc[h.start].sent.start) for h in hits if h.rule.kind == "unsafe"}
        safes = [h for h in hits if h.rule.kind == "safe"
                 and (h.rule.category, doc[h.start].sent.start) not in unsafe]
        found = []
        for hit in hits:
            if hit.rule.kind != "patterns" or self._cancelled(hit, safes, doc, previous_sentence):
                continue
            signal = CrisisSignal(hit.rule.category, doc[hit.start:hit.end].text, raw_sentence)
            found.append(_Found(signal, hit.rule.weak))
        return found

    def _cancelled(self, hit: _Hit, safes: list[_Hit], doc: Doc, previous_sentence: str = "") -> bool:
        """Overlapped by a safe rule of its category, about media, or negated."""
        if any(s.rule.category == hit.rule.category and s.start < hit.end and hit.start < s.end
               for s in safes):
            return True
        if hit.rule.topic and (self._about_media(doc, hit.start) or self._topic_talk(doc, hit.start, hit.end)
                               or self._about_a_death(doc, hit.start, previous_sentence)):
            return True
        return hit.rule.negatable and self._negated(doc, hit.start, hit.end)

    def _about_media(self, doc: Doc, start: int) -> bool:
        """The sentence names a film, book, news... and no I/me/my comes just before the term."""
        sent = doc[start].sent
        if not any(t.lemma_ in self._media for t in sent):
            return False
        before = doc[max(sent.start, start - 4):start]
        return not any(t.lower_ in _FIRST_PERSON for t in before)

    def _topic_talk(self, doc: Doc, start: int, end: int) -> bool:
        """The term names a subject ("self-harm rates", "warning signs of suicide"): a `topic_talk` word within
        two tokens after it or three before, and no I/me/myself in the two tokens before it."""
        sent = doc[start].sent
        if any(t.lower_ in ("i", "me", "myself") for t in doc[max(sent.start, start - 2):start]):
            return False
        near = list(doc[end:min(end + 2, sent.end)]) + list(doc[max(sent.start, start - 3):start])
        return any(t.lemma_ in self._topic_words for t in near)

    def _about_a_death(self, doc: Doc, start: int, previous_sentence: str) -> bool:
        """How someone died, told as grief: "he died when I was 19. suicide." / "my brother died.
        overdose." A death word in the term's sentence or the one before, and no I/me/my in the
        term's own sentence before it (so "she died of an overdose. i want to overdose too" fires)."""
        sent = doc[start].sent
        before = doc[sent.start:start]
        if any(t.lower_ in ("i", "me", "myself") for t in before) or (len(before) and before[-1].lower_ == "my"):
            return False  # "my best mate died of an overdose" is grief; "i want to overdose", "my overdose" are not
        words = [t.lower_ for t in sent] + re.findall(r"[a-z']+", previous_sentence.lower())
        return any(w in _DEATH_WORDS for w in words) or "passed away" in " ".join(words)

    def _negated(self, doc: Doc, start: int, end: int) -> bool:
        """An odd number of negation cues just before (through filler words) or inside the match."""
        sent_start = doc[start].sent.start
        cues = sum(1 for t in doc[start:end] if t.lemma_ in self._cues)
        for i in range(start - 1, max(sent_start, start - self._window) - 1, -1):
            lemma = doc[i].lemma_
            if lemma in self._voiders:
                return False
            if lemma in self._cues:
                cues += 1
            elif lemma not in self._fillers:
                break
        return cues % 2 == 1

    # -- compiling the lexicon -------------------------------------------------------------
    def _compile(self) -> None:
        for category in (*CATEGORIES, POSSIBLE):
            spec = self.lexicon["categories"].get(category) or {}
            for i, entry in enumerate(spec.get("terms", [])):
                rule = self._rule(category, entry, "patterns")
                key = self._register(f"{category}:term:{i}", rule)
                self.phrases.add(key, [self._prepare(self.nlp(rule.text))])
            for kind in ("patterns", "safe", "unsafe"):
                for i, entry in enumerate(spec.get(kind, [])):
                    rule = self._rule(category, entry, kind)
                    key = self._register(f"{category}:{kind}:{i}", rule)
                    self.matcher.add(key, self._token_patterns(rule.text))

    def _register(self, key: str, rule: _Rule) -> str:
        self._rules[key] = rule
        return key

    @staticmethod
    def _rule(category: str, entry: str | dict, kind: str) -> _Rule:
        if isinstance(entry, str):
            return _Rule(category, entry, kind=kind)
        return _Rule(category, entry["p"], bool(entry.get("negatable")), bool(entry.get("topic")),
                     bool(entry.get("weak")), kind)

    def _token_patterns(self, text: str) -> list[list[dict]]:
        """Expand one rule of the lexicon's token language into spaCy Matcher patterns."""
        slots = [self._slot(part) for part in text.split()]
        patterns = [[tok for seq in combo for tok in seq] for combo in itertools.product(*slots)]
        return [p for p in patterns if any(tok != _WILDCARD for tok in p)]

    def _slot(self, part: str) -> list[list[dict]]:
        """A slot's alternatives, each a sequence of token specs."""
        if re.fullmatch(r"~\d+", part):
            return [[dict(_WILDCARD) for _ in range(int(part[1:]))]]
        optional = part.endswith("?") and len(part) > 1
        alternatives = self._expand(part.rstrip("?") if optional else part)
        end = [[dict(_SENTENCE_END)]] if "$" in alternatives else []
        alternatives = [a for a in alternatives if a != "$"]
        lemmas = sorted({form for a in alternatives if _plain(a) and "_" not in a
                         for form in (self.lemma(a), a)})
        lowers = sorted({a[1:] for a in alternatives if a.startswith("=") and "_" not in a})
        result: list[list[dict]] = []
        if lemmas:
            result.append([{"LEMMA": {"IN": lemmas}}])
        if lowers:
            result.append([{"LOWER": {"IN": lowers}}])
        result += [[{"LOWER": {"REGEX": a[1:-1]}}] for a in alternatives if _is_regex(a)]
        result += [[self._token(w) for w in a.split("_")] for a in alternatives
                   if "_" in a and not _is_regex(a)]
        result += end
        return result + [[]] if optional else result

    def _token(self, word: str) -> dict:
        if word.startswith("="):
            return {"LOWER": word[1:]}
        return {"LEMMA": {"IN": sorted({self.lemma(word), word})}}

    def _expand(self, slot: str) -> list[str]:
        out: list[str] = []
        for alt in slot.split("|"):
            out.extend(self._expand(self.sets[alt[1:]]) if alt.startswith("@") else [alt])
        return out

    def _vocabulary(self) -> set[str]:
        """Known words: the spaCy lookup tables, stop words and every word of the lexicon."""
        words = set(STOP_WORDS)
        if "lemmatizer" in self.nlp.pipe_names:
            table = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})
            words |= set(table.keys()) | set(table.values())
        words |= set(_words_in(self.lexicon))
        return words


def _plain(alt: str) -> bool:
    return not alt.startswith("=") and not _is_regex(alt)


def _is_regex(alt: str) -> bool:
    return len(alt) > 2 and alt.startswith("/") and alt.endswith("/")


def _words_in(data: Any) -> Iterable[str]:
    """Every alphabetic word in the lexicon's rules, sets and replacement values."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("spelling", "slang"):
                yield from _words_in(list(value.values()))
            else:
                yield from _words_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from _words_in(item)
    elif isinstance(data, str):
        yield from re.findall(r"[a-z]+", data.lower())


@lru_cache(maxsize=20000)
def _cached_lemma(detector: CrisisDetector, word: str) -> str:
    if word in detector._overrides:
        return detector._overrides[word]
    doc = detector.nlp(word)
    return doc[0].lemma_ if len(doc) == 1 else word


@lru_cache(maxsize=1)
def get_detector() -> CrisisDetector:
    """The shared detector (built once per process: lexicon compiled, pipeline loaded)."""
    return CrisisDetector()
