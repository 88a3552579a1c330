"""Middle-phase exercises for each focus area, one per weekly check-in, in rotation.

Each exercise has two prompts, domain responses named `utter_journey/ex_<exercise>_<n>`. There are
eight per area, so none repeats within eight weeks (a 12-16 week program sees each once or twice).
The techniques follow the IPT manuals: Weissman, Markowitz & Klerman, "Comprehensive Guide to
Interpersonal Psychotherapy" (ch. 4-7: the strategies per problem area; ch. 9-10: communication
analysis, decision analysis, role play); Stuart & Robertson, "Interpersonal Psychotherapy: A
Clinician's Guide" (the interpersonal incident, problem solving, the grief story); WHO Group IPT
manual (2016: the middle sessions per problem area, "one small step" between sessions).
"""
from __future__ import annotations

from bot.journey.problem_areas import DEFICITS, DISPUTE, GRIEF, TRANSITION

EXERCISES = {
    # Grief: facilitate mourning (tell the story of the relationship and of the death, reconstruct it with
    # its good and hard sides, mark the loss) and then help the person re-engage with others.
    GRIEF: ("grief_story", "grief_memories", "grief_hard_memories", "grief_last_time", "grief_reconstruct",
            "grief_rituals", "grief_letter", "grief_reengage"),
    # Role dispute: the stage, non-reciprocal expectations, communication analysis of a recent talk,
    # decision analysis of the options, role play, a clear request, listening, a small agreement.
    DISPUTE: ("dispute_expectations", "dispute_communication", "dispute_decision", "dispute_stage",
              "dispute_i_statement", "dispute_roleplay", "dispute_listening", "dispute_agreement"),
    # Role transition: mourn and accept the old role (its good and hard), weigh the new one, losses and gains,
    # the feelings about the change, the skills and support the new role needs, small steps, new ties.
    TRANSITION: ("transition_old_role", "transition_new_role", "transition_losses_gains", "transition_feelings",
                 "transition_skills", "transition_support", "transition_small_steps", "transition_reconnect"),
    # Interpersonal deficits (sensitivity / isolation): review past relationships and their patterns,
    # communication analysis, practising a contact, role play, building on one relationship, a group.
    DEFICITS: ("deficits_past", "deficits_patterns", "deficits_communication", "deficits_practice",
               "deficits_reach_out", "deficits_roleplay", "deficits_build_one", "deficits_group"),
}
PROMPTS_PER_EXERCISE = 2


def exercise_for(area: str, week: int) -> str:
    """The exercise for the `week`-th weekly check-in (0-based) in `area`, rotating."""
    options = EXERCISES.get(area) or EXERCISES[DEFICITS]
    return options[week % len(options)]


def prompt_response(exercise: str, n: int) -> str:
    return f"utter_journey/ex_{exercise}_{n}"
