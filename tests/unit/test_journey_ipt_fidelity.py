"""IPT fidelity of the initial phase (issue 13, item 3): a person who has died is recorded so, when the low
mood began and what happened with people then, what each expects of the other, a formulation that names
the people, the area, the stage and the mood-events link, and "self-help based on IPT" in what the
assistant says about itself. The real engine and store; nothing of ours is mocked."""
import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.content.readability import fk_grade, sentence_count
from bot.journey import formulation, problem_areas
from bot.journey.circle import describe, render_svg
from bot.journey.engine import Journey
from bot.journey.inventory import people_text, says_died, without_death
from bot.journey.state import MIDDLE, CheckinEntry, JourneyState, PersonEntry
from bot.store.journey_repository import JourneyStore


def names(replies):
    return [r.response for r in replies]


def asked_key(journey: Journey) -> str:
    return journey.ask()[-1].response


def inventory(people=()) -> Journey:
    journey = Journey(JourneyState("p", done=["checkin"], people=list(people)))
    journey.begin("inventory")
    return journey


# --------------------------------------------------------------------------- a person who has died
@pytest.mark.parametrize("answer, name, relation", [
    ("my wife. she died in 2019", "your wife", "wife"),
    ("my late husband", "your husband", "husband"),
    ("dad, he passed last year", "dad", None),
    ("my mum (passed)", "your mum", "mum"),
    ("Frank who died in March", "Frank", None),
])
def test_a_name_answer_that_says_the_person_died_marks_them_and_the_questions_fit_a_loss(answer, name, relation):
    journey = inventory()
    journey.ask()
    turn = journey.answer(answer)
    assert names(turn.replies) == ["utter_journey/person_died_noted"]
    assert journey.state.draft["person_name"] == name and journey.state.draft["person_deceased"] is True
    if relation:
        assert journey.state.draft["person_relationship"] == relation
    else:
        journey.ask()
        journey.answer("my father")
    asked = []
    for text in ("very close", "his jokes", "we argued about his drinking", "the quiet evenings"):
        asked.append(asked_key(journey))
        turn = journey.answer(text)
    assert asked == ["utter_journey/ask_person_closeness_deceased", "utter_journey/ask_person_miss",
                     "utter_journey/ask_person_hard_deceased", "utter_journey/ask_person_hardest_now"]
    assert names(turn.replies) == ["utter_journey/person_added"]  # no contact, expectations or support asked
    [person] = journey.state.people
    assert person.deceased and person.name == name
    assert (person.good, person.hard, person.change) == ("his jokes", "we argued about his drinking",
                                                         "the quiet evenings")
    assert person.contact is None and person.supported is None and person.expectations is None
    assert journey.current_step().key == "inventory_more"


def test_a_relationship_answer_that_says_the_person_died_marks_them_too():
    journey = inventory()
    for text in ("Frank", "my husband, he died in march"):
        journey.ask()
        turn = journey.answer(text)
    assert names(turn.replies) == ["utter_journey/person_died_noted"]
    assert journey.state.draft["person_relationship"] == "my husband"
    assert asked_key(journey) == "utter_journey/ask_person_closeness_deceased"


def test_a_living_person_gets_contact_expectations_and_support_questions():
    journey = inventory()
    asked = []
    for text in ("Dana", "partner", "inner", "every day", "we laugh", "we fight about money", "more calm",
                 "I expect help at home, she expects me to earn more. It isn't working", "sometimes"):
        asked.append(asked_key(journey))
        turn = journey.answer(text)
    assert "utter_journey/ask_person_contact" in asked and "utter_journey/ask_person_expectations" in asked
    assert "utter_journey/ask_person_miss" not in asked
    assert names(turn.replies) == ["utter_journey/person_added"]
    [dana] = journey.state.people
    assert not dana.deceased and dana.expectations.startswith("I expect help at home")
    assert dana.supported == "sometimes"


@pytest.mark.parametrize("text", ["Sam", "my mom", "she passed her exam", "lost my job", "the late shift guy",
                                  "Jo, my sister", "my boss, he's dead set on firing me"])
def test_ordinary_answers_do_not_say_anyone_died(text):
    assert not says_died(text)
    assert without_death(text) == text


def test_a_person_who_died_is_not_among_this_weeks_people():
    state = JourneyState("p", phase=MIDDLE, focus="grief", done=["checkin", "inventory", "screening", "formulation"],
                         people=[PersonEntry("Frank", "husband", "inner", deceased=True),
                                 PersonEntry("Jo", "daughter", "inner")])
    journey = Journey(state)
    journey.begin("next")
    asked = journey.ask()
    while asked[-1].response != "utter_journey/ask_week_events":
        journey.answer("5")
        asked = journey.ask()
    assert asked[-1].variables["names"] == "Jo"
    assert Journey(JourneyState("q", people=[PersonEntry("Frank", deceased=True)])).variables()["names"] == (
        "the people in your life")


