"""Retention (issue 16, item 6): `RETENTION_DAYS` and `python -m bot.store.retention [--dry-run]`.

Conversations whose latest activity is older than the setting are erased as completely as "delete my
data" does (every table checked for the id and the words); recent ones and ones with an open hand-off
stay; a dry run and an unset setting change nothing. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import MetaData, select, update

from bot import logging_filter
from bot.crisis.handoff import HandoffRequest, HandoffSpool
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.store import retention
from bot.store.db import get_engine, session_scope
from bot.store.erasure import pseudonym
from bot.store.journey_repository import JourneyStore
from bot.store.models import Handoff, Journey, JourneyCheckin, JourneyPerson, Person, ReviewFlag
from bot.store.repository import AppStore
from bot.store.staff_models import ConversationSummary, StaffNote
from bot.store.staff_repository import EVENTS, StaffStore
from bot.store.tracker_store import AppTrackerStore

NOW = datetime.now(timezone.utc)
LONG_AGO = NOW - timedelta(days=400)
OLD, RECENT, WAITING = "old-conv-7f3a91", "recent-conv-2b8e44", "waiting-conv-5c1d07"
SPOOLED = "spooled-conv-9e6f12"


@pytest.fixture
def setting(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("ERASURE_KEY", "a-test-key")
    monkeypatch.setenv("HANDOFF_SPOOL", str(tmp_path / "spool.jsonl"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv(retention.ENV, raising=False)
    yield db_url, tmp_path / "spool.jsonl"
    logging_filter.uninstall()


def words(sender: str) -> tuple[str, ...]:
    """Values that belong to one conversation only (its id, a name and a word it used)."""
    tail = sender.split("-")[-1]
    return sender, f"Name{tail}", f"Word{tail}"


def build(url: str, sender: str, handoff: str = "closed") -> None:
    """A conversation in every table: events, summary and review, person, journey with people and
    check-ins, a hand-off with its notification, a review flag, a staff note, audit entries."""
    _, name, word = words(sender)
    tracker = DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered(f"hi, it's {name}, {word} again", {"name": "greet", "confidence": 1.0}, input_channel="rest"),
        ActionExecuted("utter_greet"), BotUttered("Hi."), ActionExecuted("action_listen")])
    asyncio.run(AppTrackerStore(url=url).save(tracker))
    app = AppStore(url)
    app.touch_person("rest", sender)
    app.set_display_name("rest", sender, name)
    JourneyStore(url).save(JourneyState(
        sender_id=sender, display_name=name, phase="middle", focus="role_dispute",
        people=[PersonEntry(name=f"{name} Senior", relationship="father", hard=f"{word} fights")],
        checkins=[CheckinEntry(kind="weekly", mood=3, week=1, details={"answer": f"{word} talk"})]))
    handoff_id = app.open_handoff(HandoffRequest("rest", sender, "suicide", "US", f"{word} can't go on"), ["webhook"])
    if handoff != "requested":
        app.set_handoff_status(handoff_id, handoff, "Dr Lee")
    app.flag_for_review("rest", sender, "safety_check_no", f"{word} no")
    staff = StaffStore(url)
    staff.sync_conversations()
    staff.add_note(sender, "lee@clinic.test", f"Talked with {name} about {word}.")
    staff.set_review(sender, "follow_up", [word], "lee@clinic.test")
    staff.audit("view", None, sender, None, "127.0.0.1", email="lee@clinic.test")


def backdate(url: str, sender: str, when: datetime = LONG_AGO) -> None:
    """Every time recorded about the conversation moved to `when` (as if nobody touched it since)."""
    journeys = select(Journey.id).where(Journey.sender_id == sender).scalar_subquery()
    with session_scope(url) as session:
        session.execute(update(EVENTS).where(EVENTS.c.sender_id == sender).values(timestamp=when.timestamp()))
        session.execute(update(ConversationSummary).where(ConversationSummary.sender_id == sender).values(
            first_at=when.timestamp(), last_at=when.timestamp(), reviewed_at=when))
        session.execute(update(Person).where(Person.sender_id == sender).values(created_at=when, last_seen_at=when))
        session.execute(update(Journey).where(Journey.sender_id == sender).values(created_at=when, updated_at=when))
        session.execute(update(JourneyPerson).where(JourneyPerson.journey_id.in_(journeys)).values(
            created_at=when, updated_at=when), execution_options={"synchronize_session": False})
        session.execute(update(JourneyCheckin).where(JourneyCheckin.journey_id.in_(journeys)).values(
            created_at=when), execution_options={"synchronize_session": False})
        session.execute(update(Handoff).where(Handoff.sender_id == sender).values(
            created_at=when, taken_at=when, closed_at=when, last_message_at=None))
        session.execute(update(ReviewFlag).where(ReviewFlag.sender_id == sender).values(created_at=when))
        session.execute(update(StaffNote).where(StaffNote.sender_id == sender).values(created_at=when))


def every_value(url: str) -> list[tuple[str, str]]:
    """(table, value) for every non-empty value of every row of every table."""
    meta = MetaData()
    meta.reflect(bind=get_engine(url))
    found = []
    with get_engine(url).connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)):
                found += [(table.name, str(value)) for value in row if value not in (None, "")]
    return found


def holding(url: str, sender: str) -> set[str]:
    """The tables that still hold the conversation's id or its words."""
    return {table for table, value in every_value(url) if any(w.lower() in value.lower() for w in words(sender))}


