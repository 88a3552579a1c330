"""The app's tables. Rasa's own `events` table (the transcripts) lives in the same database."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint
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
