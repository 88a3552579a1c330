"""The crisis detector as a Rasa NLU graph component, on real Rasa `Message` objects."""
from __future__ import annotations

import copy

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.crisis_detector import CrisisDetectorComponent


def make_component(tmp_path):
    return CrisisDetectorComponent.create(
        CrisisDetectorComponent.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("crisis_detector"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


def parsed(text, intent="greet", confidence=0.9, ranking=None, entities=None):
    """A message as DIET, ResponseSelector and FallbackClassifier leave it."""
    ranking = ranking or [{"name": intent, "confidence": confidence},
                          {"name": "goodbye", "confidence": 1 - confidence}]
    return Message(data={
        TEXT: text,
        INTENT: {"name": intent, "confidence": confidence},
        INTENT_RANKING_KEY: ranking,
        ENTITIES: entities or [],
    })


def category(message):
    return message.get(INTENT).get("crisis_category")


@pytest.fixture
def component(tmp_path):
    return make_component(tmp_path)


def test_detector_sets_crisis_intent_with_its_category_and_drops_entities(component):
    message = parsed("I want to kill myself", entities=[
        {"entity": "person_name", "value": "myself", "start": 15, "end": 21, "extractor": "DIETClassifier"}])

    [result] = component.process([message])

    assert result.get(INTENT) == {"name": "crisis", "confidence": 1.0, "crisis_category": "suicide"}
    assert result.get(INTENT_RANKING_KEY)[0] == {"name": "crisis", "confidence": 1.0}
    assert [r["name"] for r in result.get(INTENT_RANKING_KEY)] == ["crisis", "greet", "goodbye"]
    assert result.get(ENTITIES) == []  # no form can take a crisis message as a value
    assert {INTENT, INTENT_RANKING_KEY, ENTITIES} <= result.output_properties


@pytest.mark.parametrize(("text", "expected"), [
    ("my partner hits me", "abuse"),
    ("i took a whole bottle of pills", "overdose"),
    ("i cut myself again", "self_harm"),
    ("i want to kill him", "harm_to_others"),
])
def test_category_follows_the_detector(component, text, expected):
    [result] = component.process([parsed(text)])
    assert category(result) == expected


def test_diet_predicted_crisis_fires_unspecified(component):
    message = parsed("everything is grey and i can't see a way through", intent="crisis", confidence=0.8)
    [result] = component.process([message])
    assert result.get(INTENT)["name"] == "crisis"
    assert [r["name"] for r in result.get(INTENT_RANKING_KEY)].count("crisis") == 1
    assert category(result) == "unspecified"


def test_diet_crisis_behind_nlu_fallback_still_fires(component):
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "crisis", "confidence": 0.35},
               {"name": "greet", "confidence": 0.3}]
    message = parsed("everything is grey", intent="nlu_fallback", confidence=0.3, ranking=ranking)
    [result] = component.process([message])
    assert result.get(INTENT)["name"] == "crisis"
    assert category(result) == "unspecified"


@pytest.mark.parametrize("text", ["hello", "this traffic is killing me", "what is a role dispute",
                                  "I'm not suicidal, just tired"])
def test_non_crisis_messages_are_untouched(component, text):
    message = parsed(text, entities=[{"entity": "topic", "value": "grief", "start": 0, "end": 5}])
    before = copy.deepcopy(message.data)
    [result] = component.process([message])
    assert result.data == before


def test_nlu_fallback_without_crisis_is_untouched(component):
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "greet", "confidence": 0.3}]
    message = parsed("blah", intent="nlu_fallback", confidence=0.3, ranking=ranking)
    before = copy.deepcopy(message.data)
    component.process([message])
    assert message.data == before


def test_message_without_text_or_predictions(component):
    message = Message(data={TEXT: ""})
    [result] = component.process([message])
    assert result.data == {TEXT: ""}
