"""Loading and saving a `JourneyState` (bot.journey.state) in the journey tables, one session per call."""
from __future__ import annotations

import json
from typing import Any, Optional

from sqlalchemy import delete, select

from bot.journey import picture_token
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.store.db import session_scope
from bot.store.models import Journey, JourneyCheckin, JourneyPerson, utcnow

_JSON_FIELDS = ("draft", "done", "screening", "goals", "ending", "phase_dates")
_PLAIN_FIELDS = ("display_name", "phase", "activity", "step", "retries", "focus", "second_focus", "dispute_stage",
                 "formulation", "weeks_planned", "week", "image_token")
_PERSON_FIELDS = ("name", "relationship", "closeness", "contact", "good", "hard", "change", "supported",
                  "expectations", "deceased")


def _person(row: JourneyPerson) -> PersonEntry:
    person = PersonEntry(id=row.id, **{f: getattr(row, f) for f in _PERSON_FIELDS})
    person.deceased = bool(person.deceased)
    return person


def _checkin(row: JourneyCheckin) -> CheckinEntry:
    return CheckinEntry(id=row.id, kind=row.kind, week=row.week, mood=row.mood,
                        phq9=json.loads(row.phq9) if row.phq9 else None, phq9_total=row.phq9_total,
                        details=json.loads(row.details or "{}"), at=row.created_at)


def _state(row: Journey, people: list[JourneyPerson], checkins: list[JourneyCheckin]) -> JourneyState:
    state = JourneyState(sender_id=row.sender_id, created_at=row.created_at, updated_at=row.updated_at,
                         **{f: getattr(row, f) for f in _PLAIN_FIELDS},
                         **{f: json.loads(getattr(row, f)) for f in _JSON_FIELDS})
    state.paused = json.loads(row.paused) if row.paused else None
    state.people = [_person(p) for p in people]
    state.checkins = [_checkin(c) for c in checkins]
    return state


class JourneyStore:
    """Repository of journeys; `url` defaults to `DATABASE_URL`."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url

    def load(self, sender_id: str) -> JourneyState:
        """The saved journey, or a new (unsaved) one."""
        with session_scope(self.url) as session:
            row = session.execute(select(Journey).where(Journey.sender_id == sender_id)).scalar_one_or_none()
            if row is None:
                return JourneyState(sender_id=sender_id)
            return self._load_row(session, row)

    @staticmethod
    def _load_row(session, row: Journey) -> JourneyState:
        people = session.execute(select(JourneyPerson).where(JourneyPerson.journey_id == row.id)
                                 .order_by(JourneyPerson.position, JourneyPerson.id)).scalars().all()
        checkins = session.execute(select(JourneyCheckin).where(JourneyCheckin.journey_id == row.id)
                                   .order_by(JourneyCheckin.created_at, JourneyCheckin.id)).scalars().all()
        return _state(row, people, checkins)

    def by_image_token(self, token: str) -> Optional[JourneyState]:
        with session_scope(self.url) as session:
            row = session.execute(select(Journey).where(Journey.image_token == token)).scalar_one_or_none()
            return self._load_row(session, row) if row else None

    def save(self, state: JourneyState) -> JourneyState:
        """Write the whole state in one transaction; new people and check-ins get their ids."""
        with session_scope(self.url) as session:
            row = session.execute(select(Journey).where(Journey.sender_id == state.sender_id)).scalar_one_or_none()
            if row is None:
                row = Journey(sender_id=state.sender_id, created_at=utcnow())
                session.add(row)
            state.image_token = picture_token.renewed(state.image_token)  # a new one when missing or expired
            for f in _PLAIN_FIELDS:
                setattr(row, f, getattr(state, f))
            for f in _JSON_FIELDS:
                setattr(row, f, json.dumps(getattr(state, f), ensure_ascii=False))
            row.paused = json.dumps(state.paused, ensure_ascii=False) if state.paused else None
            row.updated_at = utcnow()
            session.flush()
            if state.removed_people:
                session.execute(delete(JourneyPerson).where(JourneyPerson.journey_id == row.id,
                                                            JourneyPerson.id.in_(state.removed_people)))
                state.removed_people = []
            if state.clear_checkins:
                session.execute(delete(JourneyCheckin).where(JourneyCheckin.journey_id == row.id))
                state.clear_checkins = False
            for position, person in enumerate(state.people):
                record = session.get(JourneyPerson, person.id) if person.id else None
                if record is None:
                    record = JourneyPerson(journey_id=row.id, created_at=utcnow())
                    session.add(record)
                record.position = position
                record.updated_at = utcnow()
                for f in _PERSON_FIELDS:
                    setattr(record, f, getattr(person, f))
                session.flush()
                person.id = record.id
            for checkin in state.checkins:
                if checkin.id is None:
                    record = JourneyCheckin(journey_id=row.id, kind=checkin.kind, week=checkin.week,
                                            mood=checkin.mood, phq9_total=checkin.phq9_total,
                                            phq9=json.dumps(checkin.phq9) if checkin.phq9 is not None else None,
                                            details=json.dumps(checkin.details, ensure_ascii=False),
                                            created_at=checkin.at or utcnow())
                    session.add(record)
                    session.flush()
                    checkin.id = record.id
            return state

    def delete(self, sender_id: str) -> int:
        """Remove the journey and everything in it (the person asked to delete their data)."""
        quiet = {"synchronize_session": False}  # SQLAlchemy cannot evaluate the subquery in Python
        with session_scope(self.url) as session:
            ids = select(Journey.id).where(Journey.sender_id == sender_id).scalar_subquery()
            session.execute(delete(JourneyCheckin).where(JourneyCheckin.journey_id.in_(ids)), execution_options=quiet)
            session.execute(delete(JourneyPerson).where(JourneyPerson.journey_id.in_(ids)), execution_options=quiet)
            return session.execute(delete(Journey).where(Journey.sender_id == sender_id),
                                   execution_options=quiet).rowcount or 0

    def summary(self, sender_id: str) -> Optional[dict[str, Any]]:
        """What the staff dashboard shows: inventory, focus, formulation, goals, check-ins."""
        state = self.load(sender_id)
        if state.created_at is None:
            return None
        return {
            "phase": state.phase, "activity": state.activity, "focus": state.focus,
            "second_focus": state.second_focus, "dispute_stage": state.dispute_stage,
            "formulation": state.formulation, "goals": state.goals, "week": state.week,
            "weeks_planned": state.weeks_planned, "display_name": state.display_name,
            "screening": state.screening, "ending": state.ending, "image_token": state.image_token,
            "inventory": [vars(p) for p in state.people],
            "checkins": [{"at": c.at, "kind": c.kind, "week": c.week, "mood": c.mood, "phq9": c.phq9_total,
                          "details": c.details} for c in state.checkins],
        }
