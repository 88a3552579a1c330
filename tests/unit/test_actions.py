"""The actions, run as the action server runs them, on a real (temporary) database."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis import ActionCrisisHandoff
from bot.store.repository import AppStore


def make_tracker(sender: str, text: str, slots: dict | None = None, channel: str = "rest") -> Tracker:
    latest = {"text": text, "intent": {"name": "crisis", "confidence": 1.0}, "entities": []}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}]
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


@pytest.fixture
def database(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HANDOFF_SPOOL", str(tmp_path / "spool.jsonl"))
    return AppStore(sqlite_url)


async def test_crisis_handoff_records_the_handoff_and_opens_handoff_mode(database):
    tracker = make_tracker("person-1", "i want to kill myself", {"crisis_category": "suicide",
                                                                 "crisis_locale": "NZ"})
    dispatcher = CollectingDispatcher()
    events = await ActionCrisisHandoff().run(dispatcher, tracker, {})
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_status", "value": "requested"},
                      {"event": "slot", "timestamp": None, "name": "journey_step", "value": None}]
    assert dispatcher.messages == []  # the resources were already sent by the domain responses
    [handoff] = database.list_handoffs("requested")
    assert (handoff.sender_id, handoff.channel, handoff.category, handoff.locale, handoff.message) == (
        "person-1", "rest", "suicide", "NZ", "i want to kill myself")


async def test_crisis_handoff_without_a_category_is_recorded_as_unspecified(database):
    await ActionCrisisHandoff().run(CollectingDispatcher(), make_tracker("p2", "help me", {}), {})
    [handoff] = database.list_handoffs("requested")
    assert (handoff.category, handoff.locale) == ("unspecified", "US")
