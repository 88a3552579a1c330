"""Middle and ending phases (issue 13, item 4): the PHQ-9 again at weeks 4 and 8 and at the end with the
change shown, exercises that vary over eight weeks, and an honest ending when nothing improved."""
import pytest
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.journey import exercises, phq9, problem_areas
from bot.journey.engine import Journey
from bot.journey.state import COMPLETED, MIDDLE, TERMINATION, CheckinEntry, JourneyState
from bot.policies.crisis import CrisisPolicy
from tests.unit.test_journey_content import RESPONSES


def names(replies):
    return [r.response for r in replies]


def middle(week: int, first_phq9=None, first_mood=4, focus="role_dispute", **kwargs) -> Journey:
    state = JourneyState("p", phase=MIDDLE, focus=focus, week=week, goals=["talk calmly"],
                         done=["checkin", "inventory", "screening", "formulation"], **kwargs)
    state.checkins.append(CheckinEntry(kind="initial", mood=first_mood, phq9_total=first_phq9,
                                       phq9=[1] * 9 if first_phq9 is not None else None))
    return Journey(state)


def answer_all(journey: Journey, *texts: str):
    """Answers each question in turn and returns the asked step keys and the last turn."""
    asked, turn = [], None
    for text in texts:
        assert journey.current_step() is not None, f"nothing asked before {text!r}"
        journey.ask()
        asked.append(journey.state.step)
        turn = journey.answer(text)
    return asked, turn


WEEK = ("5", "we talked", "felt better", "a", "b", "ask for ten minutes")  # mood ... the step between
PHQ9_SIX = ("1", "1", "1", "1", "0", "1", "1", "0", "0")  # total 6 (item 9 "0": a clear no)


# --------------------------------------------------------------------------- the PHQ-9 again
@pytest.mark.parametrize("week", [3, 7])  # the check-ins that become weeks 4 and 8
def test_weeks_4_and_8_offer_the_phq9_again_with_the_same_item_keys_and_show_the_change(week):
    journey = middle(week, first_phq9=15)
    journey.begin("next")
    asked, turn = answer_all(journey, *WEEK, "yes", *PHQ9_SIX)
    assert asked[-10:] == ["phq9_offer", *phq9.ITEMS]  # item 9 is asked as phq9_9, as in the first check-in
    saved = journey.state.checkins[-1]
    assert (saved.kind, saved.week, saved.phq9_total) == ("weekly", week + 1, 6) and saved.phq9 == [1, 1, 1, 1, 0,
                                                                                                   1, 1, 0, 0]
    replies = {r.response: r for r in turn.replies}
    assert replies["utter_journey/phq9_result"].variables["total"] == 6
    assert "utter_journey/phq9_band_mild" in replies and "utter_journey/not_a_diagnosis" in replies
    change = replies["utter_journey/phq9_change"].variables
    assert change["phq9_change"] == "15 → 6"
    assert change["phq9_chart"] == f"Start: {'█' * 15} 15\nWeek {week + 1}: {'█' * 6} 6"


def test_the_offer_says_it_is_the_same_questions_again_and_can_be_declined():
    journey = middle(3, first_phq9=15)
    journey.begin("next")
    asked, turn = answer_all(journey, *WEEK)
    assert names(journey.ask())[-1] == "utter_journey/ask_phq9_offer_again"
    assert "again" in RESPONSES["utter_journey/ask_phq9_offer_again"][0]["text"]
    asked, turn = answer_all(journey, "no")
    assert turn.finished and journey.state.checkins[-1].phq9 is None
    assert not any(name.startswith("utter_journey/phq9") for name in names(turn.replies))


@pytest.mark.parametrize("week", [0, 1, 2, 4, 5, 6, 8])  # 9-11: the ending check-ins (below)
def test_other_weeks_do_not_ask_the_phq9(week):
    journey = middle(week, first_phq9=15)
    journey.begin("next")
    asked, turn = answer_all(journey, *WEEK)
    assert turn.finished and "phq9_offer" not in asked


def test_item_9_above_zero_in_a_weekly_phq9_gets_the_crisis_reply_from_the_real_policy():
    journey = middle(3, first_phq9=15)
    journey.begin("next")
    answer_all(journey, *WEEK, "yes", *PHQ9_SIX[:8])
    journey.ask()
    assert journey.state.step == phq9.SELF_HARM_ITEM
    tracker = DialogueStateTracker.from_events("p", [
        ActionExecuted("action_listen"), ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
        SlotSet("journey_step", journey.state.step), ActionExecuted("journey_form"), ActionExecuted("action_listen"),
        UserUttered("several days", {"name": "nlu_fallback", "confidence": 0.3})])
    action, events = CrisisPolicy.next_action(tracker)
    assert action == "utter_crisis" and SlotSet("crisis_category", "suicide") in events


# --------------------------------------------------------------------------- exercises vary
@pytest.mark.parametrize("area", problem_areas.AREAS)
def test_each_area_has_eight_exercises_and_none_repeats_within_eight_weeks(area):
    assert len(set(exercises.EXERCISES[area])) >= 8
    for start in range(16):
        window = [exercises.exercise_for(area, week) for week in range(start, start + 8)]
        assert len(set(window)) == 8, window
    for exercise in exercises.EXERCISES[area]:
        for n in (1, 2):
            assert exercises.prompt_response(exercise, n) in RESPONSES