def test_the_circle_draws_a_person_who_died_apart_and_says_so():
    people = [PersonEntry("Frank", "husband", "inner", deceased=True), PersonEntry("Jo", "daughter", "inner")]
    svg = render_svg(people)
    assert "Remembered" in svg and 'stroke-dasharray' in svg and 'height="550"' in svg
    assert describe(people) == "Inner circle: Jo. Remembered, who have died: Frank."
    plain = render_svg([PersonEntry("Jo", closeness="inner")])
    assert "Remembered" not in plain and 'height="480"' in plain
    listed = people_text(people)
    assert listed.splitlines()[-1] == "• Frank (husband) · died · inner circle"
    assert "supportive" not in listed.splitlines()[-1]


def test_a_person_can_be_marked_as_died_later_by_changing_their_details():
    state = JourneyState("p", people=[PersonEntry("Nan", closeness="middle", contact="rarely")])
    journey = Journey(state)
    journey.begin("edit_person")
    for text in ("Nan", "They have died", "Yes, they have died"):
        journey.ask()
        turn = journey.answer(text)
    assert state.people[0].deceased is True
    assert names(turn.replies) == ["utter_journey/person_updated"]
    assert "died" in people_text(state.people)


# --------------------------------------------------------------------------- grief is for a death only
def area(scores, key):
    return next(s for s in scores if s.area == key)


def test_a_death_in_the_inventory_counts_toward_grief():
    scores = problem_areas.score({}, [PersonEntry("Frank", "husband", "inner", deceased=True),
                                      PersonEntry("Jo", "daughter", "inner", supported="yes")])
    grief = area(scores, problem_areas.GRIEF)
    assert grief.score == 1 and grief.reasons == ["Frank has died"]
    assert scores[0].area in (problem_areas.GRIEF, problem_areas.DEFICITS)


@pytest.mark.parametrize("hard, change, points_to", [
    ("he lost his job and we never see him", None, problem_areas.TRANSITION),
    ("I miss how it was before she moved away", None, problem_areas.TRANSITION),
    ("we broke up in June", None, problem_areas.TRANSITION),
    ("I miss her", None, None),
    ("she died last spring and I never said goodbye", None, problem_areas.GRIEF),
])
def test_other_losses_point_to_transitions_not_grief(hard, change, points_to):
    scores = problem_areas.score({}, [PersonEntry("Ann", "friend", "middle", hard=hard, change=change,
                                                  supported="yes"), PersonEntry("Bo", closeness="inner")])
    grief, transition = area(scores, problem_areas.GRIEF), area(scores, problem_areas.TRANSITION)
    assert grief.score == (1 if points_to == problem_areas.GRIEF else 0)
    assert transition.score == (1 if points_to == problem_areas.TRANSITION else 0)


# --------------------------------------------------------------------------- when the low mood began
def test_the_check_in_asks_when_the_low_mood_began_and_what_happened_with_people_then():
    journey = Journey(JourneyState("p", display_name="Alex"))
    journey.begin("next")
    asked = []
    for text in ("3", "since around March", "Dana and I kept fighting", "no"):
        asked.append(asked_key(journey))
        turn = journey.answer(text)
    assert asked == ["utter_journey/ask_mood", "utter_journey/ask_mood_onset", "utter_journey/ask_mood_onset_events",
                     "utter_journey/ask_phq9_offer"]
    assert turn.finished
    assert journey.state.checkins[0].details == {"mood_onset": "since around March",
                                                 "mood_onset_events": "Dana and I kept fighting"}


def test_a_good_mood_is_not_asked_when_it_began_and_a_skipped_start_skips_the_events():
    journey = Journey(JourneyState("p", display_name="Alex"))
    journey.begin("next")
    journey.ask()
    journey.answer("8")
    assert journey.current_step().key == "phq9_offer"
    other = Journey(JourneyState("q", display_name="Bo"))
    other.begin("next")
    for text in ("2", "skip"):
        other.ask()
        other.answer(text)
    assert other.current_step().key == "phq9_offer"


# --------------------------------------------------------------------------- the formulation
def dispute_state(**extra) -> JourneyState:
    state = JourneyState(
        "p", done=["checkin", "inventory", "screening"], focus="role_dispute", dispute_stage="impasse",
        people=[PersonEntry("Dana", "partner", "inner", hard="we fight about money", supported="no",
                            expectations="I expect help at home and she expects me to earn more"),
                PersonEntry("Lee", "friend", "middle", supported="yes")],
        checkins=[CheckinEntry("initial", mood=3, details={"mood_onset": "around March",
                                                            "mood_onset_events": "Dana and I kept fighting."})])
    state.__dict__.update(extra)
    return state


