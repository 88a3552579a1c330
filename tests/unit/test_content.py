"""IPT psychoeducation content: plain language, safe wording, next steps, wiring, and the action."""
from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.psychoeducation import ActionIptMore, choose_response, last_shown_key
from bot import PROJECT_ROOT
from bot.content import build, readability, topics

DOMAIN_DIR = PROJECT_ROOT / "domain"
OWN_DOMAIN = DOMAIN_DIR / "psychoeducation.yml"
NLU_FILES = sorted((PROJECT_ROOT / "data" / "nlu").glob("psychoeducation*.yml"))
TEST_STORIES = PROJECT_ROOT / "tests" / "stories" / "test_psychoeducation.yml"

MAX_GRADE = 8.0
MAX_SENTENCES = 3
# Never diagnose, never claim to be a clinician, never promise a cure.
FORBIDDEN = [
    r"\bdiagnos",
    r"\btherapist",
    r"\bI(?:'m| am) (?:a |an |your )?(?:clinician|counsell?or|doctor|psychologist|nurse)\b",
    r"\byou (?:have|are suffering from|suffer from) (?:depression|a disorder|an illness)",
    r"\byou are depressed\b",
    r"\bcured?\b",
    r"\bguarantee",
]


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def own_responses() -> dict:
    """Every response in the psychoeducation domain file and data files, as Rasa sends it
    (after its placeholder filling, which turns the escaped `{{`/`}}` of payloads into braces)."""
    from rasa.core.nlg.interpolator import interpolate

    responses = dict(_yaml(OWN_DOMAIN).get("responses", {}))
    for path in NLU_FILES:
        responses.update(_yaml(path).get("responses", {}) or {})
    return {name: [interpolate(v, {}) for v in variations] for name, variations in responses.items()}


def all_domain_intents() -> set:
    intents = set()
    for path in DOMAIN_DIR.glob("*.yml"):
        for item in _yaml(path).get("intents", []) or []:
            intents.add(next(iter(item)) if isinstance(item, dict) else item)
    return intents


def nlu_examples() -> dict:
    """intent -> list of plain-text examples, over the psychoeducation NLU files."""
    out: dict = {}
    for path in NLU_FILES:
        for block in _yaml(path).get("nlu", []):
            if "intent" in block:
                lines = [ln[2:].strip() for ln in block["examples"].splitlines() if ln.strip()]
                out.setdefault(block["intent"], []).extend(lines)
    return out


def plain(example: str) -> str:
    """Training example text without entity annotations."""
    return re.sub(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})", r"\1", example)


RESPONSES = own_responses()
TEXTS = [(name, variation["text"]) for name, variations in RESPONSES.items() for variation in variations]


def test_the_generated_domain_file_is_up_to_date():
    assert OWN_DOMAIN.read_text(encoding="utf-8") == build.render(), (
        "domain/psychoeducation.yml is stale: run python -m bot.content.build"
    )


def test_there_are_responses_to_check():
    assert len(TEXTS) >= 60


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
def test_every_bubble_is_plain_language(name, text):
    grade = readability.fk_grade(text)
    assert grade <= MAX_GRADE, f"{name}: reading grade {grade:.1f} > {MAX_GRADE}"
    assert readability.sentence_count(text) <= MAX_SENTENCES, f"{name}: more than three sentences"


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
def test_no_bubble_diagnoses_or_claims_to_be_a_clinician(name, text):
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text, re.IGNORECASE), f"{name}: matches {pattern!r}"


def test_reading_grade_summary_stays_low():
    grades = [readability.fk_grade(text) for _, text in TEXTS]
    assert max(grades) <= MAX_GRADE
    assert statistics.median(grades) <= 7.0


def test_every_response_offers_a_next_step():
    for name, variations in RESPONSES.items():
        for variation in variations:
            buttons = variation.get("buttons") or []
            assert len(buttons) >= 2, f"{name} offers no next step"
            assert len(buttons) <= 8, f"{name} has too many buttons"
            for button in buttons:
                assert button["title"].strip() and not re.search("therapist", button["title"], re.I)


def test_every_button_payload_is_deterministic_and_valid():
    intents = all_domain_intents()
    pattern = re.compile(r"^/(?P<intent>[A-Za-z_]+)(?P<entities>\{.*\})?$")
    for name, variations in RESPONSES.items():
        for variation in variations:
            for button in variation["buttons"]:
                match = pattern.match(button["payload"])
                assert match, f"{name}: payload {button['payload']!r} is not /intent{{...}}"
                assert match["intent"] in intents, f"{name}: unknown intent {match['intent']}"
                if match["entities"]:
                    entities = json.loads(match["entities"])
                    assert set(entities) == {topics.TOPIC_ENTITY}
                    assert topics.is_bubble_key(entities[topics.TOPIC_ENTITY]), f"{name}: {entities}"


def test_every_topic_bubble_has_a_response_and_every_response_a_topic():
    data = topics.content()
    expected = {topics.response_name(k) for k in data.bubble_keys()}
    expected |= {topics.MENU_RESPONSE, topics.MORE_END_RESPONSE}
    assert set(RESPONSES) == expected
    assert topics.MORE_END_KEY not in data.topics


def test_related_topics_exist_and_every_topic_is_reachable_from_the_menu():
    data = topics.content()
    for topic in data.topics.values():
        assert topic.group in data.groups
        for key in list(topic.related) + [k for b in topic.bubbles for k in b.related]:
            assert key in data.topics, f"{topic.key}: unknown related topic {key}"
    seen, todo = set(), list(data.menu_topics)
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        topic = data.topics[key]
        for i in range(len(topic.bubbles)):
            for button in topics.buttons_for(topic, i, data):
                if button["payload"].startswith(f"/{topics.MORE_INTENT}{{"):
                    entities = json.loads(button["payload"][len(topics.MORE_INTENT) + 1:])
                    todo.append(topics.split_bubble_key(entities[topics.TOPIC_ENTITY])[0])
    assert seen == set(data.topics), f"not reachable: {set(data.topics) - seen}"


