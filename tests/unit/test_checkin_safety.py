"""Check-ins (issue 13, item 4): a mood of 0-2 of 10 gets the safety question before it is stored, and
"No, I'm safe" keeps the mood they gave and suggests telling their clinician; a PHQ-9 that rose by 5
points or more since the last one gets the safety question after the score. The real crisis policy,
the real engine, and the real validation action on a temporary SQLite database."""
import pytest
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.journey import ValidateJourneyForm
from bot.crisis.render_domain import render
from bot.journey import phq9
from bot.journey.engine import Journey
from bot.journey.state import MIDDLE, CheckinEntry, JourneyState
from bot.policies.crisis import CrisisPolicy
from bot.store.journey_repository import JourneyStore
from tests.unit.test_crisis_policy import run_turn
from tests.unit.test_journey_actions import DOMAIN
from tests.unit.test_journey_content import RESPONSES


def at_mood_step(answer: str, step: str = "week_mood", intent: str = "nlu_fallback") -> DialogueStateTracker:
    return DialogueStateTracker.from_events("p", [
        ActionExecuted("action_listen"), ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
        SlotSet("journey_step", step), ActionExecuted("journey_form"), ActionExecuted("action_listen"),
        UserUttered(answer, {"name": intent, "confidence": 0.4})])


@pytest.mark.parametrize("answer, step", [("2", "week_mood"), ("0", "mood"), ("1/10 honestly", "week_mood"),
                                          ("about a two", "mood"), ("2 out of 10", "mood")])
def test_a_very_low_mood_gets_the_safety_question_first(answer, step):
    action, events = CrisisPolicy.next_action(at_mood_step(answer, step))
    assert action == "utter_safety_check_low_mood"
    assert SlotSet("safety_check", "asked_low_mood") in events
    assert not any(isinstance(e, ActiveLoop) for e in events)  # the check-in stays where it was


@pytest.mark.parametrize("answer, step", [("3", "week_mood"), ("7", "mood"), ("2", "phq9_2"), ("2", "goal_1"),
                                          ("we had 2 rows", "week_events")])
def test_other_moods_and_other_steps_are_left_to_the_form(answer, step):
    assert CrisisPolicy.next_action(at_mood_step(answer, step)) == (None, [])


def test_no_im_safe_after_the_low_mood_question_suggests_the_clinician_and_resumes_the_form():
    turn = at_mood_step("2")
    run_turn(turn)
    turn.update(UserUttered("no im ok", {"name": "deny"}))
    assert run_turn(turn) == ["utter_safety_check_ok_low_mood", "action_flag_for_review", "journey_form"]
    assert turn.get_slot("safety_check") == "no"
    text = render()["responses"]["utter_safety_check_ok_low_mood"][0]["text"]
    assert "doctor or clinician" in text and "988" in text


@pytest.mark.parametrize("answer", ["no im not going to do anything, just really low",
                                    "no. im just so tired of everything"])
def test_a_plain_no_with_low_words_is_a_no_flagged_for_review(answer):
    """Played as a person through REST: "no im not going to do anything, just really low" (NLU: possible_risk)
    got the crisis reply and a hand-off."""
    turn = at_mood_step("1")
    run_turn(turn)
    turn.update(UserUttered(answer, {"name": "possible_risk"}))
    assert run_turn(turn) == ["utter_safety_check_ok_low_mood", "action_flag_for_review", "journey_form"]


@pytest.mark.parametrize("answer, intent", [("yes", "affirm"), ("not sure", "affirm"),
                                            ("no, but i dont see the point anymore", "possible_risk"),
                                            ("i just feel hopeless", "possible_risk")])
def test_yes_not_sure_or_a_risk_cue_without_a_plain_no_is_the_crisis_reply(answer, intent):
    turn = at_mood_step("1")
    run_turn(turn)
    turn.update(UserUttered(answer, {"name": intent}))
    assert run_turn(turn)[:3] == ["utter_crisis", "utter_crisis_resources", "action_crisis_handoff"]


@pytest.mark.parametrize("answer", ["yes", "not sure"])
def test_yes_or_not_sure_after_the_low_mood_question_is_the_crisis_reply(answer):
    turn = at_mood_step("1")
    run_turn(turn)
    turn.update(UserUttered(answer, {"name": "affirm"}))
    assert run_turn(turn)[:3] == ["utter_crisis", "utter_crisis_resources", "action_crisis_handoff"]


def test_the_low_mood_question_is_asked_once_per_check_in():
    turn = at_mood_step("2")
    run_turn(turn)
    turn.update(UserUttered("no", {"name": "deny"}))
    run_turn(turn)
    turn.update(ActionExecuted("action_listen"))
    turn.update(UserUttered("2", {"name": "nlu_fallback"}))  # the same answer again in this check-in
    assert CrisisPolicy.next_action(turn) == (None, [])