EVERYWHERE = {"events", "conversation", "person", "journey", "journey_person", "journey_checkin", "handoff",
              "review_flag", "staff_note", "staff_audit"}


def test_an_old_conversation_is_purged_entirely_a_recent_one_and_an_open_hand_off_stay(setting, monkeypatch):
    url, spool_path = setting
    for sender, handoff in ((OLD, "closed"), (RECENT, "closed"), (WAITING, "requested"), ("old-taken-4d2a", "taken")):
        build(url, sender, handoff)
    for sender in (OLD, WAITING, "old-taken-4d2a"):
        backdate(url, sender)
    HandoffSpool(spool_path).append(HandoffRequest("rest", SPOOLED, "suicide", "US", "spooled words"))
    JourneyStore(url).save(JourneyState(sender_id=SPOOLED, display_name="Spooly"))
    backdate(url, SPOOLED)
    assert holding(url, OLD) == EVERYWHERE  # the check below can fail
    recent_before = sorted(v for v in every_value(url) if RECENT in v[1] or "2b8e44" in v[1])
    monkeypatch.setenv(retention.ENV, "90")

    lines = []
    report = retention.purge(url, progress_every=1, progress=lines.append)

    assert report.purged == [pseudonym(OLD)]
    assert sorted(report.skipped) == sorted(pseudonym(s) for s in (WAITING, "old-taken-4d2a", SPOOLED))
    assert report.kept == 1 and report.rows["events"] > 0 and report.rows["journey"] == 1
    # Nothing of the old conversation is left but the anonymous hand-off and audit entries.
    assert holding(url, OLD) == set()
    kept = [h for h in AppStore(url).list_handoffs() if h.sender_id == pseudonym(OLD)]
    assert len(kept) == 1 and kept[0].status == "closed" and kept[0].category == "suicide"
    assert StaffStore(url).audit_entries(target=pseudonym(OLD))[1] == 1
    # The recent one is untouched, row for row; the waiting and taken ones keep everything.
    assert sorted(v for v in every_value(url) if RECENT in v[1] or "2b8e44" in v[1]) == recent_before
    assert holding(url, WAITING) == EVERYWHERE
    assert holding(url, "old-taken-4d2a") == EVERYWHERE
    assert JourneyStore(url).load(SPOOLED).display_name == "Spooly"
    # Progress was shown and the audit log has the purge, without any id.
    assert lines == ["retention: 1 of 1 conversations done"]
    entries = [e for e in StaffStore(url).audit_entries()[0] if e["action"] == retention.AUDIT_ACTION]
    assert len(entries) == 1 and entries[0]["target"] is None
    detail = json.dumps(entries[0], default=str)
    assert "retention purge: 1 conversations" in detail
    assert not any(marker in detail for s in (OLD, RECENT, WAITING) for marker in (s, pseudonym(s)))