def test_every_topic_with_training_examples_is_a_known_topic_and_well_trained():
    data = topics.content()
    examples = nlu_examples()
    sub_intents = {i.split("/", 1)[1] for i in examples if i.startswith(f"{topics.RETRIEVAL_INTENT}/")}
    assert sub_intents <= set(data.topics)
    # Topics only reachable by buttons (the assistant's own limits: core intents cover the rest).
    assert set(data.topics) - sub_intents == {"bot_what"}
    for intent, lines in examples.items():
        assert 7 <= len(lines) <= 15, f"{intent}: {len(lines)} examples"
    assert sum(len(lines) for lines in examples.values()) < 500


def test_no_example_is_labelled_with_two_intents():
    owner: dict = {}
    for intent, lines in nlu_examples().items():
        for line in lines:
            text = plain(line).lower()
            assert owner.setdefault(text, intent) == intent, f"{text!r}: {owner[text]} and {intent}"


def test_examples_include_short_lowercase_queries_and_follow_ups():
    examples = {plain(x) for lines in nlu_examples().values() for x in lines}
    assert all(x == x.lower() for x in examples)
    assert sum(1 for x in examples if len(x.split()) <= 2) >= 40
    for follow_up in ("tell me more", "what about grief?", "and the last phase?"):
        assert follow_up in examples


def test_test_stories_cover_every_topic_group_and_a_crisis():
    text = TEST_STORIES.read_text(encoding="utf-8")
    data = topics.content()
    covered = {topics.split_bubble_key(k)[0] for k in re.findall(r"intent: ipt/(\w+)", text)}
    covered |= {topics.split_bubble_key(k)[0] for k in re.findall(r'"ipt_topic":"(\w+)"', text)}
    assert {data.topics[k].group for k in covered} == set(data.groups)
    assert "intent: crisis" in text and "action: utter_crisis" in text


# ---------------------------------------------------------------- readability

def test_readability_counts_sentences_and_syllables():
    assert readability.sentence_count("One. Two? Three! Four") == 4
    assert readability.sentence_count("It lasts 12 to 16 weeks.") == 1
    assert readability.syllables("role") == 1
    assert readability.syllables("people") == 2
    assert readability.syllables("IPT") == 3
    assert readability.syllables("relationships") == 4
    assert readability.fk_grade("The cat sat on the mat.") < 2
    assert readability.fk_grade(
        "Interpersonal psychotherapy is an evidence-based, time-limited psychological intervention."
    ) > 12


# ---------------------------------------------------------------- topics helpers

def test_bubble_keys_round_trip():
    assert topics.bubble_key("area_grief", 0) == "area_grief"
    assert topics.bubble_key("area_grief", 1) == "area_grief_more"
    assert topics.bubble_key("area_disputes", 2) == "area_disputes_more2"
    for key in topics.content().bubble_keys():
        topic, index = topics.split_bubble_key(key)
        assert topics.bubble_key(topic, index) == key
    assert topics.next_bubble_key("area_disputes") == "area_disputes_more"
    assert topics.next_bubble_key("area_disputes_more") == "area_disputes_more2"
    assert topics.next_bubble_key("area_disputes_more2") is None
    assert not topics.is_bubble_key("area_grief_more5")
    assert not topics.is_bubble_key("no_such_topic")


# ---------------------------------------------------------------- action_ipt_more

def bot_event(response: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


def user_event(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "ipt_more"}}}


def test_a_button_names_the_bubble_to_show():
    assert choose_response("phase_middle", []) == "utter_ipt/phase_middle"
    assert choose_response("area_grief_more", [bot_event("utter_ipt/what_is")]) == "utter_ipt/area_grief_more"


def test_typed_tell_me_more_continues_the_last_topic():
    events = [bot_event("utter_ipt/area_disputes"), user_event("tell me more")]
    assert choose_response(None, events) == "utter_ipt/area_disputes_more"
    events += [bot_event("utter_ipt/area_disputes_more"), user_event("more")]
    assert choose_response(None, events) == "utter_ipt/area_disputes_more2"
    events += [bot_event("utter_ipt/area_disputes_more2"), bot_event("utter_greet"), user_event("more")]
    assert choose_response(None, events) == topics.MORE_END_RESPONSE


def test_tell_me_more_with_nothing_shown_yet_offers_the_topics():
    assert choose_response(None, [user_event("tell me more")]) == topics.MENU_RESPONSE
    assert choose_response("not_a_topic", []) == topics.MENU_RESPONSE
    restarted = [bot_event("utter_ipt/what_is"), {"event": "restart"}, user_event("more")]
    assert last_shown_key(restarted) is None


async def test_action_ipt_more_sends_the_response_by_name():
    latest = {
        "text": '/ipt_more{"ipt_topic":"area_grief"}',
        "intent": {"name": "ipt_more", "confidence": 1.0},
        "entities": [{"entity": "ipt_topic", "value": "area_grief"}],
    }
    tracker = Tracker("p1", {}, latest, [bot_event("utter_ipt/what_is")], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert await ActionIptMore().run(dispatcher, tracker, {}) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_ipt/area_grief"]

    typed = {"text": "tell me more", "intent": {"name": "ipt_more", "confidence": 0.9}, "entities": []}
    tracker = Tracker("p1", {}, typed, [bot_event("utter_ipt/what_is")], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionIptMore().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_ipt/what_is_more"]
