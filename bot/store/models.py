"""The app's tables. Rasa's own `events` table (the transcripts) lives in the same database."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Person(Base):
    """Someone who talks to the assistant, keyed by the channel and the channel's sender id."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("channel", "sender_id", name="uq_person_channel_sender"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    display_name = Column(String(80))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Handoff(Base):
    """A crisis hand-off: the person, when, which category, the message, and where it stands."""

    __tablename__ = "handoff"

    id = Column(Integer, primary_key=True)
    person_id = Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), index=True)
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    category = Column(String(32), nullable=False)
    locale = Column(String(8), nullable=False)
    message = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="requested", index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    taken_by = Column(String(120))
    taken_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    priority = Column(Integer, nullable=False, default=1, server_default="1")  # risk messages in it
    last_message_at = Column(DateTime(timezone=True))
    person_safe_at = Column(DateTime(timezone=True))  # answered "No, I'm safe" while waiting
    escalated_at = Column(DateTime(timezone=True))  # not taken in time: the second notification was queued


class ReviewFlag(Base):
    """A message for staff to look at, not a hand-off: the safety question answered "no", or a risk
    message that arrived while staff held the conversation."""

    __tablename__ = "review_flag"

    id = Column(Integer, primary_key=True)
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(32), nullable=False)  # safety_check_no, risk_while_taken
    message = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reviewed_at = Column(DateTime(timezone=True))
    reviewed_by = Column(String(120))


class OutboxMessage(Base):
    """A staff notification waiting to be delivered (webhook or e-mail), retried with back-off."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoff.id", ondelete="CASCADE"), index=True)
    kind = Column(String(16), nullable=False)  # "webhook" or "email"
    payload = Column(Text, nullable=False)  # JSON
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True))


class Journey(Base):
    """A person's IPT journey (keyed by conversation id): phase, activity in progress, focus, goals.

    `draft`, `paused`, `done`, `screening`, `ending`, `goals` and `phase_dates` hold JSON.
    """

    __tablename__ = "journey"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, unique=True)
    display_name = Column(String(80))
    phase = Column(String(16), nullable=False, default="initial", index=True)
    activity = Column(String(32))
    step = Column(String(40))
    retries = Column(Integer, nullable=False, default=0)
    draft = Column(Text, nullable=False, default="{}")
    paused = Column(Text)
    done = Column(Text, nullable=False, default="[]")
    screening = Column(Text, nullable=False, default="{}")
    focus = Column(String(32), index=True)
    second_focus = Column(String(32))
    dispute_stage = Column(String(16))
    formulation = Column(Text)
    goals = Column(Text, nullable=False, default="[]")
    ending = Column(Text, nullable=False, default="{}")
    weeks_planned = Column(Integer, nullable=False, default=12)
    week = Column(Integer, nullable=False, default=0)
    phase_dates = Column(Text, nullable=False, default="{}")
    image_token = Column(String(64), unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class JourneyPerson(Base):
    """One person in the interpersonal inventory."""

    __tablename__ = "journey_person"

    id = Column(Integer, primary_key=True)
    journey_id = Column(Integer, ForeignKey("journey.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(80), nullable=False)
    relationship = Column(Text)
    closeness = Column(String(16))
    contact = Column(Text)
    good = Column(Text)
    hard = Column(Text)
    change = Column(Text)
    supported = Column(String(16))
    expectations = Column(Text)  # what each expects of the other, and whether it is met
    deceased = Column(Boolean, nullable=False, default=False, server_default=false())  # the person has died
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class JourneyCheckin(Base):
    """A mood check-in: initial (with the optional PHQ-9) or weekly (with the exercise answers)."""

    __tablename__ = "journey_checkin"

    id = Column(Integer, primary_key=True)
    journey_id = Column(Integer, ForeignKey("journey.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    week = Column(Integer, nullable=False, default=0)
    mood = Column(Integer)
    phq9 = Column(Text)  # JSON list of nine 0–3 answers (null where skipped)
    phq9_total = Column(Integer)
    details = Column(Text, nullable=False, default="{}")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
