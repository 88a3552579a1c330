"""The journey as plain data: what the engine reads and changes, and the repository saves."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

INITIAL, MIDDLE, TERMINATION, COMPLETED = "initial", "middle", "termination", "completed"
PHASES = (INITIAL, MIDDLE, TERMINATION, COMPLETED)
DEFAULT_WEEKS, MIN_WEEKS, MAX_WEEKS = 12, 12, 16


@dataclass
class PersonEntry:
    """One important person in the interpersonal inventory."""

    name: str
    relationship: Optional[str] = None
    closeness: Optional[str] = None  # inner / middle / outer
    contact: Optional[str] = None
    good: Optional[str] = None
    hard: Optional[str] = None
    change: Optional[str] = None
    supported: Optional[str] = None  # yes / sometimes / no
    # What each expects of the other, and whether it is met (Weissman, Markowitz & Klerman, the
    # interpersonal inventory: "mutual expectations ... are they fulfilled?"): the ground of a role dispute.
    expectations: Optional[str] = None
    # The person has died. Then `good`, `hard` and `change` hold what the person misses, what was hard
    # between them and what is hardest now; there is no contact, support or expectations to ask about.
    deceased: bool = False
    id: Optional[int] = None


@dataclass
class CheckinEntry:
    """A mood check-in (initial, weekly or final), with the PHQ-9 answers when given."""

    kind: str
    mood: Optional[int] = None
    phq9: Optional[list[Optional[int]]] = None
    phq9_total: Optional[int] = None
    week: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    at: Optional[datetime] = None
    id: Optional[int] = None


@dataclass
class JourneyState:
    """Everything the journey keeps for one conversation (sender id)."""

    sender_id: str
    display_name: Optional[str] = None
    phase: str = INITIAL
    activity: Optional[str] = None  # the activity in progress, e.g. "inventory"
    step: Optional[str] = None  # its current step, e.g. "person_name"
    retries: int = 0
    draft: dict[str, Any] = field(default_factory=dict)  # answers of the activity in progress
    paused: Optional[dict[str, Any]] = None  # an activity set aside for an edit, to resume after
    done: list[str] = field(default_factory=list)  # activities completed, in order
    screening: dict[str, Any] = field(default_factory=dict)
    focus: Optional[str] = None
    second_focus: Optional[str] = None
    dispute_stage: Optional[str] = None
    formulation: Optional[str] = None
    ending: dict[str, Any] = field(default_factory=dict)
    goals: list[str] = field(default_factory=list)
    people: list[PersonEntry] = field(default_factory=list)
    checkins: list[CheckinEntry] = field(default_factory=list)
    weeks_planned: int = DEFAULT_WEEKS
    week: int = 0  # middle-phase check-ins completed
    phase_dates: dict[str, str] = field(default_factory=dict)  # phase -> ISO date it started
    image_token: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    removed_people: list[int] = field(default_factory=list)  # ids to delete on save
    clear_checkins: bool = False  # set by "start over": delete the saved check-ins on save

    @property
    def started(self) -> bool:
        return bool(self.done or self.activity or self.people or self.checkins)

    def person_named(self, name: str) -> Optional[PersonEntry]:
        wanted = name.strip().lower()
        return next((p for p in self.people if p.name.lower() == wanted), None)
