"""The parts of the graded safety response: reading the safety answer, holding replies, staffing
hours, who a crisis message is about, one open hand-off per conversation, and the thresholds file."""
from datetime import datetime, timezone

import pytest

from bot.crisis import corpus
from bot.crisis.calibrate import load_thresholds
from bot.crisis.handoff import HandoffRequest
from bot.crisis.safety_check import NO, UNSURE, YES, read_safety_answer
from bot.crisis.speaker import CHILD, OTHER, SELF, speaker_of
from bot.handoff import staffing
from bot.handoff.holding import holding_response
from bot.store.repository import AppStore


@pytest.mark.parametrize("text, intent, expected", [
    ("yes", None, YES), ("Yes", None, YES), ("yeah", None, YES), ("yep tbh", None, YES), ("i am", None, YES),
    ("no, I'm safe", None, NO), ("No", None, NO), ("nope", None, NO), ("nah im fine", None, NO),
    ("i'm ok", None, NO), ("no i'm not", None, NO), ("not really", None, NO),
    ("not sure", None, UNSURE), ("Not sure", None, UNSURE), ("maybe", None, UNSURE), ("idk", None, UNSURE),
    ("kind of", None, UNSURE), ("sometimes", None, UNSURE), ("no but sometimes", None, UNSURE),
    ("why do you ask", None, None), ("what is ipt", None, None), ("sure thing", "affirm", YES),
])
def test_the_safety_answer_is_read_leniently_but_a_hedge_is_never_a_no(text, intent, expected):
    assert read_safety_answer(text, intent) == expected


@pytest.mark.parametrize("text, expected", [
    ("I don't want to call anyone", "utter_holding_no_call"), ("i cant call, no credit", "utter_holding_no_call"),
    ("i'm fine now honestly, it was a mistake", "utter_safety_check"), ("im not in danger", "utter_safety_check"),
    ("when will someone come", "utter_holding_when"), ("is anyone there", "utter_holding_when"),
    ("it's just been a really long day", "utter_holding"),
])
def test_holding_replies_answer_what_the_person_wrote(text, expected):
    assert holding_response(text) == expected


@pytest.mark.parametrize("hours, moment, expected", [
    ("mon-fri 09:00-17:00", datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), True),  # a Tuesday
    ("mon-fri 09:00-17:00", datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc), False),
    ("mon-fri 09:00-17:00", datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc), False),  # Saturday
    ("mon-fri 09:00-17:00; sat 10:00-14:00", datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc), True),
    ("fri-mon 22:00-06:00", datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc), True),  # overnight, Monday
    ("", datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), False),  # nobody on duty unless configured
    ("mon-sun 00:00-24:00", datetime(2026, 12, 1, 23, 59, 30, tzinfo=timezone.utc), True),  # all day
])
def test_on_duty_hours(hours, moment, expected):
    assert staffing.is_open(moment, hours, "UTC") is expected


def test_on_duty_hours_follow_the_clinic_time_zone():
    moment = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
    assert staffing.is_open(moment, "tue 09:00-11:00", "America/New_York")
    assert not staffing.is_open(moment, "tue 09:00-11:00", "Asia/Tokyo")


@pytest.mark.parametrize("bad", ["weekdays 9-5", "mon-fri 9am-5pm", "xyz 09:00-10:00"])
def test_unreadable_hours_are_an_error_that_says_what_to_write(bad):
    with pytest.raises(ValueError, match="CLINIC_HOURS"):
        staffing.parse_hours(bad)


def test_an_unknown_time_zone_is_an_error():
    with pytest.raises(ValueError, match="CLINIC_TIMEZONE"):
        staffing.clinic_timezone("Mars/Olympus")


@pytest.mark.parametrize("text, expected", [
    ("i want to kill myself", SELF),
    ("my friend says she wants to kill herself", OTHER),
    ("my son has burn marks on his arms", OTHER),
    ("I'm worried about my husband, he talks about shooting himself", OTHER),
    ("my friend died last year and i want to join her", SELF),
    ("daddy hits me with his belt", CHILD),
    ("im 10 and my mums boyfriend hurts me", CHILD),
])
def test_who_a_crisis_message_is_about(text, expected):
    assert speaker_of(text) == expected


def _request(text: str, category: str = "suicide") -> HandoffRequest:
    return HandoffRequest(channel="rest", sender_id="p1", category=category, locale="US", message=text)


