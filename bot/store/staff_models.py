"""Tables of the staff dashboard: accounts, sessions, the audit log, notes, review status and a
per-conversation summary of Rasa's `events` table (kept up to date by the app, for a fast list).

They share `Base` with the app tables, so Alembic sees them (migrations 0003, 0009).
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text

from bot.store.models import Base, utcnow

ROLES = ("admin", "clinician", "reviewer")
REVIEW_STATUSES = ("new", "reviewed", "follow_up")


class StaffUser(Base):
    __tablename__ = "staff_user"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = Column(DateTime(timezone=True))
    oidc_subject = Column(String(255))  # the identity provider's `sub`, bound at the first OIDC sign-in (0009)


class StaffApiToken(Base):
    """A named bearer token of the staff API, acting as its user (with the user's current role).
    Only the SHA-256 of the token is stored; the token itself is shown once, when it is made."""

    __tablename__ = "staff_api_token"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(80), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at = Column(DateTime(timezone=True))
    revoked_at = Column(DateTime(timezone=True))


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "staff_session"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who did what, when. Append-only: nothing in the app updates or deletes these rows."""

    __tablename__ = "staff_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    user_id = Column(Integer)
    user_email = Column(String(254), index=True)
    action = Column(String(32), nullable=False, index=True)
    target = Column(String(255))
    detail = Column(Text)  # JSON
    ip = Column(String(64))


class StaffNote(Base):
    __tablename__ = "staff_note"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    author = Column(String(254), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConversationSummary(Base):
    """One row per conversation, derived from Rasa's events (see `StaffStore.sync_conversations`).

    `phase` and `focus` are filled once the journey issue lands; `review_status` and `tags` are staff's.
    """

    __tablename__ = "conversation"
    __table_args__ = (
        Index("ix_conversation_last_at", "last_at"),
        Index("ix_conversation_crisis_last_at", "has_crisis", "last_at"),
        Index("ix_conversation_review_last_at", "review_status", "last_at"),
    )

    sender_id = Column(String(255), primary_key=True)
    channel = Column(String(64))
    first_at = Column(Float)  # Rasa's event timestamps (seconds since the epoch)
    last_at = Column(Float)
    n_events = Column(Integer, nullable=False, default=0)
    n_messages = Column(Integer, nullable=False, default=0)
    has_crisis = Column(Boolean, nullable=False, default=False)
    crisis_categories = Column(String(255))
    last_text = Column(Text)
    search_text = Column(Text)  # lower-cased person and staff messages, for the text search
    phase = Column(String(32))
    focus = Column(String(32))
    review_status = Column(String(16), nullable=False, default="new")
    tags = Column(String(255))
    reviewed_by = Column(String(254))
    reviewed_at = Column(DateTime(timezone=True))


class SyncState(Base):
    """How far the conversation summary has read Rasa's events table."""

    __tablename__ = "staff_sync_state"

    id = Column(Integer, primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    summarized_events = Column(Integer, nullable=False, default=0)
