"""The interpersonal formulation: a short summary, in plain words, that links the person's low mood to
what happens with the people in their life, and names the focus the program will work on.

IPT's initial phase ends with this summary (Weissman, Markowitz & Klerman, "Comprehensive Guide to
IPT", the interpersonal formulation; Markowitz & Swartz, "Case formulation in IPT"; Lipsitz & Markowitz
2013, "Mechanisms of change in IPT", PMC4109031; WHO Group IPT manual 2016): it names the person or
people involved, the problem area, the stage of a dispute or the change, and the link the person told
between when the mood began and what was happening with people then. The person's own words are quoted,
not rewritten; the person can say it does not fit and give their own words (the `formulation_fit` step).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from bot.journey import problem_areas
from bot.journey.state import JourneyState, PersonEntry

MAX_QUOTE = 120
# What the person said about where a dispute stands (steps: dispute_stage), in the person's terms.
STAGE_WORDS = {"renegotiation": "you are still talking it through",
               "impasse": "you're stuck and not talking",
               "dissolution": "the relationship may be ending"}
WORK = ("In this program we'll work on that, because mood and relationships affect each other. "
        "As things get better there, mood often lifts.")


def onset(state: JourneyState) -> dict[str, str]:
    """When the low mood began and what was happening with people then (the latest check-in that says)."""
    return next((c.details for c in reversed(state.checkins) if c.details.get("mood_onset")), {})


def quote(text: Optional[str]) -> str:
    """The person's words, trimmed, without a closing full stop, as a quote."""
    words = re.sub(r"\s+", " ", text or "").strip().rstrip(".!").strip()
    if len(words) > MAX_QUOTE:
        words = words[: MAX_QUOTE - 1].rstrip() + "…"
    return f"\u201c{words}\u201d"


def _named_in(text: str, person: PersonEntry) -> bool:
    name = re.sub(r"^your\s+", "", person.name.strip().lower())
    return bool(name) and bool(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text.lower()))


def people_for(state: JourneyState, area: Optional[str],
               scores: Iterable[problem_areas.AreaScore]) -> list[PersonEntry]:
    """Whom the area is about: for grief, the people who died; for a dispute, the people the scores name
    (conflict words, or close and unsupportive), else the people named in what was happening when the mood
    began; for the others, the people named in those events."""
    people = state.people
    events = onset(state).get("mood_onset_events") or ""
    in_events = [p for p in people if events and _named_in(events, p)]
    if area == problem_areas.GRIEF:
        return [p for p in people if p.deceased] or [
            p for p in people if problem_areas.mentions_death(p)] or [p for p in in_events if p.deceased]
    reasons = next((s.reasons for s in scores if s.area == area), [])
    named = [p for p in people if not p.deceased and any(f" {p.name} " in f" {r} " for r in reasons)]
    if area == problem_areas.DISPUTE:
        return named or [p for p in in_events if not p.deceased]
    return [p for p in in_events if not p.deceased]


def _names(people: list[PersonEntry]) -> str:
    names = [p.name for p in people[:3]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def link_sentence(state: JourneyState, mood: Optional[int]) -> str:
    """The mood and its link to events: 'You told me when your low mood began (“around March”) and what was
    happening with people then (“Dana and I kept fighting”). Your mood now is about 3 out of 10.'
    The person's words are in brackets, so the sentence reads right whatever form the answer took."""
    told = onset(state)
    parts = []
    if told.get("mood_onset") and told.get("mood_onset_events"):
        parts.append(f"You told me when your low mood began ({quote(told['mood_onset'])}) and what was happening "
                     f"with people then ({quote(told['mood_onset_events'])}).")
    elif told.get("mood_onset"):
        parts.append(f"You told me when your low mood began ({quote(told['mood_onset'])}).")
    if mood is not None:
        parts.append(f"Your mood now is about {mood} out of 10.")
    return " ".join(parts) or "You've told me how you feel and who matters in your life."


def area_sentence(state: JourneyState, scores: list[problem_areas.AreaScore]) -> str:
    """The focus with its people and stage: 'Much of it seems to come from a role dispute with Dana:
    you're stuck and not talking.' Then what they expect of each other, in the person's words."""
    focus = state.focus
    who = people_for(state, focus, scores)
    if focus == problem_areas.GRIEF:
        lost = f"grief for {_names(who)}, who died" if who and all(p.deceased for p in who) else (
            f"grief for {_names(who)}" if who else "grief for someone who died")
        text = f"Much of it seems to come from {lost}."
    elif focus == problem_areas.DISPUTE:
        stage = STAGE_WORDS.get(state.dispute_stage or "")
        text = (f"Much of it seems to come from a role dispute with {_names(who) if who else 'someone close'}"
                + (f": {stage}." if stage else "."))
        expected = next((p for p in who if p.expectations), None)
        if expected:
            text += (f" About what you and {expected.name} expect of each other, you said "
                     f"{quote(expected.expectations)}.")
    elif focus == problem_areas.TRANSITION:
        text = "Much of it seems to come from a role transition: a big change in your life" + (
            f", and how it changed things with {_names(who)}." if who else ".")
    elif focus == problem_areas.DEFICITS:
        text = "Much of it seems to come from feeling alone, or finding it hard to get close to people."
    else:
        text = "Much of what you shared is about the people in your life."
    second = state.second_focus
    if second in problem_areas.AREAS and second != focus:
        text += f" It also touches on {problem_areas.LABELS[second].split(' (')[0].lower()}."
    return text


def text(state: JourneyState, scores: list[problem_areas.AreaScore], mood: Optional[int]) -> str:
    """The whole summary, as saved (the dashboard shows it; `{formulation}` in later messages)."""
    return " ".join((link_sentence(state, mood), area_sentence(state, scores), WORK))
