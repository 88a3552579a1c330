"""Erasing a conversation at the person's request ("delete my data"): everything that identifies it.

`erase_conversation` is the one code path: the Rasa server's tracker store calls it when a turn sent
`utter_data_deleted` (bot/store/tracker_store.py). In one transaction it

- deletes Rasa's stored events of the conversation (every message, slot and action),
- deletes the journey with its people and check-ins (the picture token goes with it, so the
  closeness-circle picture's address stops working), the person rows, staff notes, review flags
  and the dashboard's summary of the conversation (last message, search text, review status, tags);
- keeps crisis hand-off records, because the clinic must be able to show how it responded, but
  closes any that is still open and makes them anonymous: the conversation id is replaced by a keyed
  hash (`pseudonym`), the person's words are removed, the link to the person row is cut;
- rewrites the staff-notification outbox payloads and errors of those hand-offs and the audit log's
  targets with the same keyed hash (the audit log stays append-only otherwise: migration 0008 allows
  only this one change);

and then rewrites the hand-off spool file (hand-offs that waited for the database) the same way.

The keyed hash is HMAC-SHA256 with `ERASURE_KEY` (set it, the same on every Rasa server, in
production), or else a key generated once under var/erasure_key (0600). Without the key nobody can
tell whose records they were, not even by trying every phone number; with it, the clinic can answer a
legal request about a given id.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import delete, inspect, select, update

from bot.secret_file import secret_in_file
from bot.settings import get_settings
from bot.store.db import session_scope
from bot.store.models import (
    Handoff,
    Journey,
    JourneyCheckin,
    JourneyPerson,
    OutboxMessage,
    Person,
    ReviewFlag,
    utcnow,
)
from bot.store.staff_models import AuditEntry, ConversationSummary, StaffNote

logger = logging.getLogger(__name__)

KEY_ENV = "ERASURE_KEY"
PREFIX = "erased-"
REMOVED = "[deleted at the person's request]"
OPEN = ("requested", "taken")
# Payload keys that could carry the person's words or ids; notifications never need them once erased.
PAYLOAD_DROP = ("sender_id", "sender", "message", "excerpt", "text", "name", "display_name", "phone", "email")


def _key() -> bytes:
    settings = get_settings()
    return (settings.value(KEY_ENV) or secret_in_file(settings.erasure_key_file)).encode()


def pseudonym(sender_id: str) -> str:
    """The keyed hash that stands for an erased conversation id (stable for one key)."""
    return PREFIX + hmac.new(_key(), sender_id.encode(), hashlib.sha256).hexdigest()[:32]


def _scrub(value: Any, sender_id: str, alias: str) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, sender_id, alias) for k, v in value.items() if k not in PAYLOAD_DROP}
    if isinstance(value, list):
        return [_scrub(v, sender_id, alias) for v in value]
    if isinstance(value, str) and sender_id in value:
        return value.replace(sender_id, alias)
    return value


@dataclass
class Erased:
    """How many rows of each kind went or were made anonymous."""

    pseudonym: str
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: Optional[int]) -> None:
        self.counts[name] = self.counts.get(name, 0) + (count or 0)


def erase_conversation(sender_id: str, url: Optional[str] = None, spool_path: Optional[Path] = None) -> Erased:
    """Remove or make anonymous everything stored about this conversation (see the module's text)."""
    alias = pseudonym(sender_id)
    result = Erased(alias)
    quiet = {"synchronize_session": False}
    with session_scope(url) as session:
        if inspect(session.get_bind()).has_table("events"):
            from bot.store.staff_repository import EVENTS

            result.add("events", session.execute(
                delete(EVENTS).where(EVENTS.c.sender_id == sender_id), execution_options=quiet).rowcount)
        journeys = select(Journey.id).where(Journey.sender_id == sender_id).scalar_subquery()
        result.add("journey_checkin", session.execute(
            delete(JourneyCheckin).where(JourneyCheckin.journey_id.in_(journeys)), execution_options=quiet).rowcount)
        result.add("journey_person", session.execute(
            delete(JourneyPerson).where(JourneyPerson.journey_id.in_(journeys)), execution_options=quiet).rowcount)
        result.add("journey", session.execute(
            delete(Journey).where(Journey.sender_id == sender_id), execution_options=quiet).rowcount)
        result.add("staff_note", session.execute(
            delete(StaffNote).where(StaffNote.sender_id == sender_id), execution_options=quiet).rowcount)
        result.add("review_flag", session.execute(
            delete(ReviewFlag).where(ReviewFlag.sender_id == sender_id), execution_options=quiet).rowcount)
        result.add("conversation", session.execute(
            delete(ConversationSummary).where(ConversationSummary.sender_id == sender_id),
            execution_options=quiet).rowcount)
        handoffs = session.execute(select(Handoff).where(Handoff.sender_id == sender_id)).scalars().all()
        now = utcnow()
        for row in handoffs:
            if row.status in OPEN:
                row.status, row.closed_at = "closed", now
            row.sender_id, row.message, row.person_id = alias, REMOVED, None
        result.add("handoff", len(handoffs))
        session.flush()
        result.add("person", session.execute(
            delete(Person).where(Person.sender_id == sender_id), execution_options=quiet).rowcount)
        if handoffs:
            ids = [row.id for row in handoffs]
            for item in session.execute(select(OutboxMessage).where(OutboxMessage.handoff_id.in_(ids))).scalars():
                payload = json.loads(item.payload or "{}")
                item.payload = json.dumps(_scrub(payload, sender_id, alias))
                if item.last_error and sender_id in item.last_error:
                    item.last_error = item.last_error.replace(sender_id, alias)
                result.add("outbox", 1)
        result.add("staff_audit", session.execute(
            update(AuditEntry).where(AuditEntry.target == sender_id).values(target=alias),
            execution_options=quiet).rowcount)
    result.add("spool", _erase_from_spool(sender_id, alias, spool_path))
    return result


def _erase_from_spool(sender_id: str, alias: str, path: Optional[Path]) -> int:
    """Rewrite spooled hand-offs of this conversation like the recorded ones; returns how many."""
    from bot.crisis.handoff import HandoffSpool

    spool = HandoffSpool(path)
    if not spool.path.exists():
        return 0
    changed = 0
    with spool._locked():
        lines = spool.path.read_text(encoding="utf-8").splitlines()
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            if entry.get("sender_id") == sender_id:
                entry["sender_id"], entry["message"] = alias, REMOVED
                changed += 1
            out.append(json.dumps(entry))
        if changed:
            tmp = spool.path.with_suffix(".tmp")
            tmp.write_text("".join(line + "\n" for line in out), encoding="utf-8")
            os.replace(tmp, spool.path)
    return changed
