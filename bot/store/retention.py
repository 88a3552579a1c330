"""Retention: erase conversations nobody has touched for `RETENTION_DAYS` days.

    python -m bot.store.retention --dry-run   # what would go: counts and hashed ids; changes nothing
    python -m bot.store.retention             # erase them (make purge-dry-run / make purge)

`RETENTION_DAYS` unset or 0 keeps everything (the default). Otherwise a conversation whose latest
activity is older than that many days is erased by the same code path as "delete my data"
(`bot.store.erasure.erase_conversation`): Rasa's events, the journey with its people and check-ins,
the person rows, staff notes, review flags and the dashboard's summary are deleted; crisis hand-offs,
their notifications and the audit log's entries are kept under the keyed hash only.

Latest activity is the newest of: the conversation's events (messages, slots, actions), the dashboard
summary and its review, the person's last visit, the journey and its people and check-ins, its crisis
hand-offs (opened, taken, last message, closed), staff notes and review flags. Staff merely viewing a
conversation does not keep it.

A conversation with an open hand-off (waiting or taken, or still in the spool file because the
database was down when it opened) is never purged: it is listed as skipped until staff close it.
Each conversation is checked again just before it is erased, so one that came back while the purge
ran is kept. The staff audit log gets one entry per purge ("retention purge: N conversations"),
without ids; the output names conversations only by their keyed hash.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from sqlalchemy import func, inspect, select

from bot.settings import get_settings
from bot.store.db import session_scope
from bot.store.erasure import OPEN, PREFIX, erase_conversation, pseudonym
from bot.store.models import Handoff, Journey, JourneyCheckin, JourneyPerson, Person, ReviewFlag
from bot.store.staff_models import AuditEntry, ConversationSummary, StaffNote

logger = logging.getLogger(__name__)

ENV = "RETENTION_DAYS"
AUDIT_ACTION = "retention_purge"
AUDIT_EMAIL = "retention"
PROGRESS_EVERY = 100
CHUNK = 500  # ids per IN (...) list


def retention_days() -> int:
    """`RETENTION_DAYS` as a whole number of days; 0 (also unset or empty) keeps everything. A value that is
    not a whole number of days, or below 0, is a ValueError naming it (bot/settings.py)."""
    return get_settings().retention_days


def _utc(value) -> Optional[datetime]:
    """Rasa's float timestamps and the app's datetimes (naive on SQLite: stored as UTC) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _sources(session) -> list[tuple]:
    """(sender id column, time column, extra join or None) for every record of a conversation's activity."""
    sources = []
    if inspect(session.get_bind()).has_table("events"):
        from bot.store.staff_repository import EVENTS

        sources.append((EVENTS.c.sender_id, EVENTS.c.timestamp, None))
    sources += [
        (ConversationSummary.sender_id, ConversationSummary.last_at, None),
        (ConversationSummary.sender_id, ConversationSummary.reviewed_at, None),
        (Person.sender_id, Person.last_seen_at, None),
        (Journey.sender_id, Journey.updated_at, None),
        (Journey.sender_id, JourneyPerson.updated_at, JourneyPerson),
        (Journey.sender_id, JourneyCheckin.created_at, JourneyCheckin),
        (StaffNote.sender_id, StaffNote.created_at, None),
        (ReviewFlag.sender_id, ReviewFlag.created_at, None),
        (ReviewFlag.sender_id, ReviewFlag.reviewed_at, None),
    ]
    sources += [(Handoff.sender_id, column, None) for column in
                (Handoff.created_at, Handoff.taken_at, Handoff.last_message_at, Handoff.closed_at)]
    return sources