def test_a_conversation_has_at_most_one_open_handoff(sqlite_url):
    store = AppStore(sqlite_url)
    first = store.open_handoff(_request("i want to die"), ["webhook"])
    second = store.open_handoff(_request("i took the pills", "overdose"), ["webhook"])
    assert first == second
    handoffs = store.list_handoffs()
    assert len(handoffs) == 1
    assert handoffs[0].priority == 2 and handoffs[0].category == "overdose"  # the more urgent category
    assert "i took the pills" in handoffs[0].message and "i want to die" in handoffs[0].message
    store.mark_person_safe("p1")
    assert store.get_handoff(first).person_safe_at is not None


def test_closing_ends_every_open_handoff_of_the_conversation(sqlite_url):
    store = AppStore(sqlite_url)
    store.open_handoff(_request("i want to die"), [])
    assert store.close_open_handoffs("p1", "sam")
    assert [h.status for h in store.list_handoffs()] == ["closed"]
    third = store.open_handoff(_request("again"), [])  # a new crisis after closing is a new hand-off
    assert store.get_handoff(third).status == "requested" and len(store.list_handoffs()) == 2


def test_review_flags_are_kept_and_deleted_with_the_persons_data(sqlite_url):
    store = AppStore(sqlite_url)
    store.flag_for_review("rest", "p1", "safety_check_no", "no, I'm safe")
    assert [f["kind"] for f in store.review_flags("p1")] == ["safety_check_no"]
    store.delete_person_data("p1")
    assert store.review_flags("p1") == []


def test_the_thresholds_were_chosen_on_the_current_training_data():
    thresholds = load_thresholds()
    assert thresholds["fingerprint"] == corpus.fingerprint(), "the training data changed: run `make calibrate`"
    assert 0 < thresholds["low"] < thresholds["high"] < 1


def test_the_held_out_quarter_is_never_trained_on():
    held_out = {e.text for e in corpus.everyday(held_out=True)}
    shared = held_out & {e.text for e in corpus.training_examples()}
    assert held_out and all(len(text.split()) <= 3 for text in shared)  # only stock answers recur ("not at all")
    assert not {e.text for e in corpus.training_examples()} & {
        e.text for examples in corpus.blind_sets().values() for e in examples}


@pytest.mark.parametrize("value", ["FR", "usa", "xx"])
def test_an_unknown_crisis_locale_is_a_start_up_error_not_a_silent_fallback(monkeypatch, value):
    from bot.policies.crisis import check_safety_settings

    monkeypatch.setenv("CRISIS_LOCALE", value)
    with pytest.raises(ValueError, match="CRISIS_LOCALE"):
        check_safety_settings()


def test_the_runner_refuses_to_start_with_a_bad_setting(monkeypatch, capsys):
    from bot.runner import main

    monkeypatch.setenv("CLINIC_HOURS", "weekdays nine to five")
    assert main(["--model", "models/none.tar.gz"]) == 2
    assert "CLINIC_HOURS" in capsys.readouterr().err


class _Scores:
    """A risk model's output fixed in advance (the triage's decision is under test, not the model)."""

    def __init__(self, risk: float, concern: float) -> None:
        self.risk, self.concern = risk, concern

    def probabilities(self, text: str) -> tuple[float, float]:
        return self.risk, self.concern

    def category(self, text: str) -> str:
        return "suicide"


@pytest.mark.parametrize("text, tier", [
    ("my dad took his own life. I'm not in any danger myself, I just miss him", "possible"),
    ("I have no intention of harming myself, I just feel heavy", "possible"),
    ("I'm not suicidal but I took too many of my tablets tonight", "clear"),
    ("everything is heavy and I keep thinking about the bridge", "clear"),
])
def test_a_plain_disavowal_turns_a_model_alarm_into_the_safety_question(text, tier):
    from bot.crisis.triage import Triage
    from bot.nlu.crisis_detector import get_detector

    triage = Triage(get_detector(), _Scores(0.95, 0.97), high=0.8, low=0.5)
    assert triage.assess(text).tier == tier


def test_the_unseen_sets_are_blind_sets_that_exist():
    """The first-run figures of a round come from `corpus.UNSEEN`: each is a blind set on disk, never trained on."""
    blind = {p.name for p in corpus.paths((*corpus.BLIND_SETS, *corpus.EVERYDAY_BLIND))}
    trained = {p.name for p in corpus.paths((*corpus.TRAINING_SETS, corpus.EVERYDAY))}
    assert corpus.UNSEEN and set(corpus.UNSEEN) <= blind and not set(corpus.UNSEEN) & trained
