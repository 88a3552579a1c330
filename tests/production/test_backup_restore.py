"""Backup and restore (issue 16, item 6), the commands of docs/operators/backup-restore.md, run once:
a journey and its conversation saved through the store API, `pg_dump` of the database, `pg_restore`
into a fresh empty database, and everything loads the same there: the journey with its people and
check-ins, the closeness-circle picture's token, the transcript the assistant resumes from, the
migrations' version, the audit log's append-only rule, and new rows get new ids. SQLite's `.backup`
likewise."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from dataclasses import asdict

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot import logging_filter
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.store.db import get_engine, session_scope
from bot.store.journey_repository import JourneyStore
from bot.store.migrate import upgrade
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from tests.conftest import POSTGRES_ADMIN_URL, temporary_postgres_database

SENDER = "backup-conv-3f9a"


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (Debian: apt-get install postgresql-client / sqlite3)")
    return path


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("ERASURE_KEY", "a-test-key")
    yield
    logging_filter.uninstall()  # AppTrackerStore installs the log filter, as in the Rasa server


def journey_and_conversation(url: str) -> tuple[JourneyState, DialogueStateTracker]:
    """A journey in the middle phase and the conversation that led there, saved as the servers do."""
    tracker = DialogueStateTracker.from_events(SENDER, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("hi, I'm Maren", {"name": "greet", "confidence": 1.0}, input_channel="rest"),
        SlotSet("display_name", "Maren"), ActionExecuted("utter_greet"), BotUttered("Hi Maren."),
        ActionExecuted("action_listen")])
    asyncio.run(AppTrackerStore(url=url).save(tracker))
    state = JourneyStore(url).save(JourneyState(
        sender_id=SENDER, display_name="Maren", phase="middle", focus="role_transition", week=3,
        people=[PersonEntry(name="Ilse", relationship="sister", closeness="inner", hard="moving away"),
                PersonEntry(name="Tomas", relationship="friend", closeness="middle")],
        checkins=[CheckinEntry(kind="initial", mood=2, week=0), CheckinEntry(kind="weekly", mood=4, week=3,
                                                                             details={"answer": "called Ilse"})],
        goals=["call Ilse weekly"]))
    StaffStore(url).audit("view", None, SENDER, None, "127.0.0.1", email="lee@clinic.test")
    return state, tracker


def loaded(url: str) -> dict:
    """What the assistant and the dashboard read back for the conversation."""
    state = JourneyStore(url).load(SENDER)
    tracker = asyncio.run(AppTrackerStore(url=url).retrieve(SENDER))
    return {"journey": asdict(state), "events": [event.as_dict() for event in tracker.events],
            "picture": asdict(JourneyStore(url).by_image_token(state.image_token))}


def versions(url: str) -> list[str]:
    with get_engine(url).connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def still_works(url: str, before: dict) -> None:
    assert loaded(url) == before
    upgrade(url)  # a restored database is at the migrations' head already: nothing to do, no error
    with pytest.raises(Exception, match="append-only"):
        with session_scope(url) as session:
            session.execute(text("DELETE FROM staff_audit"))
    other = JourneyStore(url).save(JourneyState(sender_id="after-restore", people=[PersonEntry(name="Ana")]))
    assert JourneyStore(url).load("after-restore").people[0].name == "Ana" and other.image_token


def test_pg_dump_and_pg_restore_into_a_fresh_database_bring_the_journey_back(tmp_path):
    pg_dump, pg_restore = tool("pg_dump"), tool("pg_restore")
    with temporary_postgres_database() as (url, admin):
        state, _ = journey_and_conversation(url)
        before = loaded(url)
        assert before["journey"]["people"][0]["name"] == "Ilse" and len(before["journey"]["checkins"]) == 2
        assert {"event": "slot", "name": "display_name", "value": "Maren"}.items() <= next(
            e for e in before["events"] if e["event"] == "slot").items() and state.image_token
        dump = tmp_path / "ipt.dump"
        # docs/operators/backup-restore.md: pg_dump --format=custom --file=ipt-$(date +%F).dump "$DATABASE_URL"
        subprocess.run([pg_dump, "--format=custom", f"--file={dump}", url], check=True, timeout=120)
        assert dump.stat().st_size > 0

        name = f"ipt_restore_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        restored = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            with create_engine(restored, future=True).connect() as connection:  # really fresh: no tables
                assert connection.execute(text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")).scalar() == 0
            # the guide: pg_restore --no-owner --no-privileges --exit-on-error --dbname="$NEW_DB_URL" ipt.dump
            subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={restored}",
                            str(dump)], check=True, timeout=120)
            assert versions(restored) == versions(url)
            still_works(restored, before)
        finally:
            get_engine(restored).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_sqlite_backup_copy_brings_the_journey_back(tmp_path):
    sqlite3 = tool("sqlite3")
    source = tmp_path / "ipt.db"
    url = f"sqlite:///{source}"
    upgrade(url)
    journey_and_conversation(url)
    before = loaded(url)
    copy = tmp_path / "restore" / "ipt.db"
    copy.parent.mkdir()
    # docs/operators/backup-restore.md: sqlite3 var/ipt.db ".backup 'var/ipt-backup.db'" (safe while the servers run)
    subprocess.run([sqlite3, str(source), f".backup '{copy}'"], check=True, timeout=60)
    still_works(f"sqlite:///{copy}", before)


def test_the_guides_give_the_commands_this_test_runs():
    from bot import PROJECT_ROOT

    guide = (PROJECT_ROOT / "docs" / "operators" / "backup-restore.md").read_text()
    assert 'pg_dump --format=custom --file=ipt-$(date +%F).dump "$DATABASE_URL"' in guide
    assert "pg_restore --no-owner --no-privileges --exit-on-error --dbname=" in guide
    assert "sqlite3 var/ipt.db \".backup 'var/ipt-backup.db'\"" in guide
    retention = (PROJECT_ROOT / "docs" / "operators" / "retention.md").read_text()
    assert "| `RETENTION_DAYS` |" in retention and "make purge-dry-run" in retention
