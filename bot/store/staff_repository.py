"""All reads and writes of the staff dashboard's tables, and its reads of Rasa's `events` table.

`StaffStore` is a repository like `AppStore`: one place, a session per call, SQL built with
SQLAlchemy expressions only (search terms are bound parameters, never pasted into SQL).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Optional

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.store.db import database_url, get_engine, session_scope
from bot.store.models import Handoff, Journey, Person, utcnow
from bot.store.repository import AppStore, _transcript_line
from bot.store.staff_models import (
    AuditEntry,
    ConversationSummary,
    StaffApiToken,
    StaffNote,
    StaffSession,
    StaffUser,
    SyncState,
)

# Rasa's SQLTrackerStore table, described here only to read it (Rasa creates and owns it).
EVENTS = Table(
    "events", MetaData(),
    Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
    Column("type_name", String(255)), Column("timestamp", Float), Column("intent_name", String(255)),
    Column("action_name", String(255)), Column("data", Text),
)
OPEN_HANDOFF = ("requested", "taken")
MESSAGE_TYPES = ("user", "bot")
SEARCH_TEXT_LIMIT = 100_000
RECONCILE_EVERY = 30.0  # seconds
API_TOKEN_PREFIX = "ipt_"  # so a leaked token is recognisable (secret scanners, logs)
LAST_USED_EVERY = timedelta(minutes=1)  # a token's last-used time is written at most this often
PAGE_SIZE = 50


# Plain-language names of the hand-off categories (bot/crisis/lexicon.yml) for staff pages and alerts.
CATEGORY_LABELS = {"suicide": "Suicide", "self_harm": "Self-harm", "overdose": "Overdose",
                   "harm_to_others": "Harm to others", "abuse": "Abuse", "possible": "Possible risk",
                   "unspecified": "Not specified"}


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "unspecified") or (category or "").replace("_", " ").capitalize()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def like_pattern(term: str) -> str:
    """`%term%` for LIKE with `\\` as escape character: the person's %, _ and \\ match themselves."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class UserRecord:
    id: int
    email: str
    name: str
    role: str
    active: bool
    failed_logins: int
    locked_until: Optional[datetime]
    last_login_at: Optional[datetime]
    oidc_subject: Optional[str] = None


def _user(row: StaffUser) -> UserRecord:
    return UserRecord(row.id, row.email, row.name, row.role, row.active, row.failed_logins,
                      row.locked_until, row.last_login_at, row.oidc_subject)


@dataclass(frozen=True)
class ApiTokenRecord:
    id: int
    user_id: int
    user_email: str
    name: str
    created_at: datetime
    last_used_at: Optional[datetime]
    revoked_at: Optional[datetime]


def _api_token(row: StaffApiToken, email: str) -> ApiTokenRecord:
    return ApiTokenRecord(row.id, row.user_id, email, row.name, row.created_at, row.last_used_at, row.revoked_at)


@dataclass
class ConversationFilter:
    q: str = ""
    crisis: bool = False
    open_handoff: bool = False
    date_from: Optional[float] = None  # epoch seconds, inclusive
    date_to: Optional[float] = None  # epoch seconds, exclusive
    channel: str = ""
    phase: str = ""
    focus: str = ""
    review: str = ""

    def clauses(self) -> list:
        c = ConversationSummary
        where = []
        if self.q.strip():
            where.append(c.search_text.like(like_pattern(self.q.strip()), escape="\\"))
        if self.crisis:
            where.append(c.has_crisis.is_(True))
        if self.open_handoff:
            where.append(exists().where(Handoff.sender_id == c.sender_id, Handoff.status.in_(OPEN_HANDOFF)))
        if self.date_from is not None:
            where.append(c.last_at >= self.date_from)
        if self.date_to is not None:
            where.append(c.first_at < self.date_to)
        for column, value in ((c.channel, self.channel), (c.review_status, self.review)):
            if value:
                where.append(column == value)
        # Phase and focus are read from the journey table itself (indexed), not copied into the summary:
        # a journey changes phase or is deleted at the person's request without a new event to sync.
        for column, value in ((Journey.phase, self.phase), (Journey.focus, self.focus)):
            if value:
                where.append(exists().where(Journey.sender_id == c.sender_id, column == value))
        return where