def test_the_formulation_names_the_person_the_area_the_stage_and_the_mood_link():
    journey = Journey(dispute_state())
    journey.begin("next")
    asked = journey.ask()
    assert names(asked) == ["utter_journey/formulation", "utter_journey/formulation_area",
                            "utter_journey/formulation_work", "utter_journey/ask_formulation_fit"]
    link, area_text = asked[0].variables["formulation_link"], asked[1].variables["formulation_area"]
    assert link == ("You told me when your low mood began (\u201caround March\u201d) and what was happening with "
                    "people then (\u201cDana and I kept fighting\u201d). Your mood now is about 3 out of 10.")
    assert area_text.startswith("Much of it seems to come from a role dispute with Dana: you're stuck and not talking.")
    assert "I expect help at home" in area_text and "Lee" not in area_text
    for text in ("yes", "tell Dana what I need calmly", "skip", "skip"):
        journey.ask()
        journey.answer(text)
    assert journey.state.phase == MIDDLE
    saved = journey.state.formulation
    assert "around March" in saved and "role dispute with Dana" in saved and "3 out of 10" in saved


@pytest.mark.parametrize("extra, expected", [
    ({"focus": "grief", "dispute_stage": None,
      "people": [PersonEntry("Frank", "husband", "inner", deceased=True), PersonEntry("Jo", "daughter", "inner")]},
     "Much of it seems to come from grief for Frank, who died."),
    ({"focus": "role_dispute", "dispute_stage": "renegotiation", "people": [PersonEntry("Lee", "friend", "inner")]},
     "Much of it seems to come from a role dispute with Dana"),  # named in what happened when mood fell
    ({"focus": "role_transition", "dispute_stage": None,
      "people": [PersonEntry("Dana", "partner", "inner")]},
     "Much of it seems to come from a role transition: a big change in your life, and how it changed things with "
     "Dana."),
    ({"focus": "interpersonal_deficits", "dispute_stage": None, "second_focus": "role_transition"},
     "Much of it seems to come from feeling alone, or finding it hard to get close to people. It also touches on "
     "role transition."),
])
def test_each_area_is_named_with_its_people(extra, expected):
    state = dispute_state(**extra)
    if extra.get("focus") == "role_dispute" and extra.get("dispute_stage") == "renegotiation":
        state.people.append(PersonEntry("Dana", "partner", "middle"))
    text = formulation.area_sentence(state, Journey(state).area_scores())
    assert text.startswith(expected), text


def test_without_an_onset_the_formulation_still_names_the_mood():
    state = dispute_state(checkins=[CheckinEntry("initial", mood=4)])
    assert formulation.link_sentence(state, 4) == "Your mood now is about 4 out of 10."
    assert formulation.link_sentence(JourneyState("q"), None).startswith("You've told me")


@pytest.mark.parametrize("focus, stage", [("role_dispute", "impasse"), ("role_dispute", None), ("grief", None),
                                          ("role_transition", None), ("interpersonal_deficits", None)])
def test_the_formulation_is_short_and_plain(focus, stage):
    state = dispute_state(focus=focus, dispute_stage=stage,
                          checkins=[CheckinEntry("initial", mood=3, details={"mood_onset": "in March",
                                                                              "mood_onset_events": "we had a fight"})])
    state.people.append(PersonEntry("Frank", "dad", "inner", deceased=True))
    journey = Journey(state)
    for part in (formulation.link_sentence(state, 3), formulation.area_sentence(state, journey.area_scores()),
                 formulation.WORK):
        assert sentence_count(part) <= 3, part
        assert fk_grade(part) <= 9, (fk_grade(part), part)
    assert "IPT" not in journey.formulation_text()


# --------------------------------------------------------------------------- stored
def test_deceased_and_expectations_are_saved_and_loaded(db_url):
    store = JourneyStore(db_url)
    state = JourneyState("saved", people=[PersonEntry("Frank", "husband", "inner", deceased=True),
                                          PersonEntry("Dana", "partner", expectations="more time together")])
    store.save(state)
    loaded = store.load("saved")
    assert [(p.name, p.deceased, p.expectations) for p in loaded.people] == [
        ("Frank", True, None), ("Dana", False, "more time together")]
    loaded.people[1].deceased = True
    store.save(loaded)
    assert store.load("saved").people[1].deceased is True


# --------------------------------------------------------------------------- self-help based on IPT
def _responses(name):
    return yaml.safe_load((PROJECT_ROOT / "domain" / name).read_text(encoding="utf-8"))["responses"]


def test_the_assistant_calls_itself_self_help_based_on_ipt_never_ipt_itself():
    core, journey = _responses("core.yml"), _responses("journey.yml")
    for name in ("utter_greet", "utter_what_i_do", "utter_iamabot"):
        assert re.search(r"self-help (?:assistant )?based on", core[name][0]["text"]), name
    assert "self-help program, based on IPT" in journey["utter_journey/phase_initial"][0]["text"]
    says_it_is_ipt = re.compile(r"\b(?:I'm the IPT|phase of IPT|phases of IPT|In IPT,? (?:you|we)|"
                                r"part of IPT|steps of IPT|IPT program|IPT assistant|this IPT)\b", re.IGNORECASE)
    for responses in (core, journey):
        for name, variations in responses.items():
            for variation in variations:
                assert not says_it_is_ipt.search(variation["text"]), (name, variation["text"])
