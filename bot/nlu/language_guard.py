"""An NLU step for messages written in a language other than English.

The assistant chats in English only. A message that is clearly in another language gets intent
`other_language` (confidence 1.0) and an entity `message_language` with its ISO 639-1 code; a rule
answers with `utter_other_language`, whose variation in that language says the assistant speaks
English only for now and names the local emergency number and findahelpline.com.

"Clearly" means all of these, so that short or informal English ("idk", "yes. frank", "my mom i
guess", typos, slang) is never sent the language line:

- enough text: at least `min_words` words and `min_letters` letters in the Latin script (so two
  words, "role transitions", "jose garcia", are never enough), or `min_letters_other_script`
  letters in another script (Chinese, Arabic, Cyrillic, Devanagari);
- few common English words: under `max_english_share` of the words are in `ENGLISH_WORDS`;
- the detector (lingua, low-accuracy mode, restricted to `LANGUAGES`) puts a language other than
  English first with confidence at least `min_confidence`;
- DIET is not confident of an intent of ours (`diet_confidence`), unless the detector is very sure
  (`strong_confidence`) and no word is a common English one: DIET is often sure of something on
  text unlike its training data (`ipt` at 1.0 for an Italian message about a death), so it only
  decides the grey zone.

The detector ships its models inside the `lingua-language-detector` wheel (nothing is downloaded)
and is built once per process, on the first message that needs it. When DIET itself guesses
`other_language` and this step does not agree, that guess is dropped (the next intent stands, or
`nlu_fallback` below `fallback_threshold`). Place it after NoWordsGuard and before the crisis
detector, which stays last: a crisis message in another language is only caught when it uses English
words (the crisis rules are English only), see docs/content/translations.md.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.message_guard import NO_WORDS_INTENT, drop_intent

OTHER_LANGUAGE_INTENT = "other_language"
LANGUAGE_ENTITY = "message_language"

# ISO 639-1 codes of the languages the guard recognises; each has a variation of
# utter_other_language in domain/language.yml (tests/unit/test_language_guard.py checks it).
LANGUAGES = ("es", "fr", "de", "pt", "it", "pl", "nl", "ar", "zh", "ru", "tr", "hi", "tl", "vi", "uk", "ro")

# Intents that say nothing about the message being English.
NOT_OURS = frozenset({DEFAULT_NLU_FALLBACK_INTENT_NAME, OTHER_LANGUAGE_INTENT, NO_WORDS_INTENT,
                      "crisis", "possible_risk"})

# Common English words (function words, chat slang) that other languages in LANGUAGES rarely use
# as words of their own ("no", "me", "a", "in", "die", "was", "so" are left out for that reason).
ENGLISH_WORDS = frozenset("""
i i'm im i've ive i'd id i'll my me myself you your you're youre u ur the and is isn't are aren't
was wasn't were what whats what's how hows why who when where which do does did don't dont doesn't
doesnt didn't didnt it it's its that that's thats this with for of to just feel feeling felt like so
but not have has had can can't cant could would should will won't be been being he he's she she's
they they're them their we we're our us at on about because really very much lot lol idk tbh rn omg
ok okay yeah yes yep nope thanks thank please get got go going gonna wanna know think want need if
or an as all any some there here then than from by out up off after before again more still even
now day time people someone anyone nobody everyone something anything nothing ipt vs
""".split())

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _is_latin(char: str) -> bool:
    return char.isalpha() and ord(char) < 0x250  # Basic Latin up to Latin Extended-B


class _Detector:
    """The lingua detector, built once per process on first use (about 0.2 s, 25 MB)."""

    _lock = threading.Lock()
    _detector: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls._detector is None:
            with cls._lock:
                if cls._detector is None:
                    from lingua import IsoCode639_1, LanguageDetectorBuilder

                    codes = [getattr(IsoCode639_1, code.upper()) for code in ("en", *LANGUAGES)]
                    cls._detector = (LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                                     .with_low_accuracy_mode().build())
        return cls._detector


def detect_other_language(text: Optional[str], config: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """The ISO 639-1 code of the language the text is clearly written in, when that is not English;
    None for English, for text too short to tell, and when the detector is not sure."""
    config = {**LanguageGuard.get_default_config(), **(config or {})}
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return None
    words = _WORD.findall(text)
    letters = [char for char in text if char.isalpha()]
    latin = sum(_is_latin(char) for char in letters)
    other_script = len(letters) - latin
    if other_script > latin:
        if other_script < config["min_letters_other_script"]:
            return None
    elif len(words) < config["min_words"] or len(letters) < config["min_letters"]:
        return None
    english = sum(word.lower().replace("’", "'") in ENGLISH_WORDS for word in words)
    if words and english / len(words) >= config["max_english_share"]:
        return None
    values = _Detector.get().compute_language_confidence_values(text)
    if not values:
        return None
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    if code == "en" or code not in LANGUAGES or top.value < config["min_confidence"]:
        return None
    return code


def detect_strongly(text: Optional[str], config: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """Like `detect_other_language`, with `strong_confidence` and no common English word at all."""
    config = {**LanguageGuard.get_default_config(), **(config or {})}
    strict = {**config, "min_confidence": config["strong_confidence"], "max_english_share": 1e-9}
    return detect_other_language(text, strict)


def diet_is_confident(message: Message, threshold: float) -> bool:
    """Whether DIET put one of our own intents first with at least `threshold` confidence."""
    for entry in message.get(INTENT_RANKING_KEY) or []:
        if entry.get(INTENT_NAME_KEY) in NOT_OURS:
            continue
        return float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= threshold
    return False


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageGuard(GraphComponent):
    """Marks messages clearly written in another language; see the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "min_words": 3,
            "min_letters": 12,
            "min_letters_other_script": 4,
            "max_english_share": 0.25,
            "min_confidence": 0.8,
            "diet_confidence": 0.8,
            "strong_confidence": 0.95,
            "fallback_threshold": 0.45,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.component_config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageGuard":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent == NO_WORDS_INTENT:
            return
        code = detect_other_language(text, self.component_config)
        if code and (not diet_is_confident(message, float(self.component_config["diet_confidence"]))
                     or detect_strongly(text, self.component_config)):
            marked = {INTENT_NAME_KEY: OTHER_LANGUAGE_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [dict(marked)] + [dict(r) for r in message.get(INTENT_RANKING_KEY) or []
                                        if r.get(INTENT_NAME_KEY) != OTHER_LANGUAGE_INTENT]
            entity = {"entity": LANGUAGE_ENTITY, "value": code, "start": 0, "end": len(text),
                      "confidence_entity": 1.0, "extractor": type(self).__name__}
            message.set(INTENT, marked, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(ENTITIES, [entity], add_to_output=True)
            return
        drop_intent(message, OTHER_LANGUAGE_INTENT, float(self.component_config["fallback_threshold"]))