@dataclass
class ConversationPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _summary_dict(row: ConversationSummary) -> dict[str, Any]:
    return {
        "sender_id": row.sender_id, "channel": row.channel, "first_at": row.first_at, "last_at": row.last_at,
        "n_events": row.n_events, "n_messages": row.n_messages, "has_crisis": bool(row.has_crisis),
        "crisis_categories": [c for c in (row.crisis_categories or "").split(",") if c],
        "last_text": row.last_text, "phase": None, "focus": None,  # from the journey: `_with_journey`
        "review_status": row.review_status, "tags": [t for t in (row.tags or "").split(",") if t],
        "reviewed_by": row.reviewed_by, "reviewed_at": row.reviewed_at,
    }


def _journey_columns(session, sender_ids: list[str]) -> dict[str, tuple[Optional[str], Optional[str]]]:
    """The journey's current (phase, focus) of each of these conversations that has a journey."""
    found: dict[str, tuple[Optional[str], Optional[str]]] = {}
    for i in range(0, len(sender_ids), 500):
        for row in session.execute(select(Journey.sender_id, Journey.phase, Journey.focus)
                                   .where(Journey.sender_id.in_(sender_ids[i:i + 500]))).all():
            found[row.sender_id] = (row.phase, row.focus)
    return found


def _with_journey(session, summaries: list[dict[str, Any]]) -> None:
    """Set each summary's phase and focus from the journey table (None where there is no journey)."""
    columns = _journey_columns(session, [s["sender_id"] for s in summaries]) if summaries else {}
    for summary in summaries:
        summary["phase"], summary["focus"] = columns.get(summary["sender_id"], (None, None))


class SyncConflict(Exception):
    """Another worker summarised the same events first."""


