"""Regression: the conversation list's "latest" time and message count stopped while the transcript went on.

Cause: the summary reads Rasa's events with `id > last read id`; on SQLite `events.id` is a plain
INTEGER PRIMARY KEY, so after the conversation holding the highest ids is erased at the person's
request, new events get ids at or below the mark and were never read. Real Rasa events, real SQLite.
"""
from __future__ import annotations

import asyncio

from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from bot.store.db import get_engine
from bot.store.staff_repository import ConversationFilter, StaffStore
from bot.store.tracker_store import AppTrackerStore


def say(url: str, sender: str, *texts: str) -> None:
    """The person says each text and the assistant answers, saved as Rasa saves a turn."""
    store = AppTrackerStore(url=url)
    tracker = asyncio.run(store.retrieve(sender))
    if tracker is None:
        tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")])
    for words in texts:
        tracker.update(UserUttered(words, {"name": "greet", "confidence": 0.9}, input_channel="rest"))
        tracker.update(ActionExecuted("utter_ok"))
        tracker.update(BotUttered("I hear you."))
        tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))


def max_event_id(url: str) -> int:
    with get_engine(url).connect() as connection:
        return connection.execute(text("SELECT MAX(id) FROM events")).scalar()


def test_events_after_the_newest_conversation_was_erased_still_reach_the_list(sqlite_url):
    say(sqlite_url, "amal", "hello")
    say(sqlite_url, "bea", "one", "two", "three")  # holds the highest event ids
    store = StaffStore(sqlite_url)
    store.sync_conversations()
    read_up_to = max_event_id(sqlite_url)
    assert store.conversation("amal")["n_messages"] == 2

    AppTrackerStore(url=sqlite_url).erase("bea")
    say(sqlite_url, "amal", "my mum and I argued", "it was about money")
    assert max_event_id(sqlite_url) <= read_up_to  # the cause: SQLite gave the new events erased ids

    store.sync_conversations()
    amal = store.conversation("amal")
    assert amal["n_messages"] == 6 and amal["last_text"] == "it was about money"
    transcript = store.transcript("amal")
    assert amal["last_at"] >= max(line["timestamp"] for line in transcript)
    assert store.conversation("bea") is None  # erased: gone from the list too
    rows = {r["sender_id"]: r for r in store.list_conversations(ConversationFilter()).rows}
    assert rows["amal"]["n_messages"] == 6 and "bea" not in rows


def test_an_erased_conversation_that_starts_again_counts_only_its_new_messages(sqlite_url):
    say(sqlite_url, "amal", "hello")
    say(sqlite_url, "bea", "one", "two", "three")
    store = StaffStore(sqlite_url)
    store.sync_conversations()
    AppTrackerStore(url=sqlite_url).erase("bea")
    say(sqlite_url, "bea", "I'm back")  # the same conversation id, on reused ids
    store.sync_conversations()
    assert store.conversation("bea")["n_messages"] == 2 and store.conversation("bea")["last_text"] == "I'm back"
    assert store.conversation("amal")["n_messages"] == 2


def test_nothing_is_counted_twice_whichever_conversation_was_erased(db_url):
    say(db_url, "amal", "hello")
    say(db_url, "cal", "hi")
    say(db_url, "bea", "one")
    store = StaffStore(db_url)
    store.sync_conversations()
    store.sync_conversations()
    assert store.conversation("bea")["n_messages"] == 2
    AppTrackerStore(url=db_url).erase("cal")  # not the newest: its ids are never given out again
    say(db_url, "amal", "still here")
    store.sync_conversations()
    store.sync_conversations()
    assert store.conversation("amal")["n_messages"] == 4 and store.conversation("bea")["n_messages"] == 2

    say(db_url, "dan", "the newest")
    store.sync_conversations()
    AppTrackerStore(url=db_url).erase("dan")  # the newest, on either database
    say(db_url, "amal", "and again")
    store.sync_conversations()
    store.sync_conversations()
    assert store.conversation("amal")["n_messages"] == 6 and store.conversation("bea")["n_messages"] == 2
    assert store.conversation("dan") is None
