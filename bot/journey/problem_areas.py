"""The four IPT problem areas, and a transparent score for each from the screening and the inventory.

Scores are a conversation aid, not an assessment: each point comes with the reason shown to the
person, who chooses or confirms the focus (Weissman, Markowitz & Klerman; WHO Group IPT manual).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from bot.journey.state import PersonEntry

GRIEF, DISPUTE, TRANSITION, DEFICITS = "grief", "role_dispute", "role_transition", "interpersonal_deficits"
AREAS = (GRIEF, DISPUTE, TRANSITION, DEFICITS)
LABELS = {GRIEF: "Grief", DISPUTE: "Role dispute", TRANSITION: "Role transition",
          DEFICITS: "Loneliness and isolation (interpersonal deficits)"}
IN_SHORT = {GRIEF: "Grief: someone I love has died", DISPUTE: "Role dispute: a clash with someone close",
            TRANSITION: "Role transition: a big change in my life", DEFICITS: "Loneliness: feeling alone"}
SYNONYMS = {
    GRIEF: ("grief", "loss", "death", "bereavement", "someone died", "mourning", "grieving"),
    DISPUTE: ("role dispute", "dispute", "disputes", "conflict", "disagreement", "arguing", "fights", "role disputes"),
    TRANSITION: ("role transition", "transition", "transitions", "change", "life change", "new role",
                 "role transitions"),
    DEFICITS: ("interpersonal deficits", "deficits", "isolation", "loneliness", "lonely", "alone",
               "sensitivity", "isolation and loneliness", "loneliness and isolation"),
}
SCREENING = {"screen_loss": GRIEF, "screen_dispute": DISPUTE, "screen_transition": TRANSITION,
             "screen_isolation": DEFICITS}
DISPUTE_STAGES = {
    "renegotiation": ("renegotiation", "renegotiating", "still talking", "talking", "trying", "working on it"),
    "impasse": ("impasse", "stuck", "stalled", "silence", "not talking", "stopped talking", "gave up talking"),
    "dissolution": ("dissolution", "ending", "over", "leaving", "split", "breaking up", "separating"),
}
_QUESTION_TOPIC = {"screen_loss": "the death of someone important", "screen_dispute": "conflict with someone important",
                   "screen_transition": "a big change in your life", "screen_isolation": "feeling alone"}
# Reason keys are rendered with `reason_text`; the inventory's words are quoted back.
# Grief is for a death only (WHO Group IPT manual 2016: "grief: the death of a loved one"; ISIPT, "Key IPT
# strategies": grief when the onset is associated with the death of a person close to the patient). Other
# losses (a job, a break-up, a move, one's health) are role transitions (Weissman, Markowitz & Klerman), so
# "lost my job" and "I miss how it was" do not score grief.
_DEATH_WORDS = re.compile(r"\b(?:died|dies|dead(?![-\w])|death|passed away|passed on|(?:he|she|they) passed|funeral|"
                          r"grave|grief|grieving|bereave\w*|widow\w*|deceased|killed|suicide)\b", re.IGNORECASE)
_CHANGE_WORDS = re.compile(r"\b(?:lost (?:my|his|her|their|our) (?:job|work|home|house)|laid off|redundan\w*|fired|"
                           r"retire\w*|broke up|break ?up|split up|divorc\w*|separated|moved (?:away|out|in)|"
                           r"new (?:baby|job|city|school)|had a baby|pregnan\w*|diagnos\w*|graduat\w*)\b",
                           re.IGNORECASE)
_CONFLICT_WORDS = ("argu", "fight", "row ", "rows", "conflict", "yell", "shout", "disagree", "criticis",
                   "blame", "controlling", "doesn't listen", "don't listen", "won't listen", "tension")


@dataclass
class AreaScore:
    area: str
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.area]


def _mentions(text: Optional[str], words: Iterable[str]) -> bool:
    lowered = (text or "").lower()
    return any(word in lowered for word in words)


def mentions_death(person: PersonEntry) -> bool:
    """The person has died, or what was said about them speaks of a death ("my late grandfather")."""
    return person.deceased or bool(_DEATH_WORDS.search(person.hard or "")) or _mentions(
        person.relationship, ("late ", "deceased"))


def score(screening: Mapping[str, Optional[bool]], people: Iterable[PersonEntry]) -> list[AreaScore]:
    """Every area with its points and reasons, highest first (ties in the order of AREAS)."""
    scores = {area: AreaScore(area) for area in AREAS}
    for key, area in SCREENING.items():
        if screening.get(key):
            scores[area].score += 2
            scores[area].reasons.append(f"you said yes to the question about {_QUESTION_TOPIC[key]}")
    people = list(people)
    for person in people:
        if person.deceased:
            scores[GRIEF].score += 1
            scores[GRIEF].reasons.append(f"{person.name} has died")
            continue  # the questions about them were about a loss: they count for grief only
        if mentions_death(person):
            scores[GRIEF].score += 1
            scores[GRIEF].reasons.append(f"what you said about {person.name} mentions a death")
        elif _CHANGE_WORDS.search(" ".join(filter(None, (person.hard, person.change)))):
            scores[TRANSITION].score += 1
            scores[TRANSITION].reasons.append(f"what you said about {person.name} mentions a big change")
        if _mentions(person.hard, _CONFLICT_WORDS) or (person.hard and person.supported == "no"
                                                        and person.closeness == "inner"):
            scores[DISPUTE].score += 1
            scores[DISPUTE].reasons.append(f"things with {person.name} are hard and they are close to you")
    alive = [p for p in people if not p.deceased]  # support and closeness now are about the living
    close = [p for p in alive if p.closeness == "inner"]
    supported = [p for p in alive if p.supported != "no"]
    if people and len(close) <= 1:
        scores[DEFICITS].score += 1
        scores[DEFICITS].reasons.append("your inner circle has one person or fewer")
    if alive and not supported:
        scores[DEFICITS].score += 1
        scores[DEFICITS].reasons.append("you don't feel supported by anyone you listed")
    return sorted(scores.values(), key=lambda s: (-s.score, AREAS.index(s.area)))


def clear_leader(scores: list[AreaScore]) -> Optional[AreaScore]:
    """The area that scored highest on its own, or None for a tie at the top or all scores at zero
    (then the person chooses, with each area explained: the scores alone do not decide)."""
    if not scores or scores[0].score == 0 or (len(scores) > 1 and scores[1].score == scores[0].score):
        return None
    return scores[0]


def summary(scores: list[AreaScore]) -> str:
    """One line per area: "Role dispute: 3 (reason; reason)" — data for the response that shows it."""
    lines = []
    for item in scores:
        why = "; ".join(item.reasons) if item.reasons else "nothing in your answers points here"
        lines.append(f"• {item.label}: {item.score} ({why})")
    return "\n".join(lines)