class StaffStore:
    """Repository of the staff dashboard; `url` defaults to `DATABASE_URL`."""

    _events_exists: dict[str, bool] = {}
    _last_reconcile: dict[str, float] = {}

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    # --- accounts ---------------------------------------------------------------------------

    def create_user(self, email: str, name: str, role: str, password_hash: str) -> UserRecord:
        with session_scope(self.url) as session:
            row = StaffUser(email=email.strip().lower(), name=name.strip(), role=role,
                            password_hash=password_hash, active=True, failed_logins=0)
            session.add(row)
            session.flush()
            return _user(row)

    def user_by_email(self, email: str) -> tuple[UserRecord, str] | None:
        """The user and their password hash."""
        with session_scope(self.url) as session:
            row = session.execute(
                select(StaffUser).where(StaffUser.email == email.strip().lower())).scalar_one_or_none()
            return (_user(row), row.password_hash) if row else None

    def get_user(self, user_id: int) -> UserRecord | None:
        with session_scope(self.url) as session:
            row = session.get(StaffUser, user_id)
            return _user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with session_scope(self.url) as session:
            return [_user(r) for r in session.execute(select(StaffUser).order_by(StaffUser.email)).scalars()]

    def login_failed(self, user_id: int, max_failures: int, lock_for: timedelta) -> bool:
        """Count a failed password; lock the account after `max_failures` in a row. True if now locked."""
        with session_scope(self.url) as session:
            row = session.get(StaffUser, user_id)
            row.failed_logins += 1
            if row.failed_logins >= max_failures:
                row.locked_until, row.failed_logins = utcnow() + lock_for, 0
                return True
            return False

    def login_succeeded(self, user_id: int, new_hash: str | None = None) -> None:
        with session_scope(self.url) as session:
            row = session.get(StaffUser, user_id)
            row.failed_logins, row.locked_until, row.last_login_at = 0, None, utcnow()
            if new_hash:
                row.password_hash = new_hash

    def update_user(self, user_id: int, *, active: bool | None = None, unlock: bool = False,
                    password_hash: str | None = None, role: str | None = None) -> None:
        with session_scope(self.url) as session:
            row = session.get(StaffUser, user_id)
            if row is None:
                raise KeyError(user_id)
            if active is not None:
                row.active = active
                if not active:
                    session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
            if unlock:
                row.locked_until, row.failed_logins = None, 0
            if password_hash:
                row.password_hash = password_hash
                session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
            if role:
                row.role = role

    def bind_oidc_subject(self, user_id: int, subject: str) -> None:
        """Remember the identity provider's subject of this account (its first OpenID Connect sign-in)."""
        with session_scope(self.url) as session:
            session.get(StaffUser, user_id).oidc_subject = subject[:255]

    # --- API tokens -------------------------------------------------------------------------

    def create_api_token(self, user_id: int, name: str) -> tuple[ApiTokenRecord, str]:
        """A new token for the user: its record and the token itself (never stored, shown once)."""
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with session_scope(self.url) as session:
            user = session.get(StaffUser, user_id)
            row = StaffApiToken(user_id=user_id, name=name.strip()[:80] or "token", token_hash=token_hash(token))
            session.add(row)
            session.flush()
            return _api_token(row, user.email), token

    def api_tokens(self, user_id: int | None = None) -> list[ApiTokenRecord]:
        """One user's tokens (or everyone's), newest first, revoked ones included."""
        query = select(StaffApiToken, StaffUser.email).join(StaffUser, StaffUser.id == StaffApiToken.user_id)
        if user_id is not None:
            query = query.where(StaffApiToken.user_id == user_id)
        with session_scope(self.url) as session:
            return [_api_token(row, email) for row, email in
                    session.execute(query.order_by(StaffApiToken.id.desc())).all()]

    def get_api_token(self, token_id: int) -> ApiTokenRecord | None:
        with session_scope(self.url) as session:
            row = session.get(StaffApiToken, token_id)
            return _api_token(row, session.get(StaffUser, row.user_id).email) if row else None

    def revoke_api_token(self, token_id: int) -> bool:
        """Revoke the token for good; False if it was revoked already (or does not exist)."""
        with session_scope(self.url) as session:
            row = session.get(StaffApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utcnow()
            return True

    def api_token_user(self, token: str) -> tuple[UserRecord, ApiTokenRecord] | None:
        """The active user of a live (not revoked) token, and the token; records when it was last used."""
        if not token.startswith(API_TOKEN_PREFIX):
            return None
        now = utcnow()
        with session_scope(self.url) as session:
            row = session.execute(select(StaffApiToken).where(
                StaffApiToken.token_hash == token_hash(token))).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            user = session.get(StaffUser, row.user_id)
            if user is None or not user.active:
                return None
            if row.last_used_at is None or now - _aware(row.last_used_at) > LAST_USED_EVERY:
                row.last_used_at = now
            return _user(user), _api_token(row, user.email)

    # --- sessions ---------------------------------------------------------------------------

    def create_session(self, user_id: int, token: str, csrf_token: str) -> None:
        with session_scope(self.url) as session:
            session.add(StaffSession(token_hash=token_hash(token), user_id=user_id, csrf_token=csrf_token))

    def session_user(self, token: str, idle: timedelta, lifetime: timedelta,
                     touch: bool = True) -> tuple[UserRecord, str] | None:
        """The active user of a live session and its CSRF token; expired sessions are removed."""
        now = utcnow()
        with session_scope(self.url) as session:
            row = session.get(StaffSession, token_hash(token))
            if row is None:
                return None
            user = session.get(StaffUser, row.user_id)
            last_seen, created = _aware(row.last_seen_at), _aware(row.created_at)
            if user is None or not user.active or now - last_seen > idle or now - created > lifetime:
                session.delete(row)
                return None
            if touch and now - last_seen > timedelta(seconds=5):
                row.last_seen_at = now
            return _user(user), row.csrf_token

    def end_session(self, token: str) -> None:
        with session_scope(self.url) as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))

    # --- audit log (append-only) --------------------------------------------------------------

    def audit(self, action: str, user: UserRecord | None = None, target: str | None = None,
              detail: dict[str, Any] | None = None, ip: str | None = None, email: str | None = None) -> None:
        with session_scope(self.url) as session:
            session.add(AuditEntry(
                user_id=user.id if user else None, user_email=(user.email if user else email),
                action=action, target=(target or "")[:255] or None,
                detail=json.dumps(detail, default=str) if detail else None, ip=ip))

    def audit_entries(self, user: str = "", action: str = "", target: str = "",
                      since: datetime | None = None, until: datetime | None = None,
                      page: int = 1, per_page: int = 100) -> tuple[list[dict[str, Any]], int]:
        where = []
        if user:
            where.append(AuditEntry.user_email == user.strip().lower())
        if action:
            where.append(AuditEntry.action == action)
        if target:
            where.append(AuditEntry.target == target)
        if since:
            where.append(AuditEntry.at >= since)
        if until:
            where.append(AuditEntry.at < until)
        with session_scope(self.url) as session:
            total = session.execute(select(func.count()).select_from(AuditEntry).where(*where)).scalar_one()
            rows = session.execute(
                select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
                .limit(per_page).offset((page - 1) * per_page)).scalars()
            return [{"id": r.id, "at": r.at, "user": r.user_email, "action": r.action, "target": r.target,
                     "detail": json.loads(r.detail) if r.detail else None, "ip": r.ip} for r in rows], total

    # --- notes and review status ------------------------------------------------------------

    def add_note(self, sender_id: str, author: str, text: str) -> int:
        with session_scope(self.url) as session:
            row = StaffNote(sender_id=sender_id, author=author, text=text)
            session.add(row)
            session.flush()
            return row.id

    def notes(self, sender_id: str) -> list[dict[str, Any]]:
        with session_scope(self.url) as session:
            rows = session.execute(select(StaffNote).where(StaffNote.sender_id == sender_id)
                                   .order_by(StaffNote.id)).scalars()
            return [{"id": r.id, "author": r.author, "text": r.text, "created_at": r.created_at} for r in rows]

    def set_review(self, sender_id: str, status: str, tags: Iterable[str], by: str) -> None:
        clean = ",".join(dict.fromkeys(t.strip().lower()[:40] for t in tags if t.strip()))[:255]
        with session_scope(self.url) as session:
            row = session.get(ConversationSummary, sender_id)
            if row is None:
                row = ConversationSummary(sender_id=sender_id, n_events=0, n_messages=0, has_crisis=False)
                session.add(row)
            row.review_status, row.tags, row.reviewed_by, row.reviewed_at = status, clean or None, by, utcnow()

    # --- conversations ----------------------------------------------------------------------

    def _has_events(self) -> bool:
        key = self.url or database_url()
        if not self._events_exists.get(key):
            self._events_exists[key] = inspect(get_engine(key)).has_table("events")
        return self._events_exists[key]

    def sync_conversations(self, batch: int = 20_000) -> int:
        """Fold new rows of Rasa's events table into the conversation summary; returns events read."""
        if not self._has_events():
            return 0
        total = 0
        try:
            self._rewind_after_reused_ids()
        except (SyncConflict, IntegrityError):
            pass  # another request rewound at the same time
        while True:
            try:
                read = self._sync_batch(batch)
            except (SyncConflict, IntegrityError):
                break  # another request is doing it; its result will be there on the next call
            total += read
            if read < batch:
                break
        now = time.monotonic()
        key = self.url or database_url()
        if now - self._last_reconcile.get(key, -1e9) > RECONCILE_EVERY:
            self._last_reconcile[key] = now
            self.reconcile()
        return total

    def _rewind_after_reused_ids(self) -> bool:
        """Move the read mark back when event ids below it were given to new events.

        The summary reads events with `id > last_event_id`. On SQLite, Rasa's `events.id` is a plain
        INTEGER PRIMARY KEY (no AUTOINCREMENT): a new row gets max(id) + 1. When the conversation that held
        the highest ids is erased at the person's request, the next events of every conversation get ids
        at or below the mark, and the summary never read them: the list's "latest" time and message count
        stopped while the transcript went on. (PostgreSQL's sequence never reuses ids.)

        The event at the mark is one the summary has read if its conversation's summary spans its time.
        If it is gone or new, the mark moves back to the highest event the summary has read: every event
        above that is new (a new row's id is above every row stored when it was written). Summaries whose
        events were all erased are dropped first (the sync builds them again from any new events)."""
        with session_scope(self.url) as session:
            state = session.get(SyncState, 1)
            if state is None or not state.last_event_id:
                return False
            mark = state.last_event_id
            c = ConversationSummary
            joined = EVENTS.join(c, c.sender_id == EVENTS.c.sender_id)
            read = (c.n_events > 0) & (EVENTS.c.timestamp >= c.first_at) & (EVENTS.c.timestamp <= c.last_at)
            if session.execute(select(EVENTS.c.id).select_from(joined).where(EVENTS.c.id == mark, read)).first():
                return False
            resume = session.execute(select(EVENTS.c.id).select_from(joined).where(EVENTS.c.id <= mark, read)
                                     .order_by(EVENTS.c.id.desc()).limit(1)).scalar() or 0
            session.execute(delete(c).where(c.n_events > 0, ~exists().where(
                EVENTS.c.sender_id == c.sender_id, EVENTS.c.id <= resume)).execution_options(synchronize_session=False))
            stored = session.execute(select(func.count()).select_from(EVENTS).where(EVENTS.c.id <= resume)).scalar_one()
            result = session.execute(update(SyncState).where(SyncState.id == 1, SyncState.last_event_id == mark)
                                     .values(last_event_id=resume, summarized_events=stored))
            if result.rowcount != 1:
                raise SyncConflict()
            return True

    def _sync_batch(self, batch: int) -> int:
        with session_scope(self.url) as session:
            state = session.get(SyncState, 1)
            if state is None:
                state = SyncState(id=1, last_event_id=0, summarized_events=0)
                session.add(state)
                session.flush()
            start = state.last_event_id
            rows = session.execute(
                select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp,
                       EVENTS.c.intent_name, EVENTS.c.data)
                .where(EVENTS.c.id > start).order_by(EVENTS.c.id).limit(batch)).all()
            if not rows:
                return 0
            senders = list(dict.fromkeys(r.sender_id for r in rows))
            summaries: dict[str, ConversationSummary] = {}
            for i in range(0, len(senders), 500):
                for row in session.execute(select(ConversationSummary).where(
                        ConversationSummary.sender_id.in_(senders[i:i + 500]))).scalars():
                    summaries[row.sender_id] = row
            texts: dict[str, list[str]] = {}
            for event in rows:
                summary = summaries.get(event.sender_id)
                if summary is None:
                    summary = ConversationSummary(sender_id=event.sender_id, n_events=0, n_messages=0,
                                                  has_crisis=False, review_status="new")
                    session.add(summary)
                    summaries[event.sender_id] = summary
                summary.n_events = (summary.n_events or 0) + 1
                stamp = event.timestamp
                if stamp is not None:
                    summary.first_at = stamp if summary.first_at is None else min(summary.first_at, stamp)
                    summary.last_at = stamp if summary.last_at is None else max(summary.last_at, stamp)
                if event.type_name not in ("user", "bot"):
                    continue
                data = json.loads(event.data or "{}")
                summary.n_messages = (summary.n_messages or 0) + 1
                text = data.get("text") or ""
                if event.type_name == "user":
                    if data.get("input_channel") and not summary.channel:
                        summary.channel = data["input_channel"][:64]
                    intent = (data.get("parse_data") or {}).get("intent") or {}
                    if event.intent_name == "crisis" or intent.get("name") == "crisis":
                        summary.has_crisis = True
                        category = intent.get("crisis_category") or "unspecified"
                        known = [c for c in (summary.crisis_categories or "").split(",") if c]
                        if category not in known:
                            summary.crisis_categories = ",".join(known + [category])[:255]
                elif not (data.get("metadata") or {}).get("from_staff"):
                    text = ""  # the assistant's own words are not searched
                if text:
                    summary.last_text = text[:500]
                    texts.setdefault(event.sender_id, []).append(text.lower())
            for sender, parts in texts.items():
                summary = summaries[sender]
                joined = ((summary.search_text or "") + "\n" + "\n".join(parts)).lstrip("\n")
                summary.search_text = joined[:SEARCH_TEXT_LIMIT]
            result = session.execute(
                update(SyncState).where(SyncState.id == 1, SyncState.last_event_id == start)
                .values(last_event_id=rows[-1].id, summarized_events=SyncState.summarized_events + len(rows)))
            if result.rowcount != 1:
                raise SyncConflict()
            return len(rows)

    def reconcile(self) -> None:
        """Drop summaries of erased conversations; add conversations known only from the app tables."""
        with session_scope(self.url) as session:
            state = session.get(SyncState, 1)
            if state is None:
                return
            stored = session.execute(select(func.count()).select_from(EVENTS)
                                     .where(EVENTS.c.id <= state.last_event_id)).scalar_one()
            if stored < state.summarized_events:
                c = ConversationSummary
                session.execute(delete(c).where(
                    c.n_events > 0, ~exists().where(EVENTS.c.sender_id == c.sender_id))
                    .execution_options(synchronize_session=False))
                state.summarized_events = stored
            for model in (Person, Handoff):
                missing = session.execute(
                    select(model.sender_id, func.min(model.channel)).where(
                        ~exists().where(ConversationSummary.sender_id == model.sender_id))
                    .group_by(model.sender_id)).all()
                for sender_id, channel in missing:
                    session.add(ConversationSummary(sender_id=sender_id, channel=channel, n_events=0,
                                                    n_messages=0, has_crisis=model is Handoff,
                                                    review_status="new"))
                session.flush()

    def list_conversations(self, flt: ConversationFilter, page: int = 1,
                           per_page: int = PAGE_SIZE) -> ConversationPage:
        c = ConversationSummary
        where = flt.clauses()
        with session_scope(self.url) as session:
            total = session.execute(select(func.count()).select_from(c).where(*where)).scalar_one()
            pages = max(1, -(-total // per_page))
            page = min(max(1, page), pages)
            rows = session.execute(
                select(c).where(*where).order_by(c.last_at.desc().nullslast(), c.sender_id.desc())
                .limit(per_page).offset((page - 1) * per_page)).scalars().all()
            result = [_summary_dict(r) for r in rows]
            open_by_sender = {}
            if result:
                for h in session.execute(select(Handoff.sender_id, Handoff.id, Handoff.status).where(
                        Handoff.sender_id.in_([r["sender_id"] for r in result]),
                        Handoff.status.in_(OPEN_HANDOFF))).all():
                    open_by_sender[h.sender_id] = {"id": h.id, "status": h.status}
            for r in result:
                r["open_handoff"] = open_by_sender.get(r["sender_id"])
            _with_journey(session, result)
            counts = {
                "all": session.execute(select(func.count()).select_from(c)).scalar_one(),
                "crisis": session.execute(select(func.count()).select_from(c)
                                          .where(c.has_crisis.is_(True))).scalar_one(),
                "follow_up": session.execute(select(func.count()).select_from(c)
                                             .where(c.review_status == "follow_up")).scalar_one(),
                # conversations with an open hand-off: the queue's one row per conversation counts the same
                "open_handoffs": session.execute(select(func.count(Handoff.sender_id.distinct()))
                                                 .where(Handoff.status.in_(OPEN_HANDOFF))).scalar_one(),
            }
            channels = [ch for ch in session.execute(select(c.channel).distinct().where(c.channel.isnot(None))
                                                     .order_by(c.channel)).scalars()]
            counts_channels = channels
        page_obj = ConversationPage(result, total, page, pages, counts)
        page_obj.counts["channels"] = counts_channels  # type: ignore[assignment]
        return page_obj

    def filtered_sender_ids(self, flt: ConversationFilter, limit: int) -> list[str]:
        c = ConversationSummary
        with session_scope(self.url) as session:
            return list(session.execute(select(c.sender_id).where(*flt.clauses())
                                        .order_by(c.last_at.desc().nullslast(), c.sender_id.desc())
                                        .limit(limit)).scalars())

    def conversation(self, sender_id: str) -> dict[str, Any] | None:
        with session_scope(self.url) as session:
            row = session.get(ConversationSummary, sender_id)
            if row is None:
                return None
            summary = _summary_dict(row)
            _with_journey(session, [summary])
            summary["handoffs"] = [
                {"id": h.id, "status": h.status, "category": h.category, "created_at": h.created_at,
                 "taken_by": h.taken_by, "taken_at": h.taken_at, "closed_at": h.closed_at, "channel": h.channel,
                 "priority": h.priority or 1, "person_safe_at": h.person_safe_at, "escalated_at": h.escalated_at}
                for h in session.execute(select(Handoff).where(Handoff.sender_id == sender_id)
                                         .order_by(Handoff.id)).scalars()]
            person = session.execute(select(Person).where(Person.sender_id == sender_id)).scalars().first()
            summary["display_name"] = person.display_name if person else None
            return summary

    def forget_if_erased(self, sender_id: str) -> bool:
        """Remove the summary of a conversation whose events are gone and that the app tables do not know."""
        with session_scope(self.url) as session:
            if self._has_events() and session.execute(
                    select(EVENTS.c.id).where(EVENTS.c.sender_id == sender_id).limit(1)).first():
                return False
            known = session.execute(select(Handoff.id).where(Handoff.sender_id == sender_id).limit(1)).first() \
                or session.execute(select(Person.id).where(Person.sender_id == sender_id).limit(1)).first()
            if known:
                return False
            session.execute(delete(ConversationSummary).where(ConversationSummary.sender_id == sender_id))
            return True

    def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        return AppStore(self.url).transcript(sender_id)

    # --- the live feed (bot/web/dashboard/live.py) -------------------------------------------

    def message_counts(self, sender_ids: list[str]) -> dict[str, int]:
        """How many transcript lines (person, assistant and staff messages) each conversation has now:
        one grouped query for every watched conversation."""
        if not sender_ids or not self._has_events():
            return {}
        counts: dict[str, int] = {}
        with session_scope(self.url) as session:
            for i in range(0, len(sender_ids), 500):
                for sender_id, count in session.execute(
                        select(EVENTS.c.sender_id, func.count()).where(
                            EVENTS.c.sender_id.in_(sender_ids[i:i + 500]), EVENTS.c.type_name.in_(MESSAGE_TYPES))
                        .group_by(EVENTS.c.sender_id)).all():
                    counts[sender_id] = count
        return counts

    def transcript_lines(self, sender_id: str, offset: int = 0) -> list[dict[str, Any]]:
        """The conversation's transcript lines from line `offset` on (as `transcript` numbers them).

        By event id within the conversation: a new event always gets a higher id than every event
        stored at the time, so a conversation's own events are in order even where ids are reused."""
        if not self._has_events():
            return []
        with session_scope(self.url) as session:
            rows = session.execute(
                select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(MESSAGE_TYPES))
                .order_by(EVENTS.c.id).offset(max(0, offset))).scalars().all()
        return [_transcript_line(json.loads(row or "{}")) for row in rows]

    def review_flags(self, sender_id: str) -> list[dict[str, Any]]:
        """Messages flagged for staff: the safety question answered "no", risk while staff held the chat."""
        return AppStore(self.url).review_flags(sender_id, open_only=False)

    def queue_status(self) -> dict[str, Any]:
        """The queue's state for the badge and live updates, from the same rows as the queue page
        (`triage_queue`): a version that changes whenever a row would, the waiting and open counts, and
        the alerts (`h<id>` for a waiting hand-off, `e<id>` for an escalated one) for the page to sound
        on new ones."""
        queue = self.triage_queue()
        alerts = [{"key": f"h{h['id']}", "kind": "handoff", "category": h["category_label"]}
                  for h in queue["rows"] if h["status"] == "requested"]
        alerts += [{"key": f"e{h['id']}", "kind": "escalation", "category": h["category_label"]}
                   for h in queue["rows"] if h["open"] and h["escalated_at"]]
        owners = {str(h["id"]): {"status": h["status"], "taken_by": h["taken_by"]} for h in queue["rows"] if h["open"]}
        return {"version": queue["version"], "waiting": queue["waiting"], "open": queue["open"], "alerts": alerts,
                "handoffs": owners}

    def triage_queue(self, category: str = "", status: str = "", closed_limit: int = 20) -> dict[str, Any]:
        """The hand-off queue for triage: one row per conversation (its latest open hand-off, waiting since
        its earliest open one; or, for the `closed_limit` most recently ended conversations, their latest),
        waiting ones first, then by tier (clear risk, possible risk, the person's request), then the longest
        wait first.

        `status` filters: waiting, taken, open, closed ("" = open and recently ended); `category` a
        category code. `waiting` and `open` count the whole queue (not the filter): the badge, the page
        and the version all come from these rows, so their counts agree.
        """
        with session_scope(self.url) as session:
            open_rows = session.execute(select(Handoff).where(Handoff.status.in_(OPEN_HANDOFF))
                                        .order_by(Handoff.created_at.desc(), Handoff.id.desc())).scalars().all()
            closed_rows = session.execute(select(Handoff).where(~Handoff.status.in_(OPEN_HANDOFF))
                                          .order_by(Handoff.id.desc()).limit(closed_limit * 10)).scalars().all()
            latest: dict[str, Handoff] = {}
            since: dict[str, datetime] = {}  # a conversation waits since its earliest open hand-off
            for h in open_rows:  # newest first: the first one seen is the conversation's latest open one
                latest.setdefault(h.sender_id, h)
                since[h.sender_id] = _aware(h.created_at)
            ended = 0
            for h in closed_rows:
                if h.sender_id not in latest and ended < closed_limit:
                    latest[h.sender_id] = h
                    ended += 1
            rows = [_triage_row(h) for h in latest.values()]
        now = datetime.now(timezone.utc)
        for row in rows:
            row["waiting_since"] = since.get(row["sender_id"], row["created_at"]) if row["open"] else None
            row["waited_seconds"] = (now - row["waiting_since"]).total_seconds() if row["open"] else None
        rows.sort(key=_queue_order)
        key = json.dumps([(r["id"], r["status"], bool(r["escalated_at"]), r["taken_by"], r["priority"], r["tier"],
                           r["category"]) for r in rows])
        shown = [r for r in rows if (not category or r["category"] == category) and _status_matches(r, status)]
        return {"rows": shown, "version": hashlib.sha256(key.encode()).hexdigest()[:16],
                "waiting": sum(1 for r in rows if r["status"] == "requested"),
                "open": sum(1 for r in rows if r["open"]), "total": len(rows)}

    def handoff_queue(self, include_closed: int = 20) -> list[dict[str, Any]]:
        """The queue's rows (see `triage_queue`)."""
        return self.triage_queue(closed_limit=include_closed)["rows"]


TIERS = ("clear", "possible", "request")
TIER_LABELS = {"clear": "Clear risk", "possible": "Possible risk", "request": "Asked for a person"}
REQUEST_CATEGORIES = ("request", "requested", "human")
# How actions/crisis.py marks a hand-off that came from a question rather than the person's own words.
POSSIBLE_PREFIXES = ("Safety question (", "PHQ-9 item 9 (")
EXCERPT_CHARS = 120


def _tier(h: Handoff) -> str:
    if h.category in REQUEST_CATEGORIES:
        return "request"
    if h.category == "possible" or (h.message or "").startswith(POSSIBLE_PREFIXES):
        return "possible"
    return "clear"


def excerpt(message: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The triggering message (the first of a hand-off's messages), on one line, cut at `limit` characters."""
    first = " ".join((message or "").split("\n---\n")[0].split())
    return first if len(first) <= limit else first[:limit - 1].rstrip() + "…"


def _triage_row(h: Handoff) -> dict[str, Any]:
    from bot.handoff import staffing

    created = _aware(h.created_at)
    tier = _tier(h)
    try:
        on_duty = staffing.is_open(created)
    except ValueError:  # a malformed CLINIC_HOURS stops start-up elsewhere; here it only means "unknown"
        on_duty = None
    return {"id": h.id, "sender_id": h.sender_id, "channel": h.channel, "locale": h.locale, "category": h.category,
            "category_label": category_label(h.category), "tier": tier, "tier_label": TIER_LABELS[tier],
            "status": h.status, "open": h.status in OPEN_HANDOFF, "created_at": created, "taken_by": h.taken_by,
            "taken_at": h.taken_at, "closed_at": h.closed_at, "message": h.message, "excerpt": excerpt(h.message),
            "escalated_at": h.escalated_at, "priority": h.priority or 1, "person_safe_at": h.person_safe_at,
            "on_duty": on_duty}


def _queue_order(row: dict[str, Any]) -> tuple:
    """Open before ended; waiting before taken; clear risk, possible risk, request; longest wait first.
    Ended ones: most recent first."""
    if row["open"]:
        return 0, row["status"] != "requested", TIERS.index(row["tier"]), row["waiting_since"].timestamp()
    return 1, False, 0, -row["id"]


def _status_matches(row: dict[str, Any], status: str) -> bool:
    if status == "waiting":
        return row["status"] == "requested"
    if status in ("taken", "closed"):
        return row["status"] == status
    if status == "open":
        return row["open"]
    return True


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    from datetime import timezone

    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


