"""The journey's plain-Python core: answers, PHQ-9 scoring, problem-area scores, the engine's steps."""
import pytest

from bot.journey import answers, phq9, problem_areas
from bot.journey.circle import describe, render_svg
from bot.journey.engine import MAX_RETRIES, Journey
from bot.journey.inventory import MAX_PEOPLE
from bot.journey.state import COMPLETED, MIDDLE, TERMINATION, JourneyState, PersonEntry


def names(replies):
    return [r.response for r in replies]


def run(journey: Journey, *texts: str):
    """Answer each text in turn; returns the replies of the last answer."""
    turn = None
    for text in texts:
        assert journey.current_step() is not None, f"nothing asked before {text!r}"
        journey.ask()
        turn = journey.answer(text)
    return turn


# --------------------------------------------------------------------------- answers
@pytest.mark.parametrize("text, value", [("7", 7), ("7/10", 7), ("about 6.5", 7), ("seven", 7), ("0", 0),
                                         ("10 out of 10", 10), ("I'd say 3", 3)])
def test_numbers_are_read_leniently(text, value):
    assert answers.parse_number(text) == value


@pytest.mark.parametrize("text", ["11", "-", "lots", "", "😀", "five or six"])
def test_numbers_out_of_range_or_missing_are_unclear(text):
    with pytest.raises(answers.Unclear) as unclear:
        answers.parse_number(text)
    assert unclear.value.kind == "number"


@pytest.mark.parametrize("text, intent, value", [("yes", None, True), ("Yeah!", None, True), ("nope", None, False),
                                                 ("👍", None, True), ("I guess", "affirm", True),
                                                 ("not really", None, False)])
def test_yes_and_no(text, intent, value):
    assert answers.parse_yes_no(text, intent) is value


def test_long_names_are_trimmed_and_lead_ins_removed():
    assert answers.clean_name("my name is Jo") == "Jo"
    assert len(answers.clean_name("A" * 300)) == answers.MAX_NAME
    assert answers.clean_name("Mia 🌸") == "Mia 🌸"


def test_free_text_keeps_emoji_and_markup_but_not_empty_answers():
    assert answers.clean_text("💔") == "💔"
    assert answers.clean_text("<b>we argue</b>") == "<b>we argue</b>"  # escaped where shown, kept as said
    assert answers.clean_text("x" * 2000).endswith("…")
    for empty in ("", "   ", "...", "/affirm"):
        with pytest.raises(answers.Unclear):
            answers.clean_text(empty)


# --------------------------------------------------------------------------- PHQ-9
@pytest.mark.parametrize("text, value", [("0", 0), ("Not at all", 0), ("several days", 1), ("most days", 2),
                                         ("More than half the days", 2), ("nearly every day", 3), ("3", 3)])
def test_phq9_answers(text, value):
    assert phq9.parse_answer(text) == value


@pytest.mark.parametrize("score, band", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                                         (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"),
                                         (20, "severe"), (27, "severe")])
def test_phq9_bands_follow_the_published_cut_offs(score, band):
    assert phq9.band(score) == band


def test_a_partial_phq9_has_no_total():
    assert phq9.total([1] * 9) == 9
    assert phq9.total([1] * 8 + [None]) is None


# --------------------------------------------------------------------------- problem areas
def test_scores_come_with_reasons_from_the_screening_and_the_inventory():
    people = [PersonEntry("Dana", "partner", "inner", hard="we argue about money", supported="no"),
              PersonEntry("Grandad", "late grandfather", "middle", hard="I miss him")]
    scores = problem_areas.score({"screen_dispute": True, "screen_loss": False}, people)
    assert scores[0].area == problem_areas.DISPUTE and scores[0].score == 3
    assert any("Dana" in reason for reason in scores[0].reasons)
    grief = next(s for s in scores if s.area == problem_areas.GRIEF)
    assert grief.score == 1 and "Grandad" in grief.reasons[0]
    assert "Role dispute: 3" in problem_areas.summary(scores)


def test_isolation_scores_when_nobody_is_close_or_supportive():
    people = [PersonEntry("Ann", closeness="outer", supported="no")]
    top = problem_areas.score({"screen_isolation": True}, people)[0]
    assert top.area == problem_areas.DEFICITS and top.score == 4


# --------------------------------------------------------------------------- the engine
def test_the_check_in_asks_the_phq9_only_when_wanted_and_explains_the_band():
    journey = Journey(JourneyState("p"))
    assert "utter_journey/phase_initial" in names(journey.begin("next"))
    assert names(journey.ask()) == ["utter_journey/ask_name"]
    turn = run(journey, "Alex", "6", "skip", "yes", "1", "1", "2", "1", "0", "1", "2", "1", "0")
    assert turn.finished
    assert names(turn.replies)[:4] == ["utter_journey/mood_noted", "utter_journey/phq9_result",
                                       "utter_journey/phq9_band_mild", "utter_journey/not_a_diagnosis"]
    assert "utter_journey/sick_role_if" in names(turn.replies)  # a PHQ-9 under 10: the sick role as an "if"
    assert "utter_journey/sick_role" not in names(turn.replies)
    [checkin] = journey.state.checkins
    assert (checkin.mood, checkin.phq9_total, journey.state.display_name) == (6, 9, "Alex")
    assert names(journey.next_offer()) == ["utter_journey/offer_inventory"]


