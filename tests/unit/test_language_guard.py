"""The language guard and the no-words guard on real Rasa `Message` objects, and the domain
responses they lead to (issue 13, item 5)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import PROJECT_ROOT
from bot.nlu.language_guard import LANGUAGES, LanguageGuard, detect_other_language
from bot.nlu.message_guard import NoWordsGuard

DATA = Path(PROJECT_ROOT) / "tests" / "data"
ENGLISH_SETS = sorted((DATA / "everyday").glob("*.yml")) + sorted(DATA.glob("everyday_blind*.yml"))
# Entries of the everyday sets that are not English (written there as "other" messages).
NOT_ENGLISH = {"hola, ¿hablas español?": "es", "je suis fatigué aujourd'hui": "fr",
               "Guten Tag, wie geht's?": "de"}
MAX_FALSE_FLAG_RATE = 0.005


def english_texts() -> list[str]:
    texts = []
    for path in ENGLISH_SETS:
        texts += [entry["text"] for entry in yaml.safe_load(path.read_text(encoding="utf-8"))
                  if isinstance(entry, dict) and entry.get("text")]
    return [text for text in texts if text not in NOT_ENGLISH]


OTHER = yaml.safe_load((DATA / "other_languages.yml").read_text(encoding="utf-8"))


def parsed(text, intent="nlu_fallback", confidence=0.45, ranking=None):
    """A message as DIET and FallbackClassifier leave it (by default: DIET unsure)."""
    ranking = ranking if ranking is not None else [{"name": intent, "confidence": confidence},
                                                   {"name": "greet", "confidence": 0.3}]
    return Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence},
                         INTENT_RANKING_KEY: ranking, ENTITIES: []})


@pytest.fixture(scope="module")
def guard():
    return LanguageGuard(LanguageGuard.get_default_config())


# --- detection ------------------------------------------------------------------------------

def test_the_english_everyday_sets_are_almost_never_flagged():
    texts = english_texts()
    assert len(texts) > 3000
    flagged = [(text, detect_other_language(text)) for text in texts]
    flagged = [(text, code) for text, code in flagged if code]
    rate = len(flagged) / len(texts)
    assert rate <= MAX_FALSE_FLAG_RATE, f"{len(flagged)} of {len(texts)} English messages flagged: {flagged[:10]}"


def test_the_non_english_entries_of_the_everyday_sets_are_flagged():
    for text, code in NOT_ENGLISH.items():
        assert detect_other_language(text) == code, text


def test_messages_in_other_languages_are_flagged_with_their_language():
    results = [(entry["lang"], detect_other_language(entry["text"]), entry["text"]) for entry in OTHER]
    missed = [(want, got, text) for want, got, text in results if got != want]
    wrong = [(want, got, text) for want, got, text in missed if got is not None]
    assert not wrong, f"flagged with the wrong language: {wrong}"
    assert len(missed) / len(results) <= 0.12, f"missed: {missed}"
    assert {want for want, got, _ in results if got == want} == set(LANGUAGES), "every language is recognised"


@pytest.mark.parametrize("text", [
    "idk", "ok", "yes. frank", "my mom i guess", "nah thats it", "no one", "not really", "yes a bit",
    "hola", "merci", "danke", "ciao", "gracias amigo", "si", "ja", "no se",
    "i feel so alone", "wat do u meen", "my husband passed in march", "frank", "maria", "jose garcia",
    "lol", "ty", "omg", "brb", "k", "thx", "sure", "nope", "mhm", "meh", "ugh", "feeling overwhelmed",
    "IPT", "communication analysis", "role transitions", "ipt certification", "ipt vs psychodynamic",
    "ipt plus medication", "/greet", "",
])
def test_short_or_english_messages_are_left_alone(text):
    assert detect_other_language(text) is None


# --- the component ----------------------------------------------------------------------------

def test_a_message_in_another_language_gets_the_intent_and_the_language_entity(guard):
    text = "Mi madre murió el año pasado y todavía la extraño mucho todos los días."
    [result] = guard.process([parsed(text)])
    assert result.get(INTENT) == {"name": "other_language", "confidence": 1.0}
    assert result.get(INTENT_RANKING_KEY)[0] == {"name": "other_language", "confidence": 1.0}
    [entity] = result.get(ENTITIES)
    assert entity["entity"] == "message_language" and entity["value"] == "es"
    assert {INTENT, INTENT_RANKING_KEY, ENTITIES} <= result.output_properties


def test_a_confident_english_intent_is_kept(guard):
    message = parsed("communication analysis", intent="ipt", confidence=0.97)
    [result] = guard.process([message])
    assert result.get(INTENT)["name"] == "ipt"
    text = "Mi madre murió el año pasado y todavía la extraño mucho, lol"
    assert detect_other_language(text) == "es"
    [result] = guard.process([parsed(text, intent="share_feelings", confidence=0.95)])
    assert result.get(INTENT)["name"] == "share_feelings"  # a grey zone (an English word): DIET decides


def test_diet_sure_of_something_on_text_unlike_its_data_does_not_hide_a_clear_language(guard):
    text = "Mio padre è morto a gennaio e mi manca tantissimo."
    [result] = guard.process([parsed(text, intent="ipt", confidence=1.0)])
    assert result.get(INTENT)["name"] == "other_language"
    assert result.get(ENTITIES)[0]["value"] == "it"


def test_diet_guessing_a_risk_intent_does_not_count_as_confident(guard):
    ranking = [{"name": "crisis", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}]
    [result] = guard.process([parsed("Моя мама умерла в прошлом году, и я очень по ней скучаю.",
                                     intent="crisis", confidence=0.9, ranking=ranking)])
    assert result.get(INTENT)["name"] == "other_language"
    assert result.get(ENTITIES)[0]["value"] == "ru"


def test_diets_own_other_language_guess_is_dropped_for_english(guard):
    ranking = [{"name": "other_language", "confidence": 0.4}, {"name": "greet", "confidence": 0.5},
               {"name": "thank", "confidence": 0.1}]
    [result] = guard.process([parsed("idk man", intent="other_language", confidence=0.4, ranking=ranking)])
    assert result.get(INTENT) == {"name": "greet", "confidence": 0.5}
    assert "other_language" not in [r["name"] for r in result.get(INTENT_RANKING_KEY)]
    ranking = [{"name": "other_language", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}]
    [result] = guard.process([parsed("blorp", intent="other_language", confidence=0.9, ranking=ranking)])
    assert result.get(INTENT)["name"] == "nlu_fallback"


def test_a_no_words_message_is_left_to_the_no_words_guard(guard):
    message = parsed("😀😀", intent="no_words", confidence=1.0, ranking=[{"name": "no_words", "confidence": 1.0}])
    [result] = guard.process([message])
    assert result.get(INTENT)["name"] == "no_words"


# --- the no-words guard -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "🙂", "...", "?!", "💔"])
def test_messages_without_words_get_no_words(text):
    [result] = NoWordsGuard().process([parsed(text)])
    assert result.get(INTENT) == {"name": "no_words", "confidence": 1.0}
    assert result.get(INTENT_RANKING_KEY) == [{"name": "no_words", "confidence": 1.0}]


def test_diets_no_words_guess_is_dropped_when_there_are_words():
    ranking = [{"name": "no_words", "confidence": 0.3}, {"name": "share_feelings", "confidence": 0.6}]
    [result] = NoWordsGuard().process([parsed("😢 i miss her", intent="no_words", confidence=0.3, ranking=ranking)])
    assert result.get(INTENT) == {"name": "share_feelings", "confidence": 0.6}
    ranking = [{"name": "no_words", "confidence": 0.7}, {"name": "share_feelings", "confidence": 0.3}]
    [result] = NoWordsGuard().process([parsed("😢 i miss her", intent="no_words", confidence=0.7, ranking=ranking)])
    assert result.get(INTENT)["name"] == "nlu_fallback"
    [result] = NoWordsGuard().process([parsed("hello", intent="greet", confidence=0.9)])
    assert result.get(INTENT)["name"] == "greet"


# --- the domain ---------------------------------------------------------------------------------

def domain_responses() -> dict:
    responses = {}
    for path in sorted((Path(PROJECT_ROOT) / "domain").glob("*.yml")):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    return responses


def test_every_language_of_the_guard_has_a_reply_in_that_language():
    variations = domain_responses()["utter_other_language"]
    by_language = {}
    for variation in variations:
        for condition in variation.get("condition") or []:
            assert condition["type"] == "slot" and condition["name"] == "message_language"
            by_language[condition["value"]] = variation["text"]
    assert set(by_language) == set(LANGUAGES)
    defaults = [v for v in variations if not v.get("condition")]
    assert len(defaults) == 1 and "English" in defaults[0]["text"]
    for code, text in by_language.items():
        assert "findahelpline.com" in text, code
        assert detect_other_language(text) == code, f"the {code} reply does not read as {code}"
    assert "findahelpline.com" in defaults[0]["text"] and "emergency" in defaults[0]["text"]


def test_the_rephrase_line_no_longer_talks_about_english():
    responses = domain_responses()
    assert "English" not in responses["utter_ask_rephrase"][0]["text"]
    assert "English" not in responses["utter_no_words"][0]["text"]
    assert responses["utter_no_words"][0]["buttons"]