@pytest.mark.parametrize("area, wanted", [
    ("role_dispute", {"dispute_decision", "dispute_communication"}),
    ("role_transition", {"transition_old_role", "transition_new_role"}),
    ("grief", {"grief_reconstruct"}),
    ("interpersonal_deficits", {"deficits_practice"}),
])
def test_the_techniques_the_manuals_name_are_there(area, wanted):
    assert wanted <= set(exercises.EXERCISES[area])


def test_eight_weekly_check_ins_ask_eight_different_exercises():
    journey = middle(0, focus="grief")
    prompts = []
    for _ in range(8):
        journey.begin("next")
        while journey.current_step() is not None:
            asked = journey.ask()[-1].response
            if "/ex_" in asked:
                prompts.append(asked)
            journey.answer("skip" if journey.current_step().optional else "no" if "phq9" in asked else "5")
    firsts = [p for p in prompts if p.endswith("_1")]
    assert len(firsts) == 8 and len(set(firsts)) == 8 and len(prompts) == 16
    assert journey.state.week == 8


# --------------------------------------------------------------------------- the ending
def ending(journey: Journey, *phq9_answers: str):
    journey.state.phase, journey.state.week = TERMINATION, 12
    journey.begin("next")
    offer = ("yes",) if phq9_answers else ("no",)
    return answer_all(journey, "talking to Jo", "not sleeping", "call my sister", *offer, *phq9_answers)


def test_the_ending_offers_the_phq9_and_shows_before_and_after_when_it_improved():
    journey = middle(12, first_phq9=15)
    journey.state.checkins.append(CheckinEntry(kind="weekly", week=4, mood=5, phq9_total=10, phq9=[1] * 9))
    asked, turn = ending(journey, *PHQ9_SIX)
    assert asked[3:] == ["phq9_offer", *phq9.ITEMS]
    assert journey.state.phase == COMPLETED and journey.state.checkins[-1].kind == "final"
    assert journey.state.checkins[-1].phq9_total == 6
    replies = {r.response: r for r in turn.replies}
    assert replies["utter_journey/phq9_change"].variables["phq9_change"] == "15 → 10 → 6"
    assert "End: ██████ 6" in replies["utter_journey/phq9_change"].variables["phq9_chart"]
    assert replies["utter_journey/ending_improved"].variables["change"] == "PHQ-9 15 → 6"
    assert "utter_journey/keep_going" in replies and "utter_journey/not_a_diagnosis" in replies
    assert "utter_journey/ending_not_improved" not in replies
    assert names(turn.replies)[-2:] == ["utter_journey/endings", "utter_journey/goodbye"]


def test_no_improvement_says_the_approach_did_not_work_not_the_person_and_gives_the_options():
    journey = middle(12, first_phq9=6)
    asked, turn = ending(journey, "1", "1", "1", "1", "1", "1", "1", "1", "0")  # 8: worse than 6
    said = names(turn.replies)
    assert "utter_journey/ending_not_improved" in said and "utter_journey/ending_options" in said
    assert "utter_journey/keep_going" not in said and "utter_journey/ending_improved" not in said
    change = next(r for r in turn.replies if r.response == "utter_journey/ending_not_improved").variables["change"]
    assert change == "PHQ-9 6 → 8"
    text = RESPONSES["utter_journey/ending_not_improved"][0]["text"]
    assert "did not work for you" in text and "not that you failed" in text
    options = RESPONSES["utter_journey/ending_options"][0]["text"]
    assert "doctor or therapist" in options and "another kind of therapy" in options and "medication" in options
    assert asked[:3] == ["ending_helped", "ending_signs", "ending_plan"]  # the ending steps are kept
    assert journey.state.ending == {"ending_helped": "talking to Jo", "ending_signs": "not sleeping",
                                    "ending_plan": "call my sister"}


def test_a_fall_of_less_than_five_points_is_not_called_an_improvement():
    journey = middle(12, first_phq9=16)
    asked, turn = ending(journey, "2", "2", "1", "2", "1", "2", "1", "1", "0")  # 12
    assert "utter_journey/ending_not_improved" in names(turn.replies)


@pytest.mark.parametrize("moods, result", [((4, 3), "not_improved"), ((4, 4), "not_improved"),
                                           ((5, 7), "improved"), ((3, 8), "improved")])
def test_without_the_phq9_the_mood_decides(moods, result):
    journey = middle(12, first_phq9=None, first_mood=4)
    for week, mood in enumerate(moods, 1):
        journey.state.checkins.append(CheckinEntry(kind="weekly", week=week, mood=mood))
    asked, turn = ending(journey)  # the PHQ-9 declined at the end
    said = names(turn.replies)
    assert ("utter_journey/ending_improved" in said) == (result == "improved")
    assert ("utter_journey/ending_not_improved" in said) == (result == "not_improved")
    assert not any(c.kind == "final" for c in journey.state.checkins)


def test_with_nothing_to_compare_the_ending_is_as_before():
    journey = middle(12, first_phq9=None, first_mood=None)
    asked, turn = ending(journey)
    assert names(turn.replies) == ["utter_journey/ending_saved", "utter_journey/keep_going", "utter_journey/endings",
                                   "utter_journey/goodbye"]


def test_declining_an_early_ending_asks_no_phq9():
    journey = middle(3, first_phq9=12)
    journey.begin("ending")
    asked, turn = answer_all(journey, "no")
    assert turn.finished and asked == ["ending_confirm"] and journey.state.phase == MIDDLE
