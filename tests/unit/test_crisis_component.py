"""The safety triage as a Rasa NLU graph component, trained for real, on real Rasa `Message` objects."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crisis_detector import CrisisDetectorComponent

CONTEXT = ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return LocalModelStorage(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def component(storage):
    """Trained as `rasa train` trains it (on the labelled sets and these NLU examples)."""
    config = CrisisDetectorComponent.get_default_config()
    trained = CrisisDetectorComponent.create(config, storage, Resource("triage"), CONTEXT)
    nlu = TrainingData([Message(data={TEXT: "hello there", INTENT: "greet"}),
                        Message(data={TEXT: "what is ipt", INTENT: "learn_ipt"}),
                        Message(data={TEXT: "i want to die", INTENT: "crisis"})])
    trained.train(nlu)
    return trained


def parsed(text, intent="greet", confidence=0.9, ranking=None, entities=None):
    """A message as DIET, ResponseSelector and FallbackClassifier leave it."""
    ranking = ranking or [{"name": intent, "confidence": confidence},
                          {"name": "goodbye", "confidence": round(1 - confidence, 3)}]
    return Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence},
                         INTENT_RANKING_KEY: ranking, ENTITIES: entities or []})


def test_clear_risk_sets_crisis_with_category_and_speaker_and_drops_entities(component):
    message = parsed("I want to kill myself", entities=[
        {"entity": "person_name", "value": "myself", "start": 15, "end": 21, "extractor": "DIETClassifier"}])
    [result] = component.process([message])
    assert result.get(INTENT) == {"name": "crisis", "confidence": 1.0, "crisis_category": "suicide",
                                  "crisis_speaker": "self"}
    assert [r["name"] for r in result.get(INTENT_RANKING_KEY)] == ["crisis", "greet", "goodbye"]
    assert result.get(ENTITIES) == []  # no form can take a crisis message as a value
    assert result.get("risk")["tier"] == "clear" and result.get("risk")["source"] == "rules"
    assert {INTENT, INTENT_RANKING_KEY, ENTITIES, "risk"} <= result.output_properties


@pytest.mark.parametrize(("text", "category", "speaker"), [
    ("my partner hits me", "abuse", "self"),
    ("i took a whole bottle of pills", "overdose", "self"),
    ("i cut myself again", "self_harm", "self"),
    ("i want to kill him", "harm_to_others", "self"),
    ("my friend says she wants to kill herself", "suicide", "other"),
])
def test_category_and_speaker(component, text, category, speaker):
    [result] = component.process([parsed(text)])
    assert (result.get(INTENT)["crisis_category"], result.get(INTENT)["crisis_speaker"]) == (category, speaker)


@pytest.mark.parametrize("text", ["honestly i'm so tired of everything", "i feel like such a burden to my kids"])
def test_risk_cues_that_are_not_a_plan_are_possible_risk(component, text):
    [result] = component.process([parsed(text, entities=[{"entity": "x", "value": "y", "start": 0, "end": 1}])])
    assert result.get(INTENT) == {"name": "possible_risk", "confidence": 1.0}
    assert result.get(ENTITIES) == []


@pytest.mark.parametrize("text", ["i like gardening", "my mom passed away in march", "idk",
                                  "my partner and i keep arguing about chores", "i had a baby 4 months ago"])
def test_diets_crisis_guess_alone_does_nothing_the_next_intent_stands(component, text):
    ranking = [{"name": "crisis", "confidence": 0.6}, {"name": "share_feelings", "confidence": 0.3},
               {"name": "greet", "confidence": 0.1}]
    [result] = component.process([parsed(text, "crisis", 0.6, ranking)])
    assert result.get(INTENT)["name"] == "share_feelings"
    assert result.get(INTENT)["confidence"] == pytest.approx(0.75)
    assert "crisis" not in [r["name"] for r in result.get(INTENT_RANKING_KEY)]


def test_diets_crisis_guess_with_nothing_confident_behind_it_is_the_fallback(component):
    ranking = [{"name": "possible_risk", "confidence": 0.8}, {"name": "greet", "confidence": 0.08},
               {"name": "goodbye", "confidence": 0.07}, {"name": "thank", "confidence": 0.05}]
    [result] = component.process([parsed("the weather is grey", "possible_risk", 0.8, ranking)])
    assert result.get(INTENT)["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["hello", "this traffic is killing me", "what is a role dispute"])
def test_other_messages_keep_their_intent_and_entities_and_carry_the_scores(component, text):
    entities = [{"entity": "topic", "value": "grief", "start": 0, "end": 5}]
    [result] = component.process([parsed(text, entities=entities)])
    assert result.get(INTENT) == {"name": "greet", "confidence": 0.9} and result.get(ENTITIES) == entities
    assert result.get("risk")["tier"] == "none" and 0 <= result.get("risk")["risk"] <= 1


def test_the_trained_model_is_saved_and_loaded_with_the_rasa_model(component, storage):
    loaded = CrisisDetectorComponent.load(CrisisDetectorComponent.get_default_config(), storage,
                                          Resource("triage"), CONTEXT)
    text = "honestly i'm so tired of everything"
    assert loaded.triage.model.probabilities(text) == component.triage.model.probabilities(text)


def test_a_message_without_text(component):
    [result] = component.process([Message(data={TEXT: ""})])
    assert result.get("risk")["tier"] == "none"


def test_units_are_the_whole_text_then_its_sentences():
    from bot.crisis.risk_model import units

    assert units("just one line") == ["just one line"]
    long = "My wife has MS. I nurse her every day! Last night I sat in the car with the hosepipe.\nSorry."
    assert units(long) == [long, "My wife has MS.", "I nurse her every day!",
                           "Last night I sat in the car with the hosepipe.", "Sorry."]


def test_a_plan_in_the_middle_of_a_long_message_is_scored_as_its_own_sentence(component):
    """Risk is the highest P(crisis) of the whole message and of each sentence: the long everyday text around
    a plan does not dilute it."""
    model = component.triage.model
    plan = "I have saved up my tablets and I am going to take them all tonight."
    long = ("My daughter rang on Sunday and we talked about the grandchildren and the garden. The roses are out. "
            "The vicar came round for tea on Wednesday and we chatted about the fete. " + plan
            + " The weather has been lovely this week and the cat is well.")
    risk, _ = model.probabilities(long)
    alone, _ = model.probabilities(plan)
    assert risk == pytest.approx(alone, abs=1e-9) or risk > alone
    assert risk >= 0.5