def test_the_low_mood_question_carries_the_safety_check_payload_and_its_buttons():
    [variation] = render()["responses"]["utter_safety_check_low_mood"]
    assert variation["custom"]["type"] == "safety_check" and "very low score" in variation["text"]
    assert [b["title"] for b in variation["buttons"]] == ["Yes", "No, I'm safe", "Not sure"]


def test_a_phq9_rise_flagged_by_the_journey_gets_the_safety_question_after_the_form():
    turn = at_mood_step("0", step="phq9_9")
    turn.update_with_events([SlotSet("safety_check", "due"), ActionExecuted("journey_form"), ActiveLoop(None)], None)
    action, events = CrisisPolicy.next_action(turn)
    assert action == "utter_safety_check" and SlotSet("safety_check", "asked") in events


# --------------------------------------------------------------------------- the engine: a rising PHQ-9
def week_three(last_total: int) -> Journey:
    state = JourneyState("p", phase=MIDDLE, focus="role_dispute", week=3, goals=["talk calmly"],
                         done=["checkin", "inventory", "screening", "formulation"])
    state.checkins.append(CheckinEntry(kind="initial", mood=4, phq9_total=last_total, phq9=[1] * 9))
    return Journey(state)


def finish_week_with_phq9(journey: Journey, answers: tuple[str, ...]):
    journey.begin("next")
    turn = None
    for text in ("5", "we talked", "felt better", "a", "b", "ask for ten minutes", "yes", *answers):
        journey.ask()
        turn = journey.answer(text)
    return turn


def test_a_phq9_five_points_higher_than_last_time_says_so_and_asks_for_the_safety_question():
    turn = finish_week_with_phq9(week_three(6), ("2", "2", "1", "1", "1", "1", "2", "1", "0"))  # 11: up 5
    assert turn.finished and turn.safety_check
    said = [r.response for r in turn.replies]
    assert "utter_journey/phq9_rising" in said and said.index("utter_journey/phq9_rising") > said.index(
        "utter_journey/phq9_result")
    assert "doctor or clinician" in RESPONSES["utter_journey/phq9_rising"][0]["text"]


@pytest.mark.parametrize("last_total", [7, 15])  # up 4, or down
def test_a_smaller_rise_or_a_fall_does_not(last_total):
    turn = finish_week_with_phq9(week_three(last_total), ("2", "2", "1", "1", "1", "1", "2", "1", "0"))
    assert turn.finished and not turn.safety_check
    assert "utter_journey/phq9_rising" not in [r.response for r in turn.replies]


def test_rising_is_five_points_or_more():
    assert phq9.rising(6, 11) and not phq9.rising(6, 10) and not phq9.rising(11, 6)


# --------------------------------------------------------------------------- the action keeps the mood
@pytest.fixture
def store(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HANDOFF_SPOOL", str(tmp_path / "spool.jsonl"))
    return JourneyStore(sqlite_url)


def after_the_safety_question(sender: str, mood: str, settled: str, safety: str) -> Tracker:
    latest = {"text": "no", "intent": {"name": "deny", "confidence": 0.9}, "entities": []}
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": mood, "parse_data": {"intent": {"name": "nlu_fallback"}}},
              {"event": "action", "name": "utter_safety_check_low_mood"},
              {"event": "action", "name": "action_listen"},
              {"event": "user", "text": "no", "parse_data": latest},
              {"event": "action", "name": settled},
              {"event": "action", "name": "action_flag_for_review"},
              {"event": "action", "name": "journey_form"}]
    slots = {"requested_slot": "journey_answer", "journey_step": "mood", "safety_check": safety}
    return Tracker(sender, slots, latest, events, False, None, {"name": "journey_form"}, "journey_form")


@pytest.mark.parametrize("settled, safety", [("utter_safety_check_ok_low_mood", "no"),
                                             ("utter_safety_check_unanswered", "unanswered")])
async def test_the_mood_given_before_the_safety_question_is_kept(store, settled, safety):
    state = store.load("m1")
    state.activity, state.display_name = "checkin", "Lu"
    store.save(state)
    dispatcher = CollectingDispatcher()
    events = await ValidateJourneyForm().run(dispatcher, after_the_safety_question("m1", "2", settled, safety), DOMAIN)
    assert store.load("m1").draft.get("mood") == 2
    assert {"event": "slot", "timestamp": None, "name": "journey_answer", "value": None} in events


async def test_a_later_no_is_never_read_as_the_mood(store):
    """Without the low-mood question in this turn, "no" is the latest message and not a mood."""
    state = store.load("m2")
    state.activity, state.display_name = "checkin", "Lu"
    store.save(state)
    tracker = after_the_safety_question("m2", "2", "utter_safety_check_ok", "no")
    await ValidateJourneyForm().run(CollectingDispatcher(), tracker, DOMAIN)
    assert "mood" not in store.load("m2").draft