def test_declining_the_phq9_skips_its_items():
    journey = Journey(JourneyState("p", display_name="Jo"))
    journey.begin("next")
    assert names(journey.ask()) == ["utter_journey/ask_mood"]  # the name is known already
    turn = run(journey, "4", "skip", "no")  # when the low mood began is optional
    assert turn.finished and journey.state.checkins[0].phq9 is None


def test_unclear_answers_are_asked_again_with_an_example_twice_then_skipped():
    journey = Journey(JourneyState("p", display_name="Jo"))
    journey.begin("next")
    journey.ask()
    first = journey.answer("banana")
    assert names(first.replies) == ["utter_journey/retry_number"]
    second = journey.answer("eleven-ish")
    assert names(second.replies) == ["utter_journey/retry_number", "utter_journey/can_skip"]
    assert journey.state.retries == MAX_RETRIES
    skipped = journey.answer("skip")
    assert names(skipped.replies) == ["utter_journey/skipped"]
    assert journey.current_step().key == "mood_onset"  # no mood given: when it began is still asked


def test_a_third_unclear_answer_moves_on_by_itself():
    journey = Journey(JourneyState("p", display_name="Jo"))
    journey.begin("next")
    for text in ("x", "y"):
        journey.answer(text)
    third = journey.answer("z")
    assert names(third.replies)[0] == "utter_journey/skipped_unclear"
    assert journey.current_step().key == "mood_onset"


def test_optional_questions_can_be_skipped_at_once():
    journey = Journey(JourneyState("p"))
    journey.begin("next")
    turn = journey.answer("skip")  # the name
    assert names(turn.replies) == ["utter_journey/skipped"]
    assert journey.current_step().key == "mood"


def add_person(journey: Journey, name: str, closeness: str = "inner", hard: str = "skip", more: str = "yes"):
    return run(journey, name, "friend", closeness, "every week", "we laugh", hard, "skip", "skip", "yes", more)


def test_the_inventory_adds_people_suggests_three_and_shows_them_back():
    journey = Journey(JourneyState("p", done=["checkin"]))
    journey.begin("next")
    assert names(journey.ask()) == ["utter_journey/ask_person_name_first"]
    add_person(journey, "Sam")
    journey.ask()
    assert names(journey.ask()) == ["utter_journey/ask_person_name"]
    turn = add_person(journey, "<b>Lee</b>", "outer", hard="we argue", more="no")
    assert turn.finished
    assert [p.name for p in journey.state.people] == ["Sam", "<b>Lee</b>"]
    assert journey.state.people[1].hard == "we argue" and journey.state.people[0].supported == "yes"
    assert names(turn.replies) == ["utter_journey/people"]  # no image URL configured in this test
    assert "Inner circle: Sam." in describe(journey.state.people)


def test_the_more_question_suggests_three_people_until_there_are_three():
    journey = Journey(JourneyState("p", done=["checkin"]))
    journey.begin("inventory")
    run(journey, "A", "friend", "inner", "daily", "skip", "skip", "skip", "skip", "yes")
    assert names(journey.ask()) == ["utter_journey/ask_inventory_more_suggest"]


def test_skipping_a_name_drops_that_person():
    journey = Journey(JourneyState("p", people=[PersonEntry("Sam", closeness="inner")]))
    journey.begin("inventory")
    journey.ask()
    turn = journey.answer("skip")
    assert names(turn.replies) == ["utter_journey/skipped"]
    assert journey.current_step().key == "inventory_more" and len(journey.state.people) == 1


def test_the_inventory_stops_at_twenty_people():
    state = JourneyState("p", people=[PersonEntry(f"P{i}", closeness="outer") for i in range(MAX_PEOPLE)])
    journey = Journey(state)
    assert names(journey.begin("inventory")) == ["utter_journey/inventory_full"]
    assert not journey.pending


