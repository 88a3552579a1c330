"""The ending over the last three weekly check-ins (issue 13, item 4): week N-2 names the end and asks about
each goal in the person's words, week N-1 warning signs, what helped and a plan, week N the scores before
and after, an honest outcome (the approach did not work for you, not you, with the options) and the goodbye.
The engine is driven without Rasa, as a person would answer."""
import pytest

from bot.journey import phq9, steps
from bot.journey.engine import Journey
from bot.journey.state import COMPLETED, MIDDLE, TERMINATION, CheckinEntry, JourneyState, PersonEntry
from tests.unit.test_journey_content import RESPONSES

GOALS = ["talk calmly with Sam", "see Jo once a week", "sleep before midnight"]
PHQ9_SIX = ["1", "1", "1", "1", "0", "1", "1", "0", "0"]  # total 6
PHQ9_ELEVEN = ["2", "1", "1", "2", "1", "2", "1", "1", "0"]  # total 11


def person(weeks_done=9, goals=GOALS, first_phq9=15, first_mood=4, people=None, weeks_planned=12) -> Journey:
    state = JourneyState("p", phase=MIDDLE, focus="role_dispute", week=weeks_done, weeks_planned=weeks_planned,
                         goals=list(goals), done=["checkin", "inventory", "screening", "formulation"],
                         people=people if people is not None else [
                             PersonEntry("Sam", relationship="partner"), PersonEntry("Jo", relationship="friend"),
                             PersonEntry("Frank", relationship="father", deceased=True)])
    state.checkins.append(CheckinEntry(kind="initial", mood=first_mood, phq9_total=first_phq9,
                                       phq9=[1] * 9 if first_phq9 is not None else None))
    return Journey(state)


def check_in(journey: Journey, mood="6", phq9_answers=None, **answers):
    """One weekly check-in: every question asked is answered (the step's answer in `answers`, else a short
    text). Returns the asked steps, every message sent (response, variables) and the last turn."""
    assert journey.begin("next") == [] and journey.state.activity == "weekly"
    asked, sent, turn, items = [], [], None, list(phq9_answers or [])
    while journey.current_step() is not None:
        for reply in journey.ask():
            sent.append((reply.response, reply.variables))
        key = journey.state.step
        asked.append(key)
        if key == "week_mood":
            text = mood
        elif key == "phq9_offer":
            text = "yes" if items else "no"
        elif key in phq9.ITEMS:
            text = items.pop(0)
        else:
            text = answers.get(key, f"answer to {key}")
        turn = journey.answer(text)
        sent += [(reply.response, reply.variables) for reply in turn.replies]
    assert turn.finished
    return asked, sent, turn


def said(sent) -> list[str]:
    """The response names of (response, variables) pairs or of a turn's replies."""
    return [item.response if hasattr(item, "response") else item[0] for item in sent]


def variables_of(sent, name) -> dict:
    return next(variables for response, variables in sent if response == name)


# --------------------------------------------------------------------------- which week carries which part
@pytest.mark.parametrize("weeks_planned, weeks_done, part", [
    (12, 8, 0), (12, 9, 1), (12, 10, 2), (12, 11, 3), (16, 12, 0), (16, 13, 1), (16, 15, 3), (12, 12, 0)])
def test_the_last_three_check_ins_of_the_plan_carry_the_ending(weeks_planned, weeks_done, part):
    state = JourneyState("p", phase=MIDDLE, week=weeks_done, weeks_planned=weeks_planned)
    assert steps.ending_part(state) == part


def test_week_9_is_an_ordinary_check_in():
    journey = person(weeks_done=8)
    asked, sent, _ = check_in(journey)
    assert not any(key.startswith(("ending_", "goal_progress")) for key in asked)
    assert "utter_journey/phase_termination" not in said(sent) and journey.state.phase == MIDDLE