def last_activity(session, senders: Optional[Sequence[str]] = None) -> dict[str, Optional[datetime]]:
    """Each conversation's latest activity (None: no time recorded), for all or the given ids.

    Hand-offs already anonymous (erased earlier) are no conversation."""
    latest: dict[str, Optional[datetime]] = {}
    for sender, when, join in _sources(session):
        query = select(sender, func.max(when)).group_by(sender)
        if join is not None:
            query = query.join(join, join.journey_id == Journey.id)
        if sender is Handoff.sender_id:
            query = query.where(~Handoff.sender_id.startswith(PREFIX))
        batches = [None] if senders is None else list(_chunks(list(senders)))
        for batch in batches:
            rows = session.execute(query if batch is None else query.where(sender.in_(batch)))
            for sender_id, value in rows:
                if sender_id is None:
                    continue
                value = _utc(value)
                known = latest.get(sender_id)
                latest[sender_id] = value if known is None or (value is not None and value > known) else known
    return latest


def open_handoffs(session, spool_path: Optional[Path] = None, sender: Optional[str] = None) -> set[str]:
    """Conversations (all, or just `sender`) with a hand-off waiting or taken, in the database or still in
    the spool file."""
    from bot.crisis.handoff import HandoffSpool

    query = select(Handoff.sender_id).where(Handoff.status.in_(OPEN)).distinct()
    if sender is not None:
        query = query.where(Handoff.sender_id == sender)
    found = set(session.execute(query).scalars())
    found |= {request.sender_id for request in HandoffSpool(spool_path).pending()
              if not request.sender_id.startswith(PREFIX)}
    return found


ROW_SOURCES = (
    ("journey", Journey, Journey.sender_id),
    ("person", Person, Person.sender_id),
    ("staff_note", StaffNote, StaffNote.sender_id),
    ("review_flag", ReviewFlag, ReviewFlag.sender_id),
    ("conversation", ConversationSummary, ConversationSummary.sender_id),
    ("handoff", Handoff, Handoff.sender_id),
    ("staff_audit", AuditEntry, AuditEntry.target),
)


def row_counts(session, senders: Sequence[str]) -> dict[str, int]:
    """How many rows of each table belong to these conversations (the names `Erased.counts` uses)."""
    counts: dict[str, int] = {}

    def add(name: str, query) -> None:
        counts[name] = counts.get(name, 0) + (session.execute(query).scalar() or 0)

    has_events = inspect(session.get_bind()).has_table("events")
    for batch in _chunks(list(senders)):
        if has_events:
            from bot.store.staff_repository import EVENTS

            add("events", select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id.in_(batch)))
        journeys = select(Journey.id).where(Journey.sender_id.in_(batch))
        add("journey_checkin", select(func.count()).select_from(JourneyCheckin)
            .where(JourneyCheckin.journey_id.in_(journeys)))
        add("journey_person", select(func.count()).select_from(JourneyPerson)
            .where(JourneyPerson.journey_id.in_(journeys)))
        for name, table, column in ROW_SOURCES:
            add(name, select(func.count()).select_from(table).where(column.in_(batch)))
    return {name: count for name, count in counts.items() if count}


