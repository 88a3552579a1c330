"""All reads and writes of the app tables go through `AppStore`: one place, a session per call."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, text

from bot.store.db import session_scope
from bot.store.models import Person, utcnow

# Rasa's SQLTrackerStore keeps transcripts in its `events` table, in the same database.
COUNT_TRACKER_EVENTS = text("SELECT COUNT(*) FROM events WHERE sender_id = :sender_id")


@dataclass(frozen=True)
class PersonRecord:
    id: int
    channel: str
    sender_id: str
    display_name: str | None


def _record(person: Person) -> PersonRecord:
    return PersonRecord(person.id, person.channel, person.sender_id, person.display_name)


class AppStore:
    """Repository of the assistant's data; `url` defaults to `DATABASE_URL`."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def touch_person(self, channel: str, sender_id: str) -> PersonRecord:
        """Get or create the person for this conversation and mark them as seen now."""
        with session_scope(self.url) as session:
            person = session.execute(
                select(Person).where(Person.channel == channel, Person.sender_id == sender_id)
            ).scalar_one_or_none()
            if person is None:
                person = Person(channel=channel, sender_id=sender_id)
                session.add(person)
            person.last_seen_at = utcnow()
            session.flush()
            return _record(person)

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
        """Remove every app row of this conversation's person, on any channel; returns rows removed."""
        with session_scope(self.url) as session:
            result = session.execute(delete(Person).where(Person.sender_id == sender_id))
            return result.rowcount or 0

    def count_tracker_events(self, sender_id: str) -> int:
        """How many transcript events Rasa has stored for this conversation."""
        with session_scope(self.url) as session:
            return session.execute(COUNT_TRACKER_EVENTS, {"sender_id": sender_id}).scalar_one()
