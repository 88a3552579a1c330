"""All reads and writes of the app tables go through `AppStore`: one place, a session per call."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, inspect, select, text, update

from bot.handoff.request import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import Handoff, Journey, OutboxMessage, Person, ReviewFlag, utcnow

OPEN_STATUSES = ("requested", "taken")
# Most urgent first, as in the crisis lexicon's priority (bot/crisis/lexicon.yml).
CATEGORY_URGENCY = ("overdose", "suicide", "abuse", "harm_to_others", "self_harm", "unspecified")

# Rasa's SQLTrackerStore keeps transcripts in its `events` table, in the same database.
COUNT_TRACKER_EVENTS = text("SELECT COUNT(*) FROM events WHERE sender_id = :sender_id")
SELECT_TRACKER_EVENTS = text(
    "SELECT data FROM events WHERE sender_id = :sender_id AND type_name IN ('user', 'bot') ORDER BY id"
)


@dataclass(frozen=True)
class PersonRecord:
    id: int
    channel: str
    sender_id: str
    display_name: str | None


@dataclass(frozen=True)
class HandoffRecord:
    id: int
    channel: str
    sender_id: str
    category: str
    locale: str
    message: str
    status: str
    created_at: datetime
    taken_by: str | None
    priority: int = 1
    person_safe_at: datetime | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    handoff_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def _handoff_record(row: Handoff) -> HandoffRecord:
    return HandoffRecord(
        row.id, row.channel, row.sender_id, row.category, row.locale, row.message,
        row.status, row.created_at, row.taken_by, row.priority or 1, row.person_safe_at, row.escalated_at,
    )


def _transcript_line(event: dict[str, Any]) -> dict[str, Any]:
    """One user or bot event as a transcript line."""
    if event.get("event") == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        crisis = intent.get("name") == "crisis"
        return {
            "from": "person", "text": event.get("text") or "", "timestamp": event.get("timestamp"),
            "intent": intent.get("name"), "confidence": intent.get("confidence"),
            "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse.get("entities") or []],
            "crisis": crisis, "crisis_category": intent.get("crisis_category") if crisis else None,
            "channel": event.get("input_channel"),
        }
    staff = (event.get("metadata") or {}).get("from_staff")
    payload = event.get("data") if isinstance(event.get("data"), dict) else {}
    custom = payload.get("custom")
    return {
        "from": "staff" if staff else "assistant", "staff": staff, "text": event.get("text") or "",
        "timestamp": event.get("timestamp"), "data": payload,
        "custom_type": custom.get("type") if isinstance(custom, dict) else None,
        "buttons": [b.get("title") for b in payload.get("buttons") or []],
    }


def _urgency(category: str | None) -> int:
    return CATEGORY_URGENCY.index(category) if category in CATEGORY_URGENCY else len(CATEGORY_URGENCY)


def _record(person: Person) -> PersonRecord:
    return PersonRecord(person.id, person.channel, person.sender_id, person.display_name)


class AppStore:
    """Repository of the assistant's data; `url` defaults to `DATABASE_URL`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    @staticmethod
    def _get_or_create_person(session, channel: str, sender_id: str) -> Person:
        person = session.execute(
            select(Person).where(Person.channel == channel, Person.sender_id == sender_id)
        ).scalar_one_or_none()
        if person is None:
            person = Person(channel=channel, sender_id=sender_id)
            session.add(person)
        person.last_seen_at = utcnow()
        session.flush()
        return person

    def touch_person(self, channel: str, sender_id: str) -> PersonRecord:
        """Get or create the person for this conversation and mark them as seen now."""
        with session_scope(self.url) as session:
            return _record(self._get_or_create_person(session, channel, sender_id))

    def find_person(self, channel: str, sender_id: str) -> PersonRecord | None:
        with session_scope(self.url) as session:
            person = session.execute(
                select(Person).where(Person.channel == channel, Person.sender_id == sender_id)
            ).scalar_one_or_none()
            return _record(person) if person else None

    def set_display_name(self, channel: str, sender_id: str, name: str | None) -> None:
        with session_scope(self.url) as session:
            person = session.execute(
                select(Person).where(Person.channel == channel, Person.sender_id == sender_id)
            ).scalar_one()
            person.display_name = name

    def delete_person_data(self, sender_id: str) -> int:
        """Remove every app row of this conversation's person, on any channel; returns rows removed.

        Crisis hand-off records are kept: the clinic must be able to show how it responded.
        They are detached from the person and their message text is blanked.
        """
        with session_scope(self.url) as session:
            for row in session.execute(
                select(Handoff).where(Handoff.sender_id == sender_id)
            ).scalars():
                row.person_id = None
                row.message = "[deleted at the person's request]"
            session.execute(delete(ReviewFlag).where(ReviewFlag.sender_id == sender_id))
            journeys = session.execute(delete(Journey).where(Journey.sender_id == sender_id))  # cascades
            result = session.execute(delete(Person).where(Person.sender_id == sender_id))
            return (result.rowcount or 0) + (journeys.rowcount or 0)

    # --- crisis hand-offs -------------------------------------------------------------------

    def open_handoff(self, request: HandoffRequest, notify: list[str]) -> int:
        """Record a hand-off and one outbox row per notification kind, in one transaction.

        A conversation has at most one open hand-off: a new risk message while one is open is added
        to it (its priority rises, its category becomes the more urgent one, "safe" is cleared), and
        staff are notified again only when it was not yet taken."""
        with session_scope(self.url) as session:
            person = self._get_or_create_person(session, request.channel, request.sender_id)
            current = session.execute(
                select(Handoff).where(Handoff.sender_id == request.sender_id, Handoff.status.in_(OPEN_STATUSES))
                .order_by(Handoff.id.desc())).scalars().first()
            if current is not None:
                current.priority = (current.priority or 1) + 1
                current.message = (current.message + "\n---\n" + request.message)[-8000:]
                current.last_message_at = datetime.fromisoformat(request.created_at)
                current.person_safe_at = None
                if _urgency(request.category) < _urgency(current.category):
                    current.category = request.category
                return current.id
            handoff = Handoff(
                person_id=person.id, channel=request.channel, sender_id=request.sender_id,
                category=request.category, locale=request.locale, message=request.message,
                status="requested", created_at=datetime.fromisoformat(request.created_at),
            )
            session.add(handoff)
            session.flush()
            for kind in notify:
                payload = {
                    "event": "crisis_handoff",
                    "handoff_id": handoff.id,
                    "category": request.category,
                    "channel": request.channel,
                    "created_at": request.created_at,
                }
                session.add(OutboxMessage(handoff_id=handoff.id, kind=kind, payload=json.dumps(payload)))
            return handoff.id

    def close_open_handoffs(self, sender_id: str, staff: str | None = None) -> list[int]:
        """Close every open hand-off of the conversation; returns their ids."""
        with session_scope(self.url) as session:
            rows = session.execute(select(Handoff).where(Handoff.sender_id == sender_id,
                                                         Handoff.status.in_(OPEN_STATUSES))).scalars().all()
            for row in rows:
                row.status, row.closed_at = "closed", utcnow()
                row.taken_by = row.taken_by or staff
            return [row.id for row in rows]

    def mark_person_safe(self, sender_id: str) -> None:
        """The person answered "No, I'm safe" while their hand-off waited: it stays open, marked so."""
        with session_scope(self.url) as session:
            for row in session.execute(select(Handoff).where(Handoff.sender_id == sender_id,
                                                             Handoff.status == "requested")).scalars():
                row.person_safe_at = utcnow()

    def flag_for_review(self, channel: str, sender_id: str, kind: str, message: str) -> int:
        """A message for staff to look at (low priority, not a hand-off)."""
        with session_scope(self.url) as session:
            flag = ReviewFlag(channel=channel, sender_id=sender_id, kind=kind, message=(message or "")[:4000])
            session.add(flag)
            session.flush()
            return flag.id

    def review_flags(self, sender_id: str | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        query = select(ReviewFlag).order_by(ReviewFlag.created_at.desc())
        if sender_id:
            query = query.where(ReviewFlag.sender_id == sender_id)
        if open_only:
            query = query.where(ReviewFlag.reviewed_at.is_(None))
        with session_scope(self.url) as session:
            return [{"id": f.id, "channel": f.channel, "sender_id": f.sender_id, "kind": f.kind,
                     "message": f.message, "created_at": f.created_at, "reviewed_at": f.reviewed_at}
                    for f in session.execute(query).scalars()]

    def list_handoffs(self, status: str | None = None) -> list[HandoffRecord]:
        query = select(Handoff).order_by(Handoff.created_at.desc())
        if status:
            query = query.where(Handoff.status == status)
        with session_scope(self.url) as session:
            return [_handoff_record(row) for row in session.execute(query).scalars()]

    def get_handoff(self, handoff_id: int) -> HandoffRecord | None:
        with session_scope(self.url) as session:
            row = session.get(Handoff, handoff_id)
            return _handoff_record(row) if row else None

    def set_handoff_status(self, handoff_id: int, status: str, staff: str | None = None) -> None:
        """Move a hand-off to "taken" (by `staff`) or "closed"."""
        with session_scope(self.url) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise KeyError(handoff_id)
            row.status = status
            if status == "taken":
                row.taken_by, row.taken_at = staff, utcnow()
            elif status == "closed":
                row.closed_at = utcnow()

    def escalate_overdue_handoffs(self, waiting_since: datetime, now: datetime, notify: list[str]) -> list[int]:
        """Escalate every hand-off still waiting (requested: neither taken nor closed) since before
        `waiting_since`: mark it escalated and queue one escalation notification per kind in `notify`.
        Returns the ids this call escalated.

        Each hand-off is escalated at most once, however many workers run this at the same time: the
        conditional UPDATE ... WHERE escalated_at IS NULL changes the row for one of them only, and only
        that one writes the outbox rows, in the same transaction. A hand-off merged into later (priority
        raised) keeps its `escalated_at`, so it does not fire again. The payload never holds the
        person's words."""
        now = now.astimezone(timezone.utc)
        waiting_since = waiting_since.astimezone(timezone.utc)
        due = (Handoff.status == "requested", Handoff.escalated_at.is_(None), Handoff.created_at <= waiting_since)
        with session_scope(self.url) as session:
            candidates = session.execute(select(Handoff.id).where(*due).order_by(Handoff.id)).scalars().all()
        escalated = []
        for handoff_id in candidates:
            with session_scope(self.url) as session:
                result = session.execute(
                    update(Handoff).where(Handoff.id == handoff_id, *due).values(escalated_at=now)
                    .execution_options(synchronize_session=False))
                if result.rowcount != 1:
                    continue  # taken, closed or escalated by another worker meanwhile
                row = session.get(Handoff, handoff_id)
                created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
                payload = {
                    "event": "crisis_handoff_escalation",
                    "escalation": True,
                    "handoff_id": row.id,
                    "category": row.category,
                    "priority": row.priority or 1,
                    "channel": row.channel,
                    "created_at": created.isoformat(),
                    "escalated_at": now.isoformat(),
                    "waited_minutes": int((now - created).total_seconds() // 60),
                    "person_said_safe": row.person_safe_at is not None,
                }
                for kind in notify:
                    session.add(OutboxMessage(handoff_id=row.id, kind=kind, payload=json.dumps(payload)))
            escalated.append(handoff_id)
        return escalated

    # --- staff-notification outbox ----------------------------------------------------------

    def claim_due_outbox(self, now: datetime, limit: int = 20) -> list[OutboxRecord]:
        """Claim pending notifications that are due: each is handed to one worker only."""
        with session_scope(self.url) as session:
            ids = session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).scalars().all()
            claimed = []
            for outbox_id in ids:
                result = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "pending")
                    .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=now)
                )
                if result.rowcount == 1:
                    row = session.get(OutboxMessage, outbox_id)
                    claimed.append(OutboxRecord(row.id, row.handoff_id, row.kind,
                                                json.loads(row.payload), row.attempts))
            return claimed

    def finish_outbox(self, outbox_id: int, error: str | None, retry_at: datetime | None) -> None:
        """Mark a claimed notification delivered, or pending again at `retry_at` after `error`."""
        with session_scope(self.url) as session:
            row = session.get(OutboxMessage, outbox_id)
            if error is None:
                row.status, row.delivered_at, row.last_error = "delivered", utcnow(), None
            else:
                row.status, row.last_error = "pending", error[:2000]
                row.next_attempt_at = retry_at

    def release_stale_claims(self, older_than: datetime) -> int:
        """Put back notifications a crashed worker claimed but never finished."""
        with session_scope(self.url) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= older_than)
                .values(status="pending")
            )
            return result.rowcount or 0

    def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        """Person, assistant and staff messages in order, from Rasa's events, with their time,
        NLU details and crisis category (empty while Rasa has not created its table yet)."""
        with session_scope(self.url) as session:
            if not inspect(session.get_bind()).has_table("events"):
                return []
            rows = session.execute(SELECT_TRACKER_EVENTS, {"sender_id": sender_id}).scalars()
            events = [json.loads(row or "{}") for row in rows]
        return [_transcript_line(event) for event in events if event.get("event") in ("user", "bot")]

    def count_tracker_events(self, sender_id: str) -> int:
        """How many transcript events Rasa has stored for this conversation."""
        with session_scope(self.url) as session:
            return session.execute(COUNT_TRACKER_EVENTS, {"sender_id": sender_id}).scalar_one()
