"""The steps of each journey activity: what is asked, how the answer is read, when a step applies.

A step is asked with the domain response `utter_journey_ask_<key>` unless it names another one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from bot.journey import answers, exercises, inventory, phq9, problem_areas
from bot.journey.inventory import CLOSENESS, MAX_PEOPLE, SUPPORTED
from bot.journey.state import JourneyState

LABELS = {
    "checkin": "the mood check-in",
    "inventory": "the people in your life (the interpersonal inventory)",
    "screening": "finding your focus (the problem areas)",
    "formulation": "your summary and goals",
    "weekly": "the weekly check-in",
    "ending": "the ending review",
    "edit_person": "changing someone's details",
    "remove_person": "removing someone from your list",
    "start_over": "starting over",
}
PHASE_LABELS = {"initial": "the first phase (getting started)", "middle": "the middle phase (working on your focus)",
                "termination": "the last phase (ending well)", "completed": "the end of the program"}
PERSON_KEYS = ("person_name", "person_relationship", "person_closeness", "person_contact", "person_good",
               "person_hard", "person_change", "person_expectations", "person_supported", "person_deceased")
# The details a person can edit, as the answer names them -> the PersonEntry attribute.
PERSON_FIELDS = {"name": "name", "relationship": "relationship", "closeness": "closeness", "contact": "contact",
                 "good": "good", "hard": "hard", "change": "change", "expectations": "expectations",
                 "supported": "supported", "died": "deceased"}
FIELD_SYNONYMS = {
    "name": ("name", "their name", "nickname"), "relationship": ("relationship", "who they are", "relation"),
    "closeness": ("closeness", "circle", "how close"), "contact": ("contact", "how often", "in touch"),
    "good": ("good", "what is good", "what's good", "the good"), "hard": ("hard", "what is hard", "what's hard"),
    "change": ("change", "what to change", "what i'd change"), "supported": ("supported", "support"),
    "expectations": ("expectations", "expect", "what we expect", "what we expect of each other"),
    "died": ("died", "they have died", "has died", "passed away", "deceased"),
}
NO_SECOND = ("none", "no", "just one", "only one", "no thanks", "no second", "nothing else", "one is enough")
NOT_SURE = ("not sure", "i'm not sure", "unsure", "you choose", "you pick", "whatever you think", "don't know",
            "i don't know", "dont know")

Dynamic = Callable[[JourneyState], Any]


@dataclass(frozen=True)
class Step:
    key: str
    kind: str  # text, name, number, phq, yes_no, choice
    optional: bool = False
    when: Optional[Callable[[JourneyState], bool]] = None
    options: Optional[Union[dict, Dynamic]] = None  # for choices: key -> synonyms
    response: Optional[Dynamic] = None  # the ask response name, when not utter_journey_ask_<key>
    buttons: Optional[Dynamic] = None  # buttons that depend on the person's answers
    before: Optional[Dynamic] = None  # responses sent just before the question
    prepare: Optional[Callable[[str], str]] = None  # what is taken off an answer before it is read

    def applies(self, state: JourneyState) -> bool:
        return self.when is None or bool(self.when(state))

    def response_for(self, state: JourneyState) -> str:
        return self.response(state) if self.response else f"utter_journey/ask_{self.key}"

    def buttons_for(self, state: JourneyState) -> Optional[list[dict[str, str]]]:
        return self.buttons(state) if self.buttons else None

    def preamble(self, state: JourneyState) -> list[str]:
        return list(self.before(state)) if self.before else []

    def read(self, text: str, intent: Optional[str], state: JourneyState) -> Any:
        kind = self.kind_for(state)
        text = (self.prepare(text) or text) if self.prepare else text
        if kind == "text":
            return answers.clean_text(text)
        if kind == "name":
            return answers.clean_name(text)
        if kind == "number":
            return answers.parse_number(text, 0, 10)
        if kind == "phq":
            return phq9.parse_answer(text)
        if kind == "yes_no":
            return answers.parse_yes_no(text, intent)
        if kind == "confirm_or_area":  # yes / no to a suggested focus, or another area named instead
            try:
                return answers.parse_choice(text, problem_areas.SYNONYMS, "yes_no")
            except answers.Unclear:
                return answers.parse_yes_no(text, intent)
        options = self.options(state) if callable(self.options) else self.options
        return answers.parse_choice(text, options or {})

    def kind_for(self, state: JourneyState) -> str:
        if self.key == "new_value":
            return {"name": "name", "closeness": "choice", "supported": "choice", "died": "yes_no"}.get(
                state.draft.get("pick_field"), "text")
        return self.kind


def _draft(key: str, value: Any = True) -> Callable[[JourneyState], bool]:
    return lambda state: state.draft.get(key) == value


def _button(title: str, payload: Optional[str] = None) -> dict[str, str]:
    return {"title": title, "payload": payload or title}


def _focus_buttons(state: JourneyState) -> list[dict[str, str]]:
    from bot.journey.engine import Journey

    ranked = Journey(state).area_scores()
    return [_button(s.label, s.area.replace("_", " ")) for s in ranked] + [_button("I'm not sure", "not sure")]


def _focus_options(state: JourneyState) -> dict:
    return {**problem_areas.SYNONYMS, "not_sure": NOT_SURE}


def _second_options(state: JourneyState) -> dict:
    others = {a: s for a, s in problem_areas.SYNONYMS.items() if a != chosen_focus(state)}
    return {**others, "none": NO_SECOND}


def _second_buttons(state: JourneyState) -> list[dict[str, str]]:
    return [_button(problem_areas.LABELS[a], a.replace("_", " ")) for a in problem_areas.AREAS
            if a != chosen_focus(state)] + [_button("No, just one", "none")]


def _people_options(state: JourneyState) -> dict:
    return {p.name: (p.name.lower(),) for p in state.people}


def _people_buttons(state: JourneyState) -> list[dict[str, str]]:
    return [_button(p.name) for p in state.people]


def _new_value_options(state: JourneyState) -> dict:
    return CLOSENESS if state.draft.get("pick_field") == "closeness" else SUPPORTED


def chosen_focus(state: JourneyState) -> Optional[str]:
    """The focus the person settled on in this screening: named, confirmed after "not sure", or picked."""
    draft = state.draft
    if draft.get("focus") in problem_areas.AREAS:
        return draft["focus"]
    if draft.get("focus_pick") in problem_areas.AREAS:
        return draft["focus_pick"]
    if draft.get("focus_confirm") in problem_areas.AREAS:  # "no, the change one": named at the suggestion
        return draft["focus_confirm"]
    if draft.get("focus_confirm") is True:
        leader = _leader(state)
        return leader.area if leader else None
    return None


def _leader(state: JourneyState) -> Optional[problem_areas.AreaScore]:
    from bot.journey.engine import Journey

    return problem_areas.clear_leader(Journey(state).area_scores())


def _unsure(state: JourneyState) -> bool:
    return state.draft.get("focus") == "not_sure"


def _needs_pick(state: JourneyState) -> bool:
    """"Not sure" with a tie or nothing scored, or the suggestion declined: the person picks."""
    return _unsure(state) and (_leader(state) is None or state.draft.get("focus_confirm") is False)


def _pick_buttons(state: JourneyState) -> list[dict[str, str]]:
    return [_button(problem_areas.IN_SHORT[a], a.replace("_", " ")) for a in problem_areas.AREAS]


def _disputed(state: JourneyState) -> bool:
    return problem_areas.DISPUTE in (chosen_focus(state), state.draft.get("second_focus"))


def _focus_of(state: JourneyState) -> str:
    return state.focus or problem_areas.DEFICITS


def _exercise_prompt(n: int) -> Callable[[JourneyState], str]:
    def response(state: JourneyState) -> str:
        return exercises.prompt_response(exercises.exercise_for(_focus_of(state), state.week), n)
    return response


def _mood_low(state: JourneyState) -> bool:
    mood = state.draft.get("mood")
    return mood is None or mood < 7


def _has_last_step(state: JourneyState) -> bool:
    return any(c.kind == "weekly" and c.details.get("between_step") for c in state.checkins)


def _deceased(state: JourneyState) -> bool:
    return bool(state.draft.get("person_deceased"))


def _alive(state: JourneyState) -> bool:
    return not _deceased(state)


def _for_loss(usual: str, loss: str) -> Dynamic:
    """The question for a person who has died (a loss), or the usual one."""
    return lambda state: loss if _deceased(state) else usual


def _relationship_words(text: str) -> str:
    stripped = inventory.without_death(text)
    return stripped if stripped.lower() not in ("", "we", "i", "he", "she", "they", "it") else text


def _phq9_repeat(when: Callable[[JourneyState], bool]) -> tuple[Step, ...]:
    """The PHQ-9 offered again (yes/no) and its nine items, asked only when `when` holds. The items keep the
    step keys phq9_1..phq9_9 of the first check-in: the crisis policy reads the step `phq9_9` to apply the
    item 9 safety rules (bot/policies/crisis.py), so they hold at every repeat too."""
    return (Step("phq9_offer", "yes_no", when=when, response=lambda s: "utter_journey/ask_phq9_offer_again"),
            *(Step(item, "phq", when=lambda s: bool(when(s)) and s.draft.get("phq9_offer") is True,
                   response=lambda s, i=item: f"utter_journey/ask_{i}") for item in phq9.ITEMS))


def _phq9_week(state: JourneyState) -> bool:
    """The weekly check-in that will be week 4 or week 8 (phq9.REPEAT_WEEKS), or the last one."""
    return state.week + 1 in phq9.REPEAT_WEEKS or ending_part(state) == 3


# ---------------------------------------------------------------- the ending over the last three check-ins
# IPT ends over its last sessions, not in one: the ending is named and talked about (for some it feels like
# a loss), progress on each goal is reviewed, the person learns their own warning signs and makes a plan,
# and the scores are compared; when nothing improved, the treatment failed, not the person, and other
# treatments are discussed (Weissman, Markowitz & Klerman, "Comprehensive Guide to Interpersonal
# Psychotherapy", the termination phase; WHO Group IPT manual, 2016, the termination sessions; Stuart &
# Robertson, "IPT: A Clinician's Guide", concluding acute treatment). Here the last three weekly check-ins
# of a program of N weeks carry one part each: N-2 the ending and the goals, N-1 warning signs and a plan,
# N the scores before and after and the goodbye. A person who ends early gets the "ending" activity at once.
ENDING_PARTS = 3


def ending_part(state: JourneyState) -> int:
    """The part of the ending (1, 2 or 3) the coming weekly check-in carries, or 0 before the last three."""
    part = state.week + 1 - (state.weeks_planned - ENDING_PARTS)
    return part if 1 <= part <= ENDING_PARTS else 0


def _part(n: int) -> Callable[[JourneyState], bool]:
    return lambda state: ending_part(state) == n


def _not_last(state: JourneyState) -> bool:
    """Not the last check-in: there is no exercise or step to try "before next time" when there is none."""
    return ending_part(state) != ENDING_PARTS


def _goal_step(n: int) -> Step:
    """How the person's goal n went, asked with the goal's own words ({goal})."""
    return Step(f"goal_progress_{n}", "text", optional=True,
                when=lambda s: ending_part(s) == 1 and len(s.goals) >= n,
                response=lambda s: "utter_journey/ask_goal_progress",
                before=lambda s: ["utter_journey/goal_progress_intro"] if n == 1 else [])


def _ending_on(state: JourneyState) -> bool:
    return state.draft.get("ending_confirm") is not False


# The interpersonal inventory, per important person (Weissman, Markowitz & Klerman, "Comprehensive Guide to
# IPT": contact, the satisfying and unsatisfying parts, mutual expectations and whether they are met, changes
# wanted; Stuart & Robertson, "IPT: A Clinician's Guide", the inventory and the closeness circle). For someone
# who has died the questions fit a loss (what you miss, what was hard between you, what is hardest now), and
# there is no contact, support or expectations to ask about.
PERSON_STEPS = (
    Step("person_name", "name", optional=True, when=lambda s: len(s.people) < MAX_PEOPLE,
         response=lambda s: "utter_journey/ask_person_name_first" if not s.people else "utter_journey/ask_person_name",
         prepare=inventory.without_death),
    Step("person_relationship", "text", optional=True, prepare=_relationship_words),
    Step("person_closeness", "choice", options=CLOSENESS,
         response=_for_loss("utter_journey/ask_person_closeness", "utter_journey/ask_person_closeness_deceased")),
    Step("person_contact", "text", optional=True, when=_alive),
    Step("person_good", "text", optional=True,
         response=_for_loss("utter_journey/ask_person_good", "utter_journey/ask_person_miss")),
    Step("person_hard", "text", optional=True,
         response=_for_loss("utter_journey/ask_person_hard", "utter_journey/ask_person_hard_deceased")),
    Step("person_change", "text", optional=True,
         response=_for_loss("utter_journey/ask_person_change", "utter_journey/ask_person_hardest_now")),
    Step("person_expectations", "text", optional=True, when=_alive),
    Step("person_supported", "choice", options=SUPPORTED, when=_alive),
)

ACTIVITIES: dict[str, tuple[Step, ...]] = {
    "checkin": (
        Step("name", "name", optional=True, when=lambda s: not s.display_name and "checkin" not in s.done),
        Step("mood", "number"),
        # When the low mood began and what was happening with people then: the link between the mood and
        # interpersonal events at the centre of IPT's initial phase (Weissman, Markowitz & Klerman, "Comprehensive
        # Guide to IPT": relate the onset of symptoms to the person's interpersonal situation; Markowitz &
        # Weissman; WHO Group IPT manual 2016, the individual first session's timeline). Asked only when the mood
        # is not good (under 7 of 10, or not given): "when did you start feeling low" would not fit a 9.
        Step("mood_onset", "text", optional=True, when=_mood_low),
        Step("mood_onset_events", "text", optional=True,
             when=lambda s: _mood_low(s) and bool(s.draft.get("mood_onset"))),
        Step("phq9_offer", "yes_no"),
        *(Step(item, "phq", when=_draft("phq9_offer"), response=lambda s, i=item: f"utter_journey/ask_{i}")
          for item in phq9.ITEMS),
    ),
    "inventory": (
        *PERSON_STEPS,
        Step("inventory_more", "yes_no", when=lambda s: len(s.people) < MAX_PEOPLE,
             response=lambda s: "utter_journey/ask_inventory_more" if len(s.people) >= 3
             else "utter_journey/ask_inventory_more_suggest" if s.people else "utter_journey/ask_inventory_more_none"),
    ),
    "screening": (
        Step("screen_loss", "yes_no"),
        Step("screen_dispute", "yes_no"),
        Step("screen_transition", "yes_no"),
        Step("screen_isolation", "yes_no"),
        Step("focus", "choice", options=_focus_options, buttons=_focus_buttons,
             before=lambda s: ["utter_journey/scores"]),
        Step("focus_confirm", "confirm_or_area", when=lambda s: _unsure(s) and _leader(s) is not None,
             before=lambda s: ["utter_journey/focus_suggest"]),
        Step("focus_pick", "choice", options=problem_areas.SYNONYMS, buttons=_pick_buttons, when=_needs_pick,
             before=lambda s: ["utter_journey/areas_explained"]),
        Step("second_focus", "choice", optional=True, options=_second_options, buttons=_second_buttons,
             when=lambda s: chosen_focus(s) is not None),
        Step("dispute_stage", "choice", options=problem_areas.DISPUTE_STAGES, when=_disputed),
    ),
    "formulation": (
        Step("formulation_fit", "yes_no", before=lambda s: [
            "utter_journey/formulation", "utter_journey/formulation_area", "utter_journey/formulation_work"]),
        Step("formulation_change", "text", optional=True, when=_draft("formulation_fit", False)),
        Step("goal_1", "text", response=lambda s: f"utter_journey/ask_goal_1_{_focus_of(s)}"),
        Step("goal_2", "text", optional=True),
        Step("goal_3", "text", optional=True),
    ),
    "weekly": (
        Step("review_step", "text", optional=True, when=_has_last_step),
        Step("week_mood", "number"),
        Step("week_events", "text", optional=True),
        Step("week_link", "text", optional=True),
        Step("exercise_1", "text", optional=True, when=_not_last, response=_exercise_prompt(1)),
        Step("exercise_2", "text", optional=True, when=_not_last, response=_exercise_prompt(2)),
        Step("between_step", "text", optional=True, when=_not_last,
             response=lambda s: f"utter_journey/ask_between_step_{_focus_of(s)}"),
        # Ending, part 1 (week N-2): the end named, with how many check-ins are left, feelings about it, and
        # how each goal went.
        Step("ending_feelings", "text", optional=True, when=_part(1),
             before=lambda s: ["utter_journey/phase_termination", "utter_journey/ending_coming"]),
        *(_goal_step(n) for n in (1, 2, 3)),
        # Ending, part 2 (week N-1): warning signs of low mood coming back, what helped, and who to turn to.
        Step("ending_signs", "text", optional=True, when=_part(2),
             before=lambda s: ["utter_journey/ending_signs_intro"]),
        Step("ending_helped", "text", optional=True, when=_part(2),
             response=lambda s: "utter_journey/ask_ending_helped_weeks"),
        Step("ending_plan", "text", optional=True, when=_part(2),
             response=lambda s: "utter_journey/ask_ending_plan_people" if inventory.living(s.people)
             else "utter_journey/ask_ending_plan"),
        # Part 3 (week N): the PHQ-9 once more; the engine then gives the before and after and the goodbye.
        *_phq9_repeat(_phq9_week),
    ),
    "ending": (
        Step("ending_confirm", "yes_no", when=_draft("early")),
        Step("ending_helped", "text", optional=True, when=lambda s: s.draft.get("ending_confirm") is not False,
             before=lambda s: (["utter_journey/phase_termination"] if s.draft.get("early") else [])
             + ["utter_journey/review"]),
        Step("ending_signs", "text", optional=True, when=lambda s: s.draft.get("ending_confirm") is not False),
        Step("ending_plan", "text", optional=True, when=lambda s: s.draft.get("ending_confirm") is not False),
        *_phq9_repeat(_ending_on),
    ),
    "edit_person": (
        Step("pick_person", "choice", options=_people_options, buttons=_people_buttons),
        Step("pick_field", "choice", options=FIELD_SYNONYMS),
        Step("new_value", "text", options=_new_value_options,
             response=lambda s: f"utter_journey/ask_new_value_{s.draft.get('pick_field')}"),
    ),
    "remove_person": (
        Step("pick_person", "choice", options=_people_options, buttons=_people_buttons,
             response=lambda s: "utter_journey/ask_remove_person"),
        Step("confirm_remove", "yes_no"),
    ),
    "start_over": (Step("confirm_start_over", "yes_no"),),
}
