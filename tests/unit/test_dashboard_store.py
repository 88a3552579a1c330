"""The dashboard's repository on SQLite and PostgreSQL: the conversation summary, search, the audit log."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from bot.store.db import get_engine, session_scope
from bot.store.staff_repository import EVENTS, ConversationFilter, StaffStore


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
