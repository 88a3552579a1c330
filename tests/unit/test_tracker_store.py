"""Rasa's SQL tracker store on DATABASE_URL, and erasing a conversation at the person's request."""
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.store.repository import AppStore
from bot.store.tracker_store import AppTrackerStore, url_parts


def conversation(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("hello", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"), BotUttered("Hi, I'm the IPT assistant."),
        ActionExecuted("action_listen"),
    ])


def test_url_parts_for_sqlite_and_postgres():
    assert url_parts("sqlite:////tmp/x.db")["db"] == "/tmp/x.db"
    parts = url_parts("postgresql://u:p@db.example:5433/ipt")
    assert (parts["dialect"], parts["host"], parts["port"], parts["db"]) == ("postgresql", "db.example", 5433, "ipt")


async def test_events_are_stored_in_the_app_database(db_url):
    store = AppTrackerStore(url=db_url)
    await store.save(conversation("keep-me"))
    assert AppStore(db_url).count_tracker_events("keep-me") == 7
    transcript = AppStore(db_url).transcript("keep-me")
    assert [(line["from"], line["text"]) for line in transcript] == [
        ("person", "hello"), ("assistant", "Hi, I'm the IPT assistant.")]


async def test_a_turn_that_deletes_data_erases_the_whole_conversation(db_url):
    store = AppTrackerStore(url=db_url)
    AppStore(db_url).touch_person("rest", "erase-me")
    tracker = conversation("erase-me")
    await store.save(tracker)
    await store.save(conversation("someone-else"))
    for event in [UserUttered("delete my data", {"name": "delete_my_data"}),
                  ActionExecuted("utter_confirm_delete"), ActionExecuted("action_listen"),
                  UserUttered("yes", {"name": "affirm"}), ActionExecuted("utter_data_deleted"),
                  BotUttered("Done."), ActionExecuted("action_listen")]:
        tracker.update(event)
    await store.save(tracker)
    assert AppStore(db_url).count_tracker_events("erase-me") == 0
    assert AppStore(db_url).count_tracker_events("someone-else") == 7
    assert await store.retrieve("erase-me") is None
    assert AppStore(db_url).find_person("rest", "erase-me") is None