# --------------------------------------------------------------------------- week N-2
def test_week_10_names_the_end_and_asks_about_each_goal_in_its_own_words():
    journey = person(weeks_done=9)
    asked, sent, turn = check_in(journey, ending_feelings="a bit sad, honestly", goal_progress_1="much better",
                                 goal_progress_2="not yet", goal_progress_3="skip")
    assert asked[-4:] == ["ending_feelings", "goal_progress_1", "goal_progress_2", "goal_progress_3"]
    assert "exercise_1" in asked and "between_step" in asked  # the usual check-in comes first
    names = said(sent)
    coming = names.index("utter_journey/ending_coming")
    assert names[coming - 1] == "utter_journey/phase_termination"
    assert names[coming + 1] == "utter_journey/ask_ending_feelings"
    assert variables_of(sent, "utter_journey/ending_coming")["weeks_after"] == 2  # weeks 11 and 12
    assert "2 more check-ins" in RESPONSES["utter_journey/ending_coming"][0]["text"].format(weeks_after=2)
    assert names[names.index("utter_journey/ask_goal_progress") - 1] == "utter_journey/goal_progress_intro"
    quoted = [variables["goal"] for name, variables in sent if name == "utter_journey/ask_goal_progress"]
    assert quoted == GOALS
    assert "{goal}" in RESPONSES["utter_journey/ask_goal_progress"][0]["text"]
    state = journey.state
    assert state.week == 10 and state.phase == TERMINATION and TERMINATION in state.phase_dates
    assert state.ending["ending_feelings"] == "a bit sad, honestly"
    assert state.ending["goal_progress"] == [{"goal": GOALS[0], "progress": "much better"},
                                             {"goal": GOALS[1], "progress": "not yet"},
                                             {"goal": GOALS[2], "progress": None}]
    assert said(turn.replies)[-1] == "utter_journey/goal_progress_saved"
    assert journey.next_activity() == "weekly"  # the ending goes on at the next check-in


def test_only_the_goals_the_person_set_are_asked_about():
    journey = person(weeks_done=9, goals=["call my brother"])
    asked, sent, _ = check_in(journey)
    assert [key for key in asked if key.startswith("goal_progress")] == ["goal_progress_1"]
    assert variables_of(sent, "utter_journey/ask_goal_progress")["goal"] == "call my brother"


# --------------------------------------------------------------------------- week N-1
def test_week_11_asks_warning_signs_what_helped_and_a_plan_with_the_living_people():
    journey = person(weeks_done=10)
    journey.state.phase = TERMINATION
    asked, sent, turn = check_in(journey, ending_signs="staying in bed", ending_helped="saying how I feel",
                                 ending_plan="call Jo")
    assert asked[-3:] == ["ending_signs", "ending_helped", "ending_plan"]
    assert "phq9_offer" not in asked and "goal_progress_1" not in asked
    names = said(sent)
    assert names[names.index("utter_journey/ask_ending_signs") - 1] == "utter_journey/ending_signs_intro"
    assert "utter_journey/ask_ending_helped_weeks" in names
    plan = variables_of(sent, "utter_journey/ask_ending_plan_people")
    assert plan["names"] == "Sam, Jo"  # Frank has died: not someone to turn to this week
    assert journey.state.ending == {"ending_signs": "staying in bed", "ending_helped": "saying how I feel",
                                    "ending_plan": "call Jo"}
    assert said(turn.replies)[-2:] == ["utter_journey/ending_saved", "utter_journey/ending_last_next"]
    assert journey.state.phase == TERMINATION and journey.next_activity() == "weekly"


def test_with_nobody_named_the_plan_question_names_no_one():
    journey = person(weeks_done=10, people=[])
    asked, sent, _ = check_in(journey, ending_signs="skip", ending_plan="skip")
    assert "utter_journey/ask_ending_plan" in said(sent)
    assert "utter_journey/ask_ending_plan_people" not in said(sent)
    assert "utter_journey/ending_saved" not in said(sent)  # nothing to read back