def test_a_conversation_that_comes_back_during_the_purge_is_kept(setting, monkeypatch):
    url, _ = setting
    for sender in (OLD, "old-second-8a1b"):
        build(url, sender)
        backdate(url, sender)
    monkeypatch.setenv(retention.ENV, "30")
    found = retention.plan(url, 30)
    assert [s for s, _ in found.due] == [OLD, "old-second-8a1b"]  # oldest first, then by id
    lines = []

    def progress(line: str) -> None:  # after the first is erased, the second person writes again
        lines.append(line)
        AppStore(url).touch_person("rest", "old-second-8a1b")

    report = retention.purge(url, progress_every=1, progress=progress)
    assert report.purged == [pseudonym(OLD)] and report.kept == 1
    assert lines == ["retention: 1 of 2 conversations done", "retention: 2 of 2 conversations done"]
    assert holding(url, "old-second-8a1b") == EVERYWHERE


def test_the_dry_run_lists_hashed_ids_and_counts_and_changes_nothing(setting, monkeypatch, capsys):
    url, _ = setting
    build(url, OLD)
    build(url, WAITING, "requested")
    backdate(url, OLD)
    backdate(url, WAITING)
    before = sorted(every_value(url))
    monkeypatch.setenv(retention.ENV, "90")

    assert retention.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert sorted(every_value(url)) == before
    assert pseudonym(OLD) in out and pseudonym(WAITING) in out
    assert "would purge 1 conversations" in out and "skipped 1 (open hand-off)" in out
    assert "events " in out and "journey 1" in out
    assert not any(w in out for s in (OLD, WAITING) for w in words(s)), out
    report = retention.purge(url, dry_run=True)
    assert report.purged == [pseudonym(OLD)] and report.rows["journey_person"] == 1
    assert sorted(every_value(url)) == before


def test_unset_or_zero_keeps_everything(setting, monkeypatch, capsys):
    url, _ = setting
    build(url, OLD)
    backdate(url, OLD, NOW - timedelta(days=5000))
    before = sorted(every_value(url))
    for value in (None, "", "0"):
        if value is None:
            monkeypatch.delenv(retention.ENV, raising=False)
        else:
            monkeypatch.setenv(retention.ENV, value)
        assert retention.main([]) == 0
        assert "nothing to do" in capsys.readouterr().out
        assert retention.purge(url).purged == []
    assert sorted(every_value(url)) == before


@pytest.mark.parametrize("value", ["ninety", "-3", "1.5"])
def test_a_wrong_setting_stops_with_a_message(monkeypatch, capsys, value):
    monkeypatch.setenv(retention.ENV, value)
    assert retention.main(["--dry-run"]) == 2
    assert "RETENTION_DAYS" in capsys.readouterr().err


def test_the_kubernetes_cronjob_and_make_targets_run_the_purge(monkeypatch, capsys):
    import yaml

    from bot import PROJECT_ROOT

    k8s = PROJECT_ROOT / "deploy" / "k8s"
    assert "retention-cronjob.yaml" in yaml.safe_load((k8s / "kustomization.yaml").read_text())["resources"]
    job = yaml.safe_load((k8s / "retention-cronjob.yaml").read_text())
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:3] == ["python", "-m", "bot.store.retention"]
    assert {"name": retention.ENV, "value": "0"} in container["env"]  # keeps everything until a clinic decides
    monkeypatch.delenv(retention.ENV, raising=False)
    assert retention.main(container["command"][3:]) == 0  # its arguments are ones the module takes
    assert "nothing to do" in capsys.readouterr().out
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "$(PY) -m bot.store.retention\n" in makefile and "$(PY) -m bot.store.retention --dry-run\n" in makefile