@dataclass
class Plan:
    """What a purge at `cutoff` finds: conversations due (oldest first), skipped, and kept."""

    days: int
    cutoff: Optional[datetime]
    due: list[tuple[str, datetime]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # an open hand-off
    kept: int = 0


@dataclass
class Report:
    """The outcome; ids only as keyed hashes."""

    days: int
    dry_run: bool
    cutoff: Optional[datetime] = None
    purged: list[str] = field(default_factory=list)  # hashes (would be purged, on a dry run)
    last_activity: dict[str, datetime] = field(default_factory=dict)  # hash -> latest activity
    skipped: list[str] = field(default_factory=list)  # hashes: an open hand-off
    kept: int = 0  # recent enough (or came back while the purge ran)
    rows: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if not self.days:
            return [f"{ENV} is not set (or 0): every conversation is kept; nothing to do."]
        verb = "would purge" if self.dry_run else "purged"
        out = [f"retention: {ENV}={self.days}, latest activity before {self.cutoff:%Y-%m-%d %H:%M} UTC",
               f"{verb} {len(self.purged)} conversations; skipped {len(self.skipped)} (open hand-off); "
               f"kept {self.kept} (recent)"]
        if self.rows:
            out.append("rows: " + ", ".join(f"{name} {count}" for name, count in sorted(self.rows.items())))
        out += [f"  {verb}: {alias}  last activity {self.last_activity[alias]:%Y-%m-%d}" for alias in self.purged]
        out += [f"  skipped (open hand-off): {alias}" for alias in self.skipped]
        return out


def plan(url: Optional[str], days: int, now: Optional[datetime] = None,
         spool_path: Optional[Path] = None) -> Plan:
    """Which conversations a purge would erase now (nothing when `days` is 0)."""
    if not days:
        return Plan(days, None)
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    result = Plan(days, cutoff)
    with session_scope(url) as session:
        latest = last_activity(session)
        busy = open_handoffs(session, spool_path)
    for sender, when in sorted(latest.items(), key=lambda item: (item[1] is None, item[1] or cutoff, item[0])):
        if when is None or when >= cutoff:
            result.kept += 1
        elif sender in busy:
            result.skipped.append(sender)
        else:
            result.due.append((sender, when))
    return result


def purge(url: Optional[str] = None, days: Optional[int] = None, dry_run: bool = False,
          now: Optional[datetime] = None, spool_path: Optional[Path] = None,
          progress_every: int = PROGRESS_EVERY, progress: Callable[[str], None] = lambda line: None) -> Report:
    """Erase (or, on a dry run, only list) the conversations older than `days` (default RETENTION_DAYS)."""
    days = retention_days() if days is None else days
    found = plan(url, days, now, spool_path)
    report = Report(days, dry_run, found.cutoff, kept=found.kept,
                    skipped=[pseudonym(sender) for sender in found.skipped])
    if not days:
        return report
    if dry_run:
        with session_scope(url) as session:
            report.rows = row_counts(session, [sender for sender, _ in found.due])
        for sender, when in found.due:
            alias = pseudonym(sender)
            report.purged.append(alias)
            report.last_activity[alias] = when
        return report
    for done, (sender, _planned) in enumerate(found.due, 1):
        # The person may have come back, or a hand-off opened, since the plan: check this one again.
        with session_scope(url) as session:
            latest = last_activity(session, [sender]).get(sender)
            busy = sender in open_handoffs(session, spool_path, sender)
        if busy:
            report.skipped.append(pseudonym(sender))
        elif latest is None or latest >= found.cutoff:
            report.kept += 1
        else:
            erased = erase_conversation(sender, url, spool_path)
            report.purged.append(erased.pseudonym)
            report.last_activity[erased.pseudonym] = latest
            for name, count in erased.counts.items():
                if count:
                    report.rows[name] = report.rows.get(name, 0) + count
        if progress_every and (done % progress_every == 0 or done == len(found.due)):
            progress(f"retention: {done} of {len(found.due)} conversations done")
    _audit(url, report)
    logger.info("retention purge: %d conversations, %d skipped (open hand-off), %d kept",
                len(report.purged), len(report.skipped), report.kept)
    return report


def _audit(url: Optional[str], report: Report) -> None:
    from bot.store.staff_repository import StaffStore

    StaffStore(url).audit(AUDIT_ACTION, None, None, {
        "summary": f"retention purge: {len(report.purged)} conversations",
        "conversations": len(report.purged), "skipped_open_handoff": len(report.skipped),
        "retention_days": report.days}, email=AUDIT_EMAIL)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store.retention", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list what would be purged; change nothing")
    parser.add_argument("--progress-every", type=int, default=PROGRESS_EVERY, metavar="N",
                        help=f"print progress every N conversations (default {PROGRESS_EVERY}; 0: never)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        days = retention_days()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if days and not get_settings().erasure_key:
        print("warning: ERASURE_KEY is not set; hand-offs kept after the purge carry a hash made with this "
              "machine's var/erasure_key. Set the same ERASURE_KEY as on the Rasa servers.", file=sys.stderr)
    report = purge(days=days, dry_run=args.dry_run, progress_every=args.progress_every,
                   progress=lambda line: print(line, file=sys.stderr, flush=True))
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
