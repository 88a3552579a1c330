"""Reading answers as people type them (issue 13, item 2): yes/no in everyday words and typos, typed
button titles, "no one" / "idk" / "that's it", fillers around names, and questions never stored."""
from pathlib import Path

import pytest
import yaml

from bot.journey import answers, phq9, steps
from bot.journey.engine import Journey
from bot.journey.state import JourneyState, PersonEntry

ROOT = Path(__file__).resolve().parents[2]


def names(replies):
    return [r.response for r in replies]


@pytest.mark.parametrize("text", ["yes", "yse", "Yes!", "ya", "yh", "ok", "okk", "k", "sure", "sure thing",
                                  "sounds good", "go on", "yes please", "why not", "i think so", "yes. frank",
                                  "yes a bit", "Yes, let's start", "Yes, go on", "Add someone", "alright",
                                  "yes that sounds like me", "um yes i guess"])
def test_everyday_yes(text):
    assert answers.parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "nah", "nope", "noo", "not really", "Not now", "not rn", "maybe later",
                                  "no thx", "That's everyone", "nah thats it", "no, im ok", "never",
                                  "i'd rather not", "no not really"])
def test_everyday_no(text):
    assert answers.parse_yes_no(text) is False


@pytest.mark.parametrize("text", ["ok no", "banana", "what do you mean"])
def test_mixed_or_unrelated_words_are_not_read_as_yes_or_no(text):
    with pytest.raises(answers.Unclear):
        answers.parse_yes_no(text)


@pytest.mark.parametrize("text, name, relation", [
    ("my mom i guess", "your mom", "mom"), ("prob my ex", "your ex", "ex"), ("my sister jo", "Jo", "sister"),
    ("Jo, my sister", "Jo", "sister"), ("um Sarah", "Sarah", None), ("Frank", "Frank", None),
    ("my best friend", "your best friend", "best friend"), ("my name is Jo", "Jo", None),
])
def test_fillers_and_relations_around_names(text, name, relation):
    assert answers.clean_name(text) == name
    assert answers.relation_of(text) == relation


@pytest.mark.parametrize("text, name", [
    ("Margaret is fine, or Maggie", "Margaret"), ("Joan next door", "Joan"), ("Dave from work", "Dave"),
    ("the woman at the corner shop I suppose. Mrs Khan", "Mrs Khan"), ("Jo will do", "Jo"),
    ("Sarah or Sal", "Sarah"), ("Maggie please", "Maggie"), ("Ana, but everyone calls me Annie", "Ana"),
    ("Mr. Patel", "Mr. Patel"), ("Tom is my brother", "Tom"), ("Jess. We have been together 6 years", "Jess"),
    ("the lady upstairs", "the lady upstairs"), ("Mary Ann", "Mary Ann"),
])
def test_the_name_alone_in_a_longer_answer(text, name):
    """The corpus's Margaret, Pat and others: a name with "is fine", "or ...", where they live, or after a
    description was stored whole."""
    assert answers.clean_name(text) == name


@pytest.mark.parametrize("text", ["no one", "nobody", "Nobody really", "idk", "dunno", "nah thats it",
                                  "that's everyone", "nothing really", "skip", "not sure"])
def test_no_answer_words_are_read_as_such(text):
    assert answers.is_skip(text)


@pytest.mark.parametrize("text", ["my brother", "Sam", "we fight about money", "not sure he cares"])
def test_real_answers_are_not_skips(text):
    assert not answers.is_skip(text)


@pytest.mark.parametrize("text, score", [("not at all", 0), ("a bit", 1), ("yes a bit", 1), ("not really", 0),
                                         ("most days", 2), ("nearly every day tbh", 3), ("every single day", 3),
                                         ("like half the time", 2), ("once or twice", 1)])
def test_common_phq9_phrasings(text, score):
    assert phq9.parse_answer(text) == score


@pytest.mark.parametrize("text", ["not really", "a bit", "sometimes i guess"])
def test_item9_is_clear_only_for_a_plain_no(text):
    assert not phq9.is_clear_no(text)


@pytest.mark.parametrize("text", ["not at all", "no", "never", "nope", "0"])
def test_item9_clear_no(text):
    assert phq9.is_clear_no(text)


def _inventory(people=()):
    journey = Journey(JourneyState("p", done=["checkin"], people=list(people)))
    journey.begin("inventory")
    journey.ask()
    return journey


def test_a_relation_named_as_the_person_answers_the_relation_question_too():
    journey = _inventory()
    journey.answer("my mom i guess")
    assert journey.state.draft["person_name"] == "your mom"
    assert journey.state.draft["person_relationship"] == "mom"
    assert journey.current_step().key == "person_closeness"


def test_no_one_at_the_first_name_is_met_kindly_and_stores_nobody():
    journey = _inventory()
    turn = journey.answer("no one really")
    assert names(turn.replies) == ["utter_journey/nobody_yet"]
    assert journey.state.people == []
    assert names(journey.ask()) == ["utter_journey/ask_inventory_more_none"]


def test_thats_everyone_at_a_later_name_ends_the_list():
    journey = _inventory([PersonEntry("Sam", closeness="inner")])
    turn = journey.answer("nah thats everyone")
    assert turn.finished and [p.name for p in journey.state.people] == ["Sam"]


@pytest.mark.parametrize("text", ["wait whats communication analysis", "which person? sam?",
                                  "do you keep what i write here?"])
def test_a_question_at_a_typed_answer_step_is_answered_and_never_stored(text):
    journey = Journey(JourneyState("p", done=["checkin"], activity="inventory",
                                   draft={"person_name": "Sam", "person_relationship": "friend",
                                          "person_closeness": "inner", "person_contact": "weekly"}))
    assert journey.current_step().key == "person_good"
    turn = journey.answer(text)
    assert names(turn.replies) == ["utter_journey/question_at_step"]
    assert "person_good" not in journey.state.draft and journey.state.retries == 0
    assert journey.current_step().key == "person_good"


def _journey_ask_buttons():
    """(step key, title, payload) for every button of a journey question in the domain."""
    domain = yaml.safe_load((ROOT / "domain" / "journey.yml").read_text())
    keys = {step.key for activity in steps.ACTIVITIES.values() for step in activity}
    found = []
    for name, variations in domain["responses"].items():
        if not name.startswith("utter_journey/ask_"):
            continue
        key = name[len("utter_journey/ask_"):]
        key = next((k for k in sorted(keys, key=len, reverse=True) if key == k or key.startswith(k + "_")), None)
        for variation in variations:
            for button in variation.get("buttons") or []:
                if key and not button["payload"].startswith("/"):
                    field = name.rsplit("_", 1)[-1] if key == "new_value" else None
                    found.append((key, field, button["title"], button["payload"]))
    return found


BUTTONS = _journey_ask_buttons()


def _step(key):
    return next(step for activity in steps.ACTIVITIES.values() for step in activity if step.key == key)


def test_the_domain_has_journey_buttons_to_check():
    assert len(BUTTONS) >= 20


@pytest.mark.parametrize("key, field, title, payload", BUTTONS)
def test_a_typed_button_title_reads_as_its_button(key, field, title, payload):
    state = JourneyState("p", people=[PersonEntry("Sam")], draft={"pick_field": field})
    step = _step(key)
    if payload == "skip":
        assert answers.is_skip(title)
        return
    read = step.read(title, None, state)
    if step.kind_for(state) == "text":  # kept as typed
        assert read.lower() == payload.lower()
    else:
        assert read == step.read(payload, None, state)