def test_screening_scores_the_areas_the_person_chooses_and_a_dispute_gets_its_stage():
    state = JourneyState("p", done=["checkin", "inventory"],
                         people=[PersonEntry("Dana", "partner", "inner", hard="we fight a lot", supported="no")])
    journey = Journey(state)
    journey.begin("next")
    run(journey, "no", "yes", "no", "no")
    asked = journey.ask()
    assert names(asked) == ["utter_journey/scores", "utter_journey/ask_focus"]
    assert asked[1].buttons[0]["title"] == "Role dispute"
    assert "Role dispute: 3" in asked[0].variables["scores"]
    turn = run(journey, "role dispute", "none", "we're stuck")
    assert turn.finished
    assert (state.focus, state.second_focus, state.dispute_stage) == ("role_dispute", None, "impasse")
    assert names(turn.replies) == ["utter_journey/focus_chosen", "utter_journey/area_role_dispute",
                                   "utter_journey/stage_impasse"]


def test_not_sure_suggests_the_area_that_scored_highest_and_the_person_confirms_it():
    state = JourneyState("p", done=["checkin", "inventory"])
    journey = Journey(state)
    journey.begin("next")
    run(journey, "yes", "no", "no", "no", "not sure")
    assert names(journey.ask()) == ["utter_journey/focus_suggest", "utter_journey/ask_focus_confirm"]
    run(journey, "yes", "no thanks")
    assert state.focus == "grief" and "screening" in state.done


def test_another_area_named_at_the_suggestion_is_taken():
    state = JourneyState("p", done=["checkin", "inventory"])
    journey = Journey(state)
    journey.begin("next")
    run(journey, "yes", "no", "no", "no", "not sure", "no the change one", "no thanks")
    assert state.focus == "role_transition"


def test_not_sure_with_the_suggestion_declined_lets_the_person_pick():
    state = JourneyState("p", done=["checkin", "inventory"])
    journey = Journey(state)
    journey.begin("next")
    run(journey, "yes", "no", "no", "no", "not sure", "no")
    assert names(journey.ask()) == ["utter_journey/areas_explained", "utter_journey/ask_focus_pick"]
    run(journey, "loneliness", "no thanks")
    assert state.focus == "interpersonal_deficits"


@pytest.mark.parametrize("screening", [("yes", "yes", "no", "no"), ("no", "no", "no", "no")],
                         ids=["a 2-2 tie", "all scores zero"])
def test_a_tie_or_nothing_scored_is_talked_through_never_picked_silently(screening):
    state = JourneyState("p", done=["checkin", "inventory"])
    journey = Journey(state)
    journey.begin("next")
    run(journey, *screening, "i'm not sure")
    assert names(journey.ask()) == ["utter_journey/areas_explained", "utter_journey/ask_focus_pick"]
    run(journey, "role dispute", "none", "still talking")
    assert state.focus == "role_dispute" and state.dispute_stage == "renegotiation"


def test_no_focus_is_made_up_when_the_person_does_not_choose():
    state = JourneyState("p", done=["checkin", "inventory"])
    journey = Journey(state)
    journey.begin("next")
    turn = run(journey, "no", "no", "no", "no", "not sure", "banana", "banana", "banana")
    assert state.focus is None and "screening" not in state.done
    assert "utter_journey/focus_not_chosen" in names(turn.replies)
    assert journey.next_activity() == "screening"


def test_the_formulation_saves_goals_and_opens_the_middle_phase():
    state = JourneyState("p", done=["checkin", "inventory", "screening"], focus="grief")
    journey = Journey(state)
    journey.begin("next")
    asked = journey.ask()
    assert names(asked) == ["utter_journey/formulation", "utter_journey/formulation_area",
                            "utter_journey/formulation_work", "utter_journey/ask_formulation_fit"]
    assert "grief" in asked[0].variables["formulation"]
    state.people = [PersonEntry("Dad", "late father", "inner", hard="I miss him")]
    assert "grief for Dad." in journey.formulation_text()
    assert names(run(journey, "no", "it's more about my mum", "visit the grave with my sister").replies) == []
    turn = run(journey, "call my friend Jo", "skip")
    assert turn.finished and state.phase == MIDDLE
    assert state.goals == ["visit the grave with my sister", "call my friend Jo"]
    assert "my mum" in state.formulation
    assert "utter_journey/phase_middle" in names(turn.replies)


def test_weekly_check_ins_rotate_exercises_ask_about_the_last_step_and_lead_to_the_ending():
    state = JourneyState("p", phase=MIDDLE, focus="role_dispute", weeks_planned=12, week=10,
                         done=["checkin", "inventory", "screening", "formulation"])
    journey = Journey(state)
    journey.begin("next")
    journey.ask()
    assert names(journey.ask()) == ["utter_journey/ask_week_mood"]
    exercise_prompts = []
    for text in ("5", "we talked", "better after", "a", "b"):
        exercise_prompts.append(journey.ask()[-1].response)
        journey.answer(text)
    assert exercise_prompts[3:] == ["utter_journey/ex_dispute_decision_1",
                                    "utter_journey/ex_dispute_decision_2"]  # week 11: the 3rd of 8
    run(journey, "ask for ten minutes to talk")  # week 11 carries the second part of the ending
    turn = run(journey, "not sleeping", "the role-plays", "call my sister")
    assert turn.finished and state.week == 11 and state.ending["ending_plan"] == "call my sister"
    journey.begin("next")
    assert names(journey.ask()) == ["utter_journey/ask_review_step"]
    assert journey.ask()[0].variables["last_step"] == "ask for ten minutes to talk"
    turn = run(journey, "it went ok", "7", "skip", "skip", "no")  # the last week: no exercise, no PHQ-9 wanted
    assert turn.finished and state.week == 12 and state.phase == COMPLETED
    assert "utter_journey/mood_up" in names(turn.replies)
    assert "utter_journey/keep_going" in names(turn.replies)
    assert names(turn.replies)[-1] == "utter_journey/goodbye" and journey.next_activity() is None


