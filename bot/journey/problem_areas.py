"""The four IPT problem areas, and a transparent score for each from the screening and the inventory.

Scores are a conversation aid, not an assessment: each point comes with the reason shown to the
person, who chooses or confirms the focus (Weissman, Markowitz & Klerman; WHO Group IPT manual).
"""
from __future__ import annotations

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
_QUESTION_TOPIC = {"screen_loss": "a death or loss", "screen_dispute": "conflict with someone important",
                   "screen_transition": "a big change in your life", "screen_isolation": "feeling alone"}
# Reason keys are rendered with `reason_text`; the inventory's words are quoted back.
_LOSS_WORDS = ("died", "passed", "death", "lost", "miss", "funeral", "gone", "grief", "passed away")
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


def score(screening: Mapping[str, Optional[bool]], people: Iterable[PersonEntry]) -> list[AreaScore]:
    """Every area with its points and reasons, highest first (ties in the order of AREAS)."""
    scores = {area: AreaScore(area) for area in AREAS}
    for key, area in SCREENING.items():
        if screening.get(key):
            scores[area].score += 2
            scores[area].reasons.append(f"you said yes to the question about {_QUESTION_TOPIC[key]}")
    people = list(people)
    for person in people:
        if _mentions(person.hard, _LOSS_WORDS) or _mentions(person.relationship, ("late ", "deceased")):
            scores[GRIEF].score += 1
            scores[GRIEF].reasons.append(f"what you said about {person.name} mentions a loss")
        if _mentions(person.hard, _CONFLICT_WORDS) or (person.hard and person.supported == "no"
                                                        and person.closeness == "inner"):
            scores[DISPUTE].score += 1
            scores[DISPUTE].reasons.append(f"things with {person.name} are hard and they are close to you")
    close = [p for p in people if p.closeness == "inner"]
    supported = [p for p in people if p.supported != "no"]
    if people and len(close) <= 1:
        scores[DEFICITS].score += 1
        scores[DEFICITS].reasons.append("your inner circle has one person or fewer")
    if people and not supported:
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
