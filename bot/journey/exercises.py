"""Middle-phase exercises for each focus area, one per weekly check-in, in rotation.

Each exercise has two prompts, domain responses named `utter_journey_ex_<exercise>_<n>`; the
techniques follow the IPT manuals (Weissman, Markowitz & Klerman; WHO Group IPT).
"""
from __future__ import annotations

from bot.journey.problem_areas import DEFICITS, DISPUTE, GRIEF, TRANSITION

EXERCISES = {
    # the story of the relationship; good and hard memories; re-engaging with others
    GRIEF: ("grief_story", "grief_memories", "grief_reengage"),
    # expectations on both sides; communication analysis; role-play rehearsal
    DISPUTE: ("dispute_expectations", "dispute_communication", "dispute_roleplay"),
    # old and new role; losses and gains; skills and support for the new role
    TRANSITION: ("transition_old_new", "transition_losses_gains", "transition_skills"),
    # past relationships and patterns; one small step to reach out
    DEFICITS: ("deficits_past", "deficits_patterns", "deficits_reach_out"),
}
PROMPTS_PER_EXERCISE = 2


def exercise_for(area: str, week: int) -> str:
    """The exercise for the `week`-th weekly check-in (0-based) in `area`, rotating."""
    options = EXERCISES.get(area) or EXERCISES[DEFICITS]
    return options[week % len(options)]


def prompt_response(exercise: str, n: int) -> str:
    return f"utter_journey/ex_{exercise}_{n}"
