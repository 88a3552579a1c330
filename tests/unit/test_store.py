"""The app store on SQLite and on PostgreSQL: people, hand-offs, the outbox, deletion."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import Person
from bot.store.repository import AppStore


def test_touch_person_creates_once_per_channel_and_sender(db_url):
    store = AppStore(db_url)
    first = store.touch_person("rest", "abc")
    again = store.touch_person("rest", "abc")
    other_channel = store.touch_person("telegram", "abc")
    assert first.id == again.id
    assert other_channel.id != first.id
    assert store.find_person("rest", "nobody") is None


def test_channel_and_sender_are_unique(db_url):
    AppStore(db_url).touch_person("rest", "dup")
    with pytest.raises(IntegrityError):
        with session_scope(db_url) as session:
            session.add(Person(channel="rest", sender_id="dup"))


def test_display_name_is_saved(db_url):
    store = AppStore(db_url)
    store.touch_person("rest", "named")
    store.set_display_name("rest", "named", "Sam")
    assert store.find_person("rest", "named").display_name == "Sam"


def test_open_handoff_records_it_with_one_notification_per_kind(db_url):
    store = AppStore(db_url)
    request = HandoffRequest("rest", "s1", "suicide", "US", "i want to die")
    handoff_id = store.open_handoff(request, ["webhook", "email"])
    handoff = store.get_handoff(handoff_id)
    assert (handoff.category, handoff.status, handoff.message) == ("suicide", "requested", "i want to die")
    assert [h.id for h in store.list_handoffs("requested")] == [handoff_id]
    claimed = store.claim_due_outbox(datetime.now(timezone.utc) + timedelta(seconds=1))
    assert sorted(item.kind for item in claimed) == ["email", "webhook"]
    assert all(item.payload["handoff_id"] == handoff_id for item in claimed)
    assert "i want to die" not in str(claimed[0].payload)  # no message text leaves the clinic


def test_outbox_item_is_claimed_once_and_retried_after_failure(db_url):
    store = AppStore(db_url)
    store.open_handoff(HandoffRequest("rest", "s2", "abuse", "US", "he hits me"), ["webhook"])
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    [item] = store.claim_due_outbox(now)
    assert store.claim_due_outbox(now) == []  # already claimed
    store.finish_outbox(item.id, "ConnectionRefusedError", now + timedelta(seconds=30))
    assert store.claim_due_outbox(now) == []  # not yet due
    [again] = store.claim_due_outbox(now + timedelta(seconds=31))
    assert again.id == item.id and again.attempts == 2
    store.finish_outbox(item.id, None, None)
    assert store.claim_due_outbox(now + timedelta(days=1)) == []


def test_handoff_status_moves_to_taken_then_closed(db_url):
    store = AppStore(db_url)
    handoff_id = store.open_handoff(HandoffRequest("rest", "s3", "suicide", "US", "x"), [])
    store.set_handoff_status(handoff_id, "taken", "Dr Lee")
    assert store.get_handoff(handoff_id).taken_by == "Dr Lee"
    store.set_handoff_status(handoff_id, "closed")
    assert store.list_handoffs("requested") == []
    assert store.get_handoff(handoff_id).status == "closed"


def test_delete_person_data_removes_the_person_but_keeps_a_blanked_handoff(db_url):
    store = AppStore(db_url)
    store.touch_person("rest", "gone")
    handoff_id = store.open_handoff(HandoffRequest("rest", "gone", "suicide", "US", "private words"), [])
    assert store.delete_person_data("gone") == 1
    assert store.find_person("rest", "gone") is None
    kept = store.get_handoff(handoff_id)
    assert kept.category == "suicide" and "private words" not in kept.message