# --------------------------------------------------------------------------- week N
def test_week_12_improved_shows_before_and_after_and_says_goodbye():
    journey = person(weeks_done=11, first_phq9=15, first_mood=4)
    asked, sent, turn = check_in(journey, mood="7", phq9_answers=PHQ9_SIX)
    assert "exercise_1" not in asked and "between_step" not in asked  # no "before next time" at the end
    assert asked[-10:] == ["phq9_offer", *phq9.ITEMS]  # item 9 keeps its key: the crisis rules apply
    names = said(turn.replies)
    assert "utter_journey/phq9_change" in names
    before_after = variables_of(sent, "utter_journey/ending_before_after")
    assert before_after["before"] == "mood 4 out of 10, PHQ-9 15 (moderately severe range)"
    assert before_after["after"] == "mood 7 out of 10, PHQ-9 6 (mild range)"
    assert variables_of(sent, "utter_journey/ending_improved")["change"] == "PHQ-9 15 → 6"
    assert "utter_journey/ending_not_improved" not in names and "utter_journey/ending_options" not in names
    assert names[-3:] == ["utter_journey/keep_going", "utter_journey/endings", "utter_journey/goodbye"]
    state = journey.state
    assert state.week == 12 and state.phase == COMPLETED and "ending" in state.done
    assert journey.next_activity() is None


def test_week_12_not_improved_says_the_approach_did_not_work_for_them_not_them_and_gives_the_options():
    journey = person(weeks_done=11, first_phq9=14, first_mood=4)
    asked, sent, turn = check_in(journey, mood="4", phq9_answers=PHQ9_ELEVEN)  # 14 → 11: 3 points, still 10+
    names = said(turn.replies)
    assert variables_of(sent, "utter_journey/ending_not_improved")["change"] == "PHQ-9 14 → 11"
    assert names.index("utter_journey/ending_before_after") < names.index("utter_journey/ending_not_improved")
    assert names.index("utter_journey/ending_not_improved") + 1 == names.index("utter_journey/ending_options")
    assert "utter_journey/ending_improved" not in names and "utter_journey/keep_going" not in names
    assert names[-1] == "utter_journey/goodbye" and journey.state.phase == COMPLETED
    not_improved = RESPONSES["utter_journey/ending_not_improved"][0]["text"]
    assert "did not work for you" in not_improved and "not that you failed" in not_improved
    options = RESPONSES["utter_journey/ending_options"][0]["text"]
    assert "doctor or therapist" in options and "another kind of therapy" in options and "medication" in options


def test_without_the_phq9_at_the_end_the_mood_decides_and_the_before_after_shows_the_mood():
    journey = person(weeks_done=11, first_phq9=None, first_mood=5)
    asked, sent, turn = check_in(journey, mood="4")  # the PHQ-9 declined
    assert "phq9_offer" in asked and "phq9_1" not in asked
    before_after = variables_of(sent, "utter_journey/ending_before_after")
    assert (before_after["before"], before_after["after"]) == ("mood 5 out of 10", "mood 4 out of 10")
    assert "utter_journey/ending_not_improved" in said(turn.replies)


def test_a_person_walks_weeks_10_to_12_and_every_part_comes_once_in_its_week():
    journey = person(weeks_done=9)
    parts = {"ending_feelings": [], "goal_progress_1": [], "ending_signs": [], "phq9_offer": []}
    for week, phq in ((10, None), (11, None), (12, PHQ9_SIX)):
        asked, _, _ = check_in(journey, mood="7", phq9_answers=phq)
        for key in parts:
            if key in asked:
                parts[key].append(week)
    assert parts == {"ending_feelings": [10], "goal_progress_1": [10], "ending_signs": [11], "phq9_offer": [12]}
    assert journey.state.phase == COMPLETED and set(journey.state.ending) >= {
        "ending_feelings", "goal_progress", "ending_signs", "ending_helped", "ending_plan"}


# --------------------------------------------------------------------------- ending early, and the rule
def test_ending_early_in_the_last_weeks_still_asks_first_and_runs_at_once():
    journey = person(weeks_done=10)
    journey.state.phase = TERMINATION
    journey.begin("ending")
    assert journey.state.draft.get("early") is True
    journey.ask()
    assert journey.state.step == "ending_confirm"


@pytest.mark.parametrize("first, now, better", [
    (15, 10, True),   # 5 points lower
    (12, 9, True),    # from 10 or more to below 10
    (14, 11, False),  # 3 points lower and still 10 or more
    (6, 8, False),    # worse
    (8, 8, False),    # the same, above the minimal range
    (3, 3, True),     # minimal and no worse
    (20, 16, False),
])
def test_what_counts_as_improvement(first, now, better):
    assert phq9.improved(first, now) is better
