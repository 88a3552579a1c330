"""Apprise notifications: real Apprise deliveries (its json:// and form:// services) to local stand-in
HTTP servers, from the same outbox as the webhook, retried while a service is down, never the person's
words; escalations go there too; a URL Apprise cannot send to stops start-up."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from bot.crisis import notifier
from bot.crisis.handoff import HandoffRequest, HandoffSpool, notification_kinds
from bot.handoff import apprise_notify, escalation
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from bot.store.repository import AppStore
from tests.unit.test_notifier import Receiver, free_port

WORDS = "I have the pills here and nobody would miss me"


@pytest.fixture(autouse=True)
def apprise_only(monkeypatch):
    for name in ("STAFF_WEBHOOK_URL", "SMTP_HOST", "STAFF_EMAIL_TO", "ONCALL_WEBHOOK_URL", "ONCALL_EMAIL_TO",
                 "HANDOFF_ESCALATE_AFTER_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://clinic.example")


@pytest.fixture
def services(monkeypatch):
    """Two stand-in services, one reached as json://, one as form://; started by each test."""
    receivers = [Receiver(free_port()), Receiver(free_port())]
    monkeypatch.setenv(apprise_notify.SETTING, f"json://127.0.0.1:{receivers[0].port}/slack-bridge, "
                                               f"form://127.0.0.1:{receivers[1].port}/sms-gateway")
    yield receivers
    for receiver in receivers:
        if receiver.server:
            receiver.stop()


def open_handoff(store: AppStore, sender: str, created: datetime) -> int:
    return store.open_handoff(HandoffRequest("socketio", sender, "self_harm", "US", WORDS, created.isoformat()),
                              notification_kinds())


def test_a_hand_off_reaches_every_apprise_service_without_the_persons_words(sqlite_url, services):
    for receiver in services:
        receiver.start()
    store = AppStore(sqlite_url)
    created = datetime(2026, 5, 6, 14, 3, tzinfo=timezone.utc)
    hid = open_handoff(store, "apprise-1", created)
    assert notifier.deliver_due(store, datetime.now(timezone.utc) + timedelta(seconds=1)) == {
        "delivered": 1, "failed": 0}
    [(_, body)] = services[0].requests
    sent = json.loads(body)
    assert sent["title"] == f"Crisis hand-off #{hid} (Self-harm)" and sent["type"] == "warning"
    assert "since 2026-05-06 14:03 UTC" in sent["message"] and "via socketio" in sent["message"]
    assert f"https://clinic.example/staff/handoffs/{hid}" in sent["message"]
    [(_, form)] = services[1].requests
    fields = parse_qs(form.decode())
    assert fields["title"] == [sent["title"]] and fields["message"] == [sent["message"]]
    assert "pills" not in body.decode() + form.decode()


def test_a_service_that_is_down_gets_it_through_the_outbox_retries_once_it_is_back(sqlite_url, services):
    services[0].start()  # the SMS gateway (form://) is down
    store = AppStore(sqlite_url)
    open_handoff(store, "apprise-2", datetime.now(timezone.utc))
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert notifier.deliver_due(store, now) == {"delivered": 0, "failed": 1}
    with session_scope(sqlite_url) as session:
        [row] = session.execute(select(OutboxMessage)).scalars().all()
        assert (row.kind, row.status, row.attempts) == ("apprise", "pending", 1)
        assert "could not deliver to 1 of 2: form://127.0.0.1" in row.last_error
    assert notifier.deliver_due(store, now + timedelta(seconds=2)) == {"delivered": 0, "failed": 0}  # backing off
    services[1].start()
    assert notifier.deliver_due(store, now + timedelta(seconds=6)) == {"delivered": 1, "failed": 0}
    for minutes in (1, 10, 120):
        notifier.deliver_due(store, now + timedelta(minutes=minutes))
    assert len(services[1].requests) == 1
    assert len(services[0].requests) == 2  # the retry goes to every URL again


def test_an_escalation_goes_to_apprise_when_no_on_call_target_is_set(sqlite_url, services, tmp_path):
    for receiver in services:
        receiver.start()
    store, spool = AppStore(sqlite_url), HandoffSpool(tmp_path / "spool.jsonl")
    settings = escalation.load_settings()
    t0 = datetime.now(timezone.utc)
    hid = open_handoff(store, "apprise-3", t0)
    notifier.run_once(store, spool, settings, t0 + timedelta(seconds=5))
    assert notifier.run_once(store, spool, settings, t0 + timedelta(minutes=11))["escalated"] == 1
    first, second = (json.loads(body) for _, body in services[0].requests)
    assert first["type"] == "warning" and second["type"] == "failure"
    assert second["title"] == f"ESCALATION: crisis hand-off #{hid} not taken for 11 min (Self-harm)"
    assert "priority 1" in second["message"] and "pills" not in second["message"]
    assert len(services[1].requests) == 2


def test_a_url_apprise_cannot_send_to_stops_start_up(monkeypatch):
    monkeypatch.setenv(apprise_notify.SETTING, "json://127.0.0.1/ok, notaservice://secret-token@x")
    with pytest.raises(ValueError, match=r"NOTIFY_APPRISE_URLS: URL 2 \(notaservice://...\)") as error:
        escalation.check_settings()
    assert "secret-token" not in str(error.value)
    monkeypatch.setenv(apprise_notify.SETTING, "")
    escalation.check_settings()
    assert notification_kinds() == []
