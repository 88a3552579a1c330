"""The dashboard's repository on SQLite and PostgreSQL: the conversation summary, search, the audit log."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from bot.journey.state import JourneyState, PersonEntry
from bot.store.db import get_engine, session_scope
from bot.store.journey_repository import JourneyStore
from bot.store.repository import AppStore
from bot.store.staff_repository import EVENTS, ConversationFilter, StaffStore
from bot.web.dashboard.routes import journey as dashboard_journey


def add_events(url: str, rows: list[tuple]) -> None:
    EVENTS.create(get_engine(url), checkfirst=True)
    with get_engine(url).begin() as connection:
        connection.execute(EVENTS.insert(), [
            {"sender_id": s, "type_name": kind, "timestamp": t, "intent_name": intent, "action_name": None,
             "data": json.dumps(data)} for s, kind, t, intent, data in rows])


def user(sender, t, words, intent="greet", category=None):
    parse = {"intent": {"name": intent, "confidence": 0.9, **({"crisis_category": category} if category else {})}}
    return (sender, "user", t, intent, {"event": "user", "text": words, "parse_data": parse, "input_channel": "rest"})


def test_summary_is_incremental_and_search_is_literal(db_url):
    store = StaffStore(db_url)
    add_events(db_url, [user("a", 1.0, "Hello 50%_off"), ("a", "bot", 2.0, None, {"event": "bot", "text": "Hi"}),
                        user("b", 3.0, "I want to die", "crisis", "suicide")])
    assert store.sync_conversations() == 3
    page = store.list_conversations(ConversationFilter())
    assert [r["sender_id"] for r in page.rows] == ["b", "a"] and page.counts["crisis"] == 1
    assert page.rows[0]["crisis_categories"] == ["suicide"]
    add_events(db_url, [user("a", 5.0, "back again"), ("a", "bot", 6.0, None,
                                                      {"event": "bot", "text": "From staff", "metadata":
                                                       {"from_staff": "Sam"}})])
    assert store.sync_conversations() == 2 and store.sync_conversations() == 0
    rows = store.list_conversations(ConversationFilter()).rows
    assert rows[0]["sender_id"] == "a" and rows[0]["n_messages"] == 4
    search = lambda q: [r["sender_id"] for r in store.list_conversations(ConversationFilter(q=q)).rows]  # noqa: E731
    assert search("BACK again") == ["a"] and search("from staff") == ["a"] and search("hi") == []
    assert search("50%_off") == ["a"] and search("5%") == [] and search("0__f") == []
    assert search("want to die") == ["b"]
    assert [r["sender_id"] for r in store.list_conversations(ConversationFilter(crisis=True)).rows] == ["b"]
    assert store.list_conversations(ConversationFilter(date_from=4.0)).total == 1


def test_erased_conversations_leave_the_summary(db_url):
    store = StaffStore(db_url)
    add_events(db_url, [user("gone", 1.0, "hello"), user("kept", 2.0, "hello")])
    store.sync_conversations()
    with get_engine(db_url).begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.sender_id == "gone"))
    assert store.forget_if_erased("gone") and not store.forget_if_erased("kept")
    store.reconcile()
    assert [r["sender_id"] for r in store.list_conversations(ConversationFilter()).rows] == ["kept"]


def test_audit_log_is_append_only(db_url):
    store = StaffStore(db_url)
    store.audit("login", None, None, {"x": 1}, "127.0.0.1", email="a@b.c")
    for statement in ("UPDATE staff_audit SET action = 'x'", "DELETE FROM staff_audit"):
        with pytest.raises(Exception, match="append-only"):
            with session_scope(db_url) as session:
                session.execute(text(statement))
    assert store.audit_entries(user="A@b.c")[1] == 1


def journey(url: str, sender: str, phase: str, focus: str | None = None) -> None:
    JourneyStore(url).save(JourneyState(sender_id=sender, phase=phase, focus=focus,
                                        people=[PersonEntry(name="Sam", closeness="inner")]))


def test_phase_and_focus_filters_read_the_journey(db_url):
    store = StaffStore(db_url)
    add_events(db_url, [user(s, t, "hello") for t, s in enumerate(("mid", "dispute-early", "none", "grief"), 1)])
    store.sync_conversations()
    journey(db_url, "mid", "middle", "role_dispute")
    journey(db_url, "dispute-early", "initial", "role_dispute")
    journey(db_url, "grief", "termination", "grief")
    ids = lambda **f: [r["sender_id"] for r in store.list_conversations(ConversationFilter(**f)).rows]  # noqa: E731
    assert ids(phase="middle") == ["mid"]
    assert ids(focus="role_dispute") == ["dispute-early", "mid"]
    assert ids(phase="initial", focus="role_dispute") == ["dispute-early"]
    assert ids(phase="middle", q="hello") == ["mid"] and ids(phase="middle", q="nothing like it") == []
    assert ids(phase="completed") == [] and ids(focus="interpersonal_deficits") == []
    assert store.filtered_sender_ids(ConversationFilter(focus="grief"), 10) == ["grief"]
    rows = {r["sender_id"]: (r["phase"], r["focus"]) for r in store.list_conversations(ConversationFilter()).rows}
    assert rows == {"mid": ("middle", "role_dispute"), "dispute-early": ("initial", "role_dispute"),
                    "none": (None, None), "grief": ("termination", "grief")}
    assert (store.conversation("mid")["phase"], store.conversation("mid")["focus"]) == ("middle", "role_dispute")
    # The journey moves on without a new event: the filters follow at once.
    journey(db_url, "dispute-early", "middle", "role_dispute")
    assert ids(phase="middle") == ["dispute-early", "mid"]
    # Deleted at the person's request: no phase, no focus, no summary, even before the events go.
    AppStore(db_url).delete_person_data("mid")
    assert ids(phase="middle") == ["dispute-early"] and ids(focus="role_dispute") == ["dispute-early"]
    assert (store.conversation("mid")["phase"], store.conversation("mid")["focus"]) == (None, None)
    assert JourneyStore(db_url).summary("mid") is None and dashboard_journey("mid", db_url) is None
    assert "mid" in ids()  # the conversation itself stays until its events are erased