def test_ending_early_gives_the_last_phase_its_introduction():
    state = JourneyState("p", phase=MIDDLE, focus="grief", week=3, goals=["walk with Jo"])
    journey = Journey(state)
    journey.begin("ending")
    run(journey, "yes")
    assert names(journey.ask()) == ["utter_journey/phase_termination", "utter_journey/review",
                                    "utter_journey/ask_ending_helped"]
    run(journey, "the walks", "skip", "skip", "no")
    assert state.phase == COMPLETED and TERMINATION in state.phase_dates


def test_ending_early_asks_first_and_no_keeps_the_plan():
    state = JourneyState("p", phase=MIDDLE, focus="grief", week=3)
    journey = Journey(state)
    journey.begin("ending")
    turn = run(journey, "no")
    assert turn.finished and state.phase == MIDDLE
    assert names(turn.replies) == ["utter_journey/ending_not_now"]


def test_editing_a_person_in_the_middle_of_the_inventory_returns_to_it():
    state = JourneyState("p", people=[PersonEntry("Sam", closeness="outer")])
    journey = Journey(state)
    journey.begin("inventory")
    run(journey, "Kim", "coworker")
    journey.begin("edit_person")
    assert journey.ask()[0].buttons == [{"title": "Sam", "payload": "Sam"}]
    turn = run(journey, "sam", "how close", "very close")
    assert state.people[0].closeness == "inner"
    assert names(turn.replies) == ["utter_journey/person_updated", "utter_journey/back_to"]
    assert not turn.finished and journey.current_step().key == "person_closeness"
    assert state.draft["person_name"] == "Kim"


def test_removing_a_person_asks_to_confirm():
    state = JourneyState("p", people=[PersonEntry("Sam", id=4), PersonEntry("Kim")])
    journey = Journey(state)
    journey.begin("remove_person")
    turn = run(journey, "Sam", "yes")
    assert [p.name for p in state.people] == ["Kim"] and state.removed_people == [4]
    assert turn.finished


def test_start_over_clears_the_journey_after_confirming():
    state = JourneyState("p", display_name="Jo", phase=MIDDLE, focus="grief", goals=["x"],
                         people=[PersonEntry("Sam", id=1)], done=["checkin"])
    journey = Journey(state)
    journey.begin("start_over")
    run(journey, "yes")
    assert (journey.state.phase, journey.state.focus, journey.state.people, journey.state.display_name) == (
        "initial", None, [], "Jo")
    assert journey.state.removed_people == [1] and journey.state.clear_checkins


def test_welcome_back_names_the_person_and_where_they_were():
    state = JourneyState("p", display_name="Jo", activity="inventory", done=["checkin"])
    replies = Journey(state).welcome()
    assert replies[0].response == "utter_journey/welcome_back_named"
    assert replies[0].variables["name"] == "Jo" and "inventory" in replies[0].variables["where"]
    assert Journey(JourneyState("new")).welcome() == []


def test_the_circle_picture_escapes_names_and_describes_itself():
    svg = render_svg([PersonEntry("<script>x</script>", closeness="inner"), PersonEntry("Bo", closeness="outer")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<title" in svg and "Outer circle: Bo." in svg


def test_a_detour_from_a_detour_still_returns_to_the_first_activity():
    state = JourneyState("p", people=[PersonEntry("Sam"), PersonEntry("Kim")])
    journey = Journey(state)
    journey.begin("inventory")
    run(journey, "Lou")
    journey.begin("edit_person")
    run(journey, "Sam")
    journey.begin("remove_person")
    turn = run(journey, "Kim", "yes")
    assert names(turn.replies) == ["utter_journey/person_removed", "utter_journey/back_to"]
    assert state.activity == "inventory" and state.draft == {"person_name": "Lou"}


def test_an_answer_with_no_activity_open_ends_the_form_quietly():
    """Rasa's form can outlive the activity (it ended in the turn before): no crash, the form ends."""
    journey = Journey(JourneyState("p", done=["checkin"]))
    turn = journey.answer("yes")
    assert turn.finished and turn.replies == []
