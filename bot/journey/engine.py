"""The guided journey as a small state machine over `JourneyState`.

An *activity* (the mood check-in, the inventory, the screening, ...) is a list of steps (steps.py).
The engine asks the first step that applies and has no answer yet, reads answers (asking again with
an example twice, then letting the person skip), runs the activity's finish when nothing is left,
and moves between the IPT phases. It returns `Reply` objects naming domain responses: the texts
live in the domain, the engine passes variables. It knows nothing about Rasa or the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from bot.journey import answers, formulation, inventory, phq9, picture_token, problem_areas, steps
from bot.journey.answers import Unclear, is_skip
from bot.journey.exercises import exercise_for
from bot.journey.interruptions import looks_like_question
from bot.journey.inventory import MAX_PEOPLE, living, people_text
from bot.journey.state import COMPLETED, INITIAL, MIDDLE, TERMINATION, CheckinEntry, JourneyState, PersonEntry
from bot.journey.steps import Step

MAX_RETRIES = 2
INITIAL_ACTIVITIES = ("checkin", "inventory", "screening", "formulation")
# Activities that can interrupt another one, which then resumes where it was.
DETOURS = ("edit_person", "remove_person", "start_over", "inventory")
COMMANDS = {  # what a begin-intent asks for
    "start_journey": "next", "continue_journey": "next", "start_inventory": "inventory",
    "edit_person": "edit_person", "remove_person": "remove_person", "start_over": "start_over",
    "finish_journey": "ending",
}


@dataclass
class Reply:
    """One message: a domain response by name, with its variables and any extra buttons or image."""

    response: str
    variables: dict[str, Any] = field(default_factory=dict)
    buttons: Optional[list[dict[str, str]]] = None
    image: Optional[str] = None


@dataclass
class Turn:
    """What one answer produced: the replies, and whether the current activity is over (form ends)."""

    replies: list[Reply]
    finished: bool = False
    safety_check: bool = False  # a PHQ-9 that rose: the crisis policy asks the safety question next


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


class Journey:
    """Operations on one person's journey. `image_url` turns the image token into a URL (or None)."""

    def __init__(self, state: JourneyState, image_url=None) -> None:
        self.state = state
        self.image_url = image_url or (lambda token: None)
        self.safety_due = False

    # ----------------------------------------------------------------- starting and resuming
    def begin(self, command: str) -> list[Reply]:
        """Start (or resume) an activity for a command; the form runs while `pending`."""
        state, replies = self.state, []
        state.phase_dates.setdefault(INITIAL, today())
        if command == "next" and state.activity:
            return [Reply("utter_journey/resume", {"where": steps.LABELS[state.activity]})]
        if command == "next":
            command = self.next_activity() or ""
            if not command:
                return [Reply("utter_journey/nothing_now" if state.phase == MIDDLE else "utter_journey/completed",
                              self.variables())]
            if command == "checkin" and not state.done:
                replies += [Reply("utter_journey/phase_initial"), Reply("utter_journey/phase_initial_steps")]
        if command in ("edit_person", "remove_person") and not state.people:
            return replies + [Reply("utter_journey/no_people")]
        if command == "inventory" and len(state.people) >= MAX_PEOPLE:
            return replies + [Reply("utter_journey/inventory_full", self.variables())]
        if command == "ending" and state.phase == COMPLETED:
            return replies + [Reply("utter_journey/completed", self.variables())]
        if state.activity == command:
            return replies + [Reply("utter_journey/resume", {"where": steps.LABELS[command]})]
        if state.activity and command in DETOURS:
            if not (state.activity in DETOURS and state.paused):  # a detour from a detour keeps the first
                state.paused = {"activity": state.activity, "draft": state.draft, "retries": state.retries}
        elif state.activity:  # leave the unfinished activity (its answers so far are dropped)
            state.paused = None
        self._enter(command)
        if command == "ending" and state.week < state.weeks_planned:  # before the last check-in: early
            state.draft["early"] = True
        return replies

    @property
    def pending(self) -> bool:
        return self.state.activity is not None

    def next_activity(self) -> Optional[str]:
        state = self.state
        if state.phase == INITIAL:
            return next((a for a in INITIAL_ACTIVITIES if a not in state.done), None)
        if state.phase in (MIDDLE, TERMINATION):
            # The last three weekly check-ins carry the ending (steps.ending_part); the "ending" activity is
            # for a journey saved after its last check-in before that, or for ending early.
            return "ending" if state.week >= state.weeks_planned else "weekly"
        return None

    def _enter(self, activity: str) -> None:
        self.state.activity, self.state.draft, self.state.retries = activity, {}, 0
        self.state.step = None

    # ----------------------------------------------------------------- asking and answering
    def current_step(self) -> Optional[Step]:
        if not self.state.activity:
            return None
        for step in steps.ACTIVITIES[self.state.activity]:
            if step.key not in self.state.draft and step.applies(self.state):
                return step
        return None

    def ask(self) -> list[Reply]:
        """The question for the current step (with its buttons), or nothing if the activity is over."""
        step = self.current_step()
        if step is None:
            return []
        self.state.step = step.key
        replies = [Reply(name, self.variables()) for name in step.preamble(self.state)]
        replies.append(Reply(step.response_for(self.state), self.variables(), step.buttons_for(self.state)))
        return replies

    def answer(self, text: str, intent: Optional[str] = None) -> Turn:
        """Read an answer to the current step, save it in the draft, and run what follows."""
        step = self.current_step()
        if step is None:  # nothing left to ask (or no activity at all: the form just ends)
            return Turn(self._finish_activity() if self.state.activity else [], finished=True)
        self._text = text
        typed_answer = step.kind_for(self.state) in ("text", "name")
        if typed_answer and looks_like_question(text):  # a question is answered, never stored as an answer
            return Turn([Reply("utter_journey/question_at_step", self.variables())])
        if is_skip(text) and (step.optional or self.state.retries >= MAX_RETRIES):
            nobody = step.kind_for(self.state) == "name" and answers.says_nobody(text)
            replies = [] if nobody else [Reply("utter_journey/skipped")]
            replies += self._store(step, None, skipped=True)
        else:
            try:
                value = step.read(text, intent, self.state)
            except Unclear as unclear:
                return Turn(self._unclear(step, unclear.kind))
            replies = self._store(step, value)
        if self.current_step() is None:
            replies += self._finish_activity()
            return Turn(replies, finished=self.state.activity is None, safety_check=self.safety_due)
        return Turn(replies)

    def _unclear(self, step: Step, kind: str) -> list[Reply]:
        self.state.retries += 1
        if self.state.retries > MAX_RETRIES:
            return [Reply("utter_journey/skipped_unclear")] + self._store(step, None, skipped=True) + (
                self._finish_activity() if self.current_step() is None else [])
        replies = [Reply(f"utter_journey/retry_{kind}", self.variables())]
        if self.state.retries == MAX_RETRIES or step.optional:
            replies.append(Reply("utter_journey/can_skip"))
        return replies

    def _store(self, step: Step, value: Any, skipped: bool = False) -> list[Reply]:
        self.state.draft[step.key] = value
        self.state.retries = 0
        hook = getattr(self, f"_after_{step.key}", None)
        return hook(value, skipped) if hook else []

    # ----------------------------------------------------------------- step hooks
    def _after_person_name(self, value: Any, skipped: bool) -> list[Reply]:
        draft, text = self.state.draft, getattr(self, "_text", "")
        if skipped or not value:  # no name, no person: go to "add someone else?"
            for key in steps.PERSON_KEYS:
                draft[key] = None
            if answers.says_nobody(text):
                if self.state.people:  # "that's everyone": the list is done
                    draft["inventory_more"] = False
                    return []
                return [Reply("utter_journey/nobody_yet")]  # nobody close: that is a focus of IPT too
            return []
        relation = answers.relation_of(inventory.without_death(text))
        if relation:  # "my mom i guess": the relation is the answer to the next question
            draft["person_relationship"] = relation
        return self._note_death(text)

    def _after_person_relationship(self, value: Any, skipped: bool) -> list[Reply]:
        return [] if skipped else self._note_death(getattr(self, "_text", ""))

    def _note_death(self, text: str) -> list[Reply]:
        """"my wife. she died in 2019": the person is recorded as having died, and the questions that
        follow fit a loss (see steps.PERSON_STEPS)."""
        draft = self.state.draft
        if draft.get("person_deceased") or not inventory.says_died(text):
            return []
        draft["person_deceased"] = True
        return [Reply("utter_journey/person_died_noted", self.variables())]

    def _after_person_change(self, value: Any, skipped: bool) -> list[Reply]:
        # Someone who has died has no contact, support or expectations questions: the list ends here.
        return self._add_person() if self.state.draft.get("person_deceased") else []

    def _after_person_supported(self, value: Any, skipped: bool) -> list[Reply]:
        return self._add_person()

    def _add_person(self) -> list[Reply]:
        draft = self.state.draft
        if not draft.get("person_name"):
            return []
        deceased = bool(draft.get("person_deceased"))
        self.state.people.append(PersonEntry(
            name=draft["person_name"], relationship=draft.get("person_relationship"),
            closeness=draft.get("person_closeness"), contact=None if deceased else draft.get("person_contact"),
            good=draft.get("person_good"), hard=draft.get("person_hard"), change=draft.get("person_change"),
            expectations=None if deceased else draft.get("person_expectations"),
            supported=None if deceased else draft.get("person_supported"), deceased=deceased))
        return [Reply("utter_journey/person_added", self.variables(person=draft["person_name"]))]

    def _after_inventory_more(self, value: Any, skipped: bool) -> list[Reply]:
        if value:
            for key in (*steps.PERSON_KEYS, "inventory_more"):
                self.state.draft.pop(key, None)
        return []

    # ----------------------------------------------------------------- finishing activities
    def _finish_activity(self) -> list[Reply]:
        activity = self.state.activity
        finish = getattr(self, f"_finish_{activity}")
        self.state.activity, self.state.step, self.state.retries = None, None, 0
        draft, self.state.draft = self.state.draft, {}
        replies = finish(draft)
        unfinished = activity == "screening" and not self.state.focus
        if activity not in self.state.done and activity in (*INITIAL_ACTIVITIES, "ending") and not unfinished:
            self.state.done.append(activity)
        if self.state.paused and activity in DETOURS and self.state.activity is None:
            paused, self.state.paused = self.state.paused, None
            self.state.activity, self.state.draft = paused["activity"], paused["draft"]
            self.state.retries = paused.get("retries", 0)
            replies.append(Reply("utter_journey/back_to", {"where": steps.LABELS[self.state.activity]}))
        return replies

    def _finish_checkin(self, draft: dict[str, Any]) -> list[Reply]:
        scores = [draft.get(key) for key in phq9.ITEMS] if draft.get("phq9_offer") else None
        total = phq9.total(scores) if scores else None
        if draft.get("name"):
            self.state.display_name = draft["name"]
        onset = {key: draft.get(key) for key in ("mood_onset", "mood_onset_events") if draft.get(key)}
        self.state.checkins.append(CheckinEntry(kind="initial", mood=draft.get("mood"), phq9=scores,
                                                phq9_total=total, details=onset, at=datetime.now(timezone.utc)))
        replies = [Reply("utter_journey/mood_noted", self.variables())] if draft.get("mood") is not None else []
        if total is not None:
            replies += [Reply("utter_journey/phq9_result", {"total": total}),
                        Reply(f"utter_journey/phq9_band_{phq9.band(total)}"),
                        Reply("utter_journey/not_a_diagnosis")]
        elif scores:
            replies.append(Reply("utter_journey/phq9_incomplete"))
        # The sick role (Klerman & Weissman) is for depression: given plainly only with a PHQ-9 of 10 or
        # more; otherwise worded as "if" (this is self-help, not a diagnosis).
        sick_role = "utter_journey/sick_role" if total is not None and total >= 10 else "utter_journey/sick_role_if"
        return replies + [Reply("utter_journey/depression_treatable"), Reply(sick_role)]

    def _finish_inventory(self, draft: dict[str, Any]) -> list[Reply]:
        if len(self.state.people) >= MAX_PEOPLE:
            return [Reply("utter_journey/inventory_full", self.variables())] + self.people_replies()
        return self.people_replies()

    def _finish_screening(self, draft: dict[str, Any]) -> list[Reply]:
        self.state.screening = {key: draft.get(key) for key in problem_areas.SCREENING}
        self.state.draft = draft  # read the choice with the same rules the steps used
        focus = steps.chosen_focus(self.state)
        self.state.draft = {}
        if focus is None:  # nothing chosen (skipped): no focus is made up; the screening stays to do
            return [Reply("utter_journey/focus_not_chosen")]
        second = draft.get("second_focus")
        self.state.focus = focus
        self.state.second_focus = second if second in problem_areas.AREAS and second != focus else None
        self.state.dispute_stage = draft.get("dispute_stage") if problem_areas.DISPUTE in (
            self.state.focus, self.state.second_focus) else None
        replies = [Reply("utter_journey/focus_chosen", self.variables()),
                   Reply(f"utter_journey/area_{self.state.focus}")]
        if self.state.dispute_stage:
            replies.append(Reply(f"utter_journey/stage_{self.state.dispute_stage}"))
        return replies

    def _finish_formulation(self, draft: dict[str, Any]) -> list[Reply]:
        self.state.formulation = self.formulation_text() + (
            f" Their own words: {draft['formulation_change']}" if draft.get("formulation_change") else "")
        self.state.goals = [g for g in (draft.get("goal_1"), draft.get("goal_2"), draft.get("goal_3")) if g]
        self.state.phase = MIDDLE
        self.state.phase_dates[MIDDLE] = today()
        return [Reply("utter_journey/goals_saved", self.variables()),
                Reply("utter_journey/phase_middle"), Reply("utter_journey/phase_middle_weekly", self.variables())]

    def _finish_weekly(self, draft: dict[str, Any]) -> list[Reply]:
        state = self.state
        previous = self.last_mood()
        part = steps.ending_part(state)
        exercise = self.exercise() if part != steps.ENDING_PARTS else None
        state.week += 1
        scores, total = self._phq9_answers(draft)
        state.checkins.append(CheckinEntry(
            kind="weekly", week=state.week, mood=draft.get("week_mood"), at=datetime.now(timezone.utc),
            phq9=scores, phq9_total=total,
            details={key: draft.get(key) for key in ("review_step", "week_events", "week_link", "exercise_1",
                                                        "exercise_2", "between_step")} | {"exercise": exercise}))
        replies = [Reply("utter_journey/week_saved", self.variables())]
        mood = draft.get("week_mood")
        if mood is not None and previous is not None:
            trend = "up" if mood > previous else "down" if mood < previous else "same"
            replies.append(Reply(f"utter_journey/mood_{trend}", self.variables(previous=previous)))
        if draft.get("between_step"):
            replies.append(Reply("utter_journey/step_saved", self.variables()))
        replies += self._phq9_replies(scores, total)
        return replies + self._ending_part(part, draft)

    def _ending_part(self, part: int, draft: dict[str, Any]) -> list[Reply]:
        """Keep what an ending check-in asked (steps.ending_part) and say what comes next; the last one
        gives the before and after, the outcome and the goodbye, and completes the program."""
        state = self.state
        if part == 1:
            state.phase = TERMINATION
            state.phase_dates.setdefault(TERMINATION, today())
            state.ending["ending_feelings"] = draft.get("ending_feelings")
            state.ending["goal_progress"] = [{"goal": goal, "progress": draft.get(f"goal_progress_{n}")}
                                             for n, goal in enumerate(state.goals[:3], 1)]
            return [Reply("utter_journey/goal_progress_saved", self.variables())]
        if part == 2:
            state.ending.update({k: draft.get(k) for k in ("ending_signs", "ending_helped", "ending_plan")})
            saved = [Reply("utter_journey/ending_saved", self.variables())] if draft.get("ending_signs") and \
                draft.get("ending_plan") else []
            return saved + [Reply("utter_journey/ending_last_next", self.variables())]
        if part == 3:
            state.phase = COMPLETED
            state.phase_dates.setdefault(TERMINATION, today())
            state.phase_dates[COMPLETED] = today()
            if "ending" not in state.done:
                state.done.append("ending")
            return self._outcome_replies() + [Reply("utter_journey/endings"), Reply("utter_journey/goodbye")]
        return []

    def _finish_ending(self, draft: dict[str, Any]) -> list[Reply]:
        if draft.get("ending_confirm") is False:
            return [Reply("utter_journey/ending_not_now")]
        self.state.ending.update({k: draft.get(k) for k in ("ending_helped", "ending_signs", "ending_plan")})
        self.state.phase = COMPLETED
        self.state.phase_dates.setdefault(TERMINATION, today())
        self.state.phase_dates[COMPLETED] = today()
        scores, total = self._phq9_answers(draft)
        if scores is not None:  # the PHQ-9 at the end, kept as the final check-in
            self.state.checkins.append(CheckinEntry(kind="final", week=self.state.week, phq9=scores,
                                                    phq9_total=total, at=datetime.now(timezone.utc)))
        replies = [Reply("utter_journey/ending_saved", self.variables())] + self._phq9_replies(scores, total)
        return replies + self._outcome_replies() + [Reply("utter_journey/endings"), Reply("utter_journey/goodbye")]

    def _outcome_replies(self) -> list[Reply]:
        """Before and after, said plainly, then what it means. When nothing improved, the approach did not
        work for this person; it is not their failure, and other treatments work for many people (Weissman,
        Markowitz & Klerman, "Comprehensive Guide to IPT", ch. 7, termination: the treatment failed, not the
        patient, and alternatives are offered; WHO Group IPT manual 2016, the termination sessions: those
        still depressed are referred on; Stuart & Robertson: concluding acute treatment, further care is
        discussed)."""
        replies = []
        before_after = self.before_after()
        if before_after:
            replies.append(Reply("utter_journey/ending_before_after", self.variables(
                before=before_after[0], after=before_after[1])))
        result, change = self.outcome()
        if result == "not_improved":
            return replies + [Reply("utter_journey/ending_not_improved", self.variables(change=change)),
                              Reply("utter_journey/ending_options")]
        if result == "improved":
            replies.append(Reply("utter_journey/ending_improved", self.variables(change=change)))
        return replies + [Reply("utter_journey/keep_going")]

    def before_after(self) -> Optional[tuple[str, str]]:
        """The first mood and PHQ-9 and the latest ones in words ("mood 4 out of 10, PHQ-9 15 (moderately
        severe range)"), or None when nothing was measured twice."""
        moods = [c.mood for c in self.state.checkins if c.mood is not None]
        points = self.phq9_points()
        before, after = [], []
        if len(moods) >= 2:
            before.append(f"mood {moods[0]} out of 10")
            after.append(f"mood {moods[-1]} out of 10")
        if len(points) >= 2:
            for words, (_, score) in ((before, points[0]), (after, points[-1])):
                words.append(f"PHQ-9 {score} ({phq9.band_words(score)} range)")
        return (", ".join(before), ", ".join(after)) if before else None

    # ----------------------------------------------------------------- the PHQ-9 again and the change
    @staticmethod
    def _phq9_answers(draft: dict[str, Any]) -> tuple[Optional[list[Optional[int]]], Optional[int]]:
        """A repeated PHQ-9 (weeks 4 and 8, the ending): the nine answers and total, or None if declined."""
        if draft.get("phq9_offer") is not True:
            return None, None
        scores = [draft.get(key) for key in phq9.ITEMS]
        return scores, phq9.total(scores)

    def _phq9_replies(self, scores: Optional[list[Optional[int]]], total: Optional[int]) -> list[Reply]:
        """The score, its band, the change since the first one (numbers and bars) and "not a diagnosis"."""
        if total is None:
            return [Reply("utter_journey/phq9_incomplete")] if scores else []
        replies = [Reply("utter_journey/phq9_result", {"total": total}),
                   Reply(f"utter_journey/phq9_band_{phq9.band(total)}")]
        points = self.phq9_points()
        if len(points) >= 2:
            replies.append(Reply("utter_journey/phq9_change", self.variables()))
            if phq9.rising(points[-2][1], total):
                self.safety_due = True  # the crisis policy asks the safety question after these replies
                replies.append(Reply("utter_journey/phq9_rising"))
        return replies + [Reply("utter_journey/not_a_diagnosis")]

    def phq9_points(self) -> list[tuple[str, int]]:
        """Every scored PHQ-9 in order, labelled by when it was taken."""
        labels = {"initial": lambda c: "Start", "weekly": lambda c: f"Week {c.week}", "final": lambda c: "End"}
        return [(labels.get(c.kind, lambda c: c.kind)(c), c.phq9_total) for c in self.state.checkins
                if c.phq9_total is not None]

    def outcome(self) -> tuple[Optional[str], str]:
        """"improved", "not_improved" or None (nothing to compare), with the change in words.

        The PHQ-9 decides when it was scored at least twice (phq9.improved: 5 points or more, or now in the
        minimal range); otherwise the 0-10 mood, first check-in against the last weekly one (a rise of 2 or
        more, or a good mood of 7+ that is no lower than at the start: our own rule of thumb)."""
        points = self.phq9_points()
        if len(points) >= 2:
            first, now = points[0][1], points[-1][1]
            return ("improved" if phq9.improved(first, now) else "not_improved"), f"PHQ-9 {first} → {now}"
        moods = [c.mood for c in self.state.checkins if c.mood is not None]
        weekly = any(c.kind == "weekly" and c.mood is not None for c in self.state.checkins)
        if len(moods) >= 2 and weekly:
            first, now = moods[0], moods[-1]
            better = now - first >= 2 or (now >= 7 and now >= first)
            return ("improved" if better else "not_improved"), f"mood {first} → {now} out of 10"
        return None, ""

    def _finish_edit_person(self, draft: dict[str, Any]) -> list[Reply]:
        person = self.state.person_named(draft.get("pick_person") or "")
        field_name, value = draft.get("pick_field"), draft.get("new_value")
        if not person or not field_name or value is None:
            return [Reply("utter_journey/nothing_changed")]
        setattr(person, steps.PERSON_FIELDS[field_name], value)
        return [Reply("utter_journey/person_updated", self.variables(person=person.name))]

    def _finish_remove_person(self, draft: dict[str, Any]) -> list[Reply]:
        person = self.state.person_named(draft.get("pick_person") or "")
        if not person or not draft.get("confirm_remove"):
            return [Reply("utter_journey/nothing_changed")]
        self.state.people.remove(person)
        if person.id is not None:
            self.state.removed_people.append(person.id)
        return [Reply("utter_journey/person_removed", self.variables(person=person.name))]

    def _finish_start_over(self, draft: dict[str, Any]) -> list[Reply]:
        if not draft.get("confirm_start_over"):
            return [Reply("utter_journey/nothing_changed")]
        state = self.state
        state.removed_people += [p.id for p in state.people if p.id is not None]
        keep = {"sender_id": state.sender_id, "display_name": state.display_name,
                "image_token": picture_token.new_token(),  # the old picture's address stops working
                "created_at": state.created_at, "removed_people": state.removed_people}
        fresh = JourneyState(**keep)
        fresh.phase_dates[INITIAL] = today()
        fresh.clear_checkins = True
        self.state.__dict__.update(fresh.__dict__)
        state.paused = None
        return [Reply("utter_journey/started_over")]

    # ----------------------------------------------------------------- questions anywhere
    def stop(self) -> list[Reply]:
        return [Reply("utter_journey/paused", self.variables())]

    def status(self) -> list[Reply]:
        state = self.state
        if not state.started:
            return [Reply("utter_journey/status_new")]
        replies = [Reply(f"utter_journey/status_{state.phase}", self.variables())]
        if state.activity:
            replies.append(Reply("utter_journey/status_current", {"where": steps.LABELS[state.activity]}))
        return replies + self.next_offer()

    def next_offer(self) -> list[Reply]:
        """What comes next, with a button to go on (after a finished activity, or when asked)."""
        state = self.state
        if state.activity:
            return [Reply("utter_journey/offer_continue", {"where": steps.LABELS[state.activity]})]
        upcoming = self.next_activity()
        if upcoming is None:
            return [Reply("utter_journey/nothing_now" if state.phase == MIDDLE else "utter_journey/completed",
                          self.variables())]
        return [Reply(f"utter_journey/offer_{upcoming}", self.variables())]

    def people_replies(self) -> list[Reply]:
        if not self.state.people:
            return [Reply("utter_journey/no_people")]
        # a picture shown now works for at least a day (the service saves a renewed token)
        self.state.image_token = picture_token.renewed(self.state.image_token,
                                                       within=picture_token.RENEW_WITHIN_SECONDS)
        url = self.image_url(self.state.image_token)
        replies = [Reply("utter_journey/people", self.variables())]
        if url:
            replies.append(Reply("utter_journey/people_picture", image=url))
        return replies

    def focus_replies(self) -> list[Reply]:
        if not self.state.focus:
            return [Reply("utter_journey/no_focus")]
        replies = [Reply("utter_journey/focus", self.variables())]
        if self.state.goals:
            replies.append(Reply("utter_journey/goals", self.variables()))
        return replies

    def hello_again(self) -> list[Reply]:
        """A greeting in the middle of a step: where we are (the form then asks its question again)."""
        where = steps.LABELS.get(self.state.activity or "", steps.PHASE_LABELS[self.state.phase])
        name = "_named" if self.state.display_name else ""
        return [Reply(f"utter_journey/hello_again{name}", self.variables(where=where))]

    def welcome(self) -> list[Reply]:
        if not self.state.started:
            return []
        name = "_named" if self.state.display_name else ""
        where = steps.LABELS[self.state.activity] if self.state.activity else steps.PHASE_LABELS[self.state.phase]
        return [Reply(f"utter_journey/welcome_back{name}", self.variables(where=where))] + self.next_offer()

    # ----------------------------------------------------------------- derived values
    def area_scores(self) -> list[problem_areas.AreaScore]:
        screening = {key: self.state.draft.get(key, self.state.screening.get(key)) for key in problem_areas.SCREENING}
        return problem_areas.score(screening, self.state.people)

    def _suggested_label(self) -> str:
        leader = problem_areas.clear_leader(self.area_scores())
        return leader.label if leader else ""

    def last_mood(self) -> Optional[int]:
        return next((c.mood for c in reversed(self.state.checkins) if c.mood is not None), None)

    def exercise(self) -> str:
        return exercise_for(self.state.focus or problem_areas.DEFICITS, self.state.week)

    def formulation_text(self) -> str:
        """The interpersonal formulation as one text (see formulation.py): the mood and its link to events,
        the focus with its people and stage, and why we work on it."""
        return formulation.text(self.state, self.area_scores(), self.last_mood())

    def variables(self, **extra: Any) -> dict[str, Any]:
        """Values the journey responses may use ({name}, {count}, {people}, {focus} ...)."""
        state = self.state
        draft_person = state.draft.get("person_name") or state.draft.get("pick_person")
        moods = [str(c.mood) for c in state.checkins if c.mood is not None]
        last_step = self.last_between_step() or ""
        values = {
            "name": state.display_name or "",
            "count": len(state.people),
            "max_people": MAX_PEOPLE,
            "person": draft_person or "this person",
            "people": people_text(state.people),
            # this week's people: someone who has died is never asked about as a contact this week
            "names": ", ".join(p.name for p in living(state.people)) or "the people in your life",
            "focus": problem_areas.LABELS.get(state.focus or "", "not chosen yet"),
            "stage": (state.dispute_stage or "").replace("_", " "),
            "goals": "\n".join(f"• {g}" for g in state.goals) or "none yet",
            "formulation": state.formulation or self.formulation_text(),
            "formulation_link": formulation.link_sentence(state, self.last_mood()),
            "formulation_area": formulation.area_sentence(state, self.area_scores()),
            "scores": problem_areas.summary(self.area_scores()),
            "suggested": self._suggested_label(),
            "mood": moods[-1] if moods else "not given",
            "moods": " → ".join(moods) or "none recorded",
            "week": state.week,
            "weeks_planned": state.weeks_planned,
            "weeks_left": max(state.weeks_planned - state.week, 0),
            "last_step": last_step,
            "between_step": last_step,
            "phase": steps.PHASE_LABELS[state.phase],
            "done": ", ".join(steps.LABELS[a] for a in state.done) or "nothing yet",
            "phq9_change": " → ".join(str(score) for _, score in self.phq9_points()) or "none yet",
            "phq9_chart": phq9.chart(self.phq9_points()),
            "goal": self._goal_asked(),
            "weeks_after": max(state.weeks_planned - state.week - 1, 0),  # check-ins left after this one
            "signs": state.ending.get("ending_signs") or "",
            "plan": state.ending.get("ending_plan") or "",
        }
        values.update(extra)
        return values

    def _goal_asked(self) -> str:
        """The goal whose progress is asked now (step goal_progress_<n>), in the person's words."""
        step = self.state.step or ""
        if not step.startswith("goal_progress_"):
            return ""
        n = int(step.rsplit("_", 1)[1])
        return self.state.goals[n - 1] if len(self.state.goals) >= n else ""

    def last_between_step(self) -> Optional[str]:
        return next((c.details.get("between_step") for c in reversed(self.state.checkins)
                     if c.kind == "weekly" and c.details.get("between_step")), None)

