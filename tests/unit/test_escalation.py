"""Escalation of hand-offs nobody took in time: once, after the limit, never when taken, closed or off;
safe with several workers; bad settings stop start-up. Real databases, an injected clock."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.crisis import notifier
from bot.crisis.handoff import HandoffRequest, HandoffSpool
from bot.handoff import escalation
from bot.handoff.escalation import EscalationSettings, escalate_overdue, load_settings
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from bot.store.repository import AppStore, OutboxRecord
from tests.unit.test_dashboard_web import dash, signed_in  # noqa: F401 - its fixture
from tests.unit.test_notifier import Receiver, free_port

T0 = datetime(2024, 5, 6, 14, 0, tzinfo=timezone.utc)
WORDS = "nobody would miss me, I have the pills here"
TEN = EscalationSettings(timedelta(minutes=10))


def open_at(store: AppStore, sender: str, when: datetime = T0, category: str = "suicide",
            notify: list[str] | None = None) -> int:
    return store.open_handoff(HandoffRequest("rest", sender, category, "US", WORDS, when.isoformat()),
                              ["webhook"] if notify is None else notify)


def escalations(url: str) -> list[tuple[int, str, dict]]:
    with session_scope(url) as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        return [(r.handoff_id, r.kind, json.loads(r.payload)) for r in rows
                if json.loads(r.payload).get("escalation")]


@pytest.fixture(autouse=True)
def staff_webhook_only(monkeypatch):
    for name in ("ONCALL_WEBHOOK_URL", "ONCALL_EMAIL_TO", "HANDOFF_ESCALATE_AFTER_MINUTES", "SMTP_HOST",
                 "STAFF_EMAIL_TO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAFF_WEBHOOK_URL", "http://127.0.0.1:9/not-called-here")


def test_escalates_once_after_the_limit_with_no_words_of_the_person(sqlite_url):
    store = AppStore(sqlite_url)
    hid = open_at(store, "waiting-1")
    assert escalate_overdue(store, T0 + timedelta(minutes=9, seconds=59), TEN) == []
    assert escalations(sqlite_url) == []
    assert escalate_overdue(store, T0 + timedelta(minutes=12), TEN) == [hid]
    [(handoff_id, kind, payload)] = escalations(sqlite_url)
    assert (handoff_id, kind) == (hid, "webhook")  # no on-call target: the staff's own, marked as escalation
    assert payload["event"] == "crisis_handoff_escalation" and payload["waited_minutes"] == 12
    assert payload["category"] == "suicide" and payload["priority"] == 1
    assert "pills" not in json.dumps(payload) and "message" not in payload
    assert store.get_handoff(hid).escalated_at is not None
    for later in (13, 30, 600):  # the worker runs every few seconds
        assert escalate_overdue(store, T0 + timedelta(minutes=later), TEN) == []
    assert len(escalations(sqlite_url)) == 1


def test_a_merged_risk_message_later_does_not_escalate_again(sqlite_url):
    store = AppStore(sqlite_url)
    hid = open_at(store, "waiting-2", category="self_harm")
    assert escalate_overdue(store, T0 + timedelta(minutes=11), TEN) == [hid]
    assert open_at(store, "waiting-2", T0 + timedelta(minutes=15), category="overdose") == hid  # merged
    assert store.get_handoff(hid).priority == 2
    assert escalate_overdue(store, T0 + timedelta(minutes=40), TEN) == []
    assert len(escalations(sqlite_url)) == 1


def test_a_hand_off_merged_into_before_the_limit_escalates_once_with_its_raised_priority(sqlite_url):
    store = AppStore(sqlite_url)
    hid = open_at(store, "waiting-3", category="self_harm")
    open_at(store, "waiting-3", T0 + timedelta(minutes=5), category="overdose")
    assert escalate_overdue(store, T0 + timedelta(minutes=8), TEN) == []  # counted from the first request
    assert escalate_overdue(store, T0 + timedelta(minutes=10), TEN) == [hid]
    [(_, _, payload)] = escalations(sqlite_url)
    assert payload["priority"] == 2 and payload["category"] == "overdose"


@pytest.mark.parametrize("end", ["taken", "closed"])
def test_not_escalated_when_taken_or_closed_before_the_limit(sqlite_url, end):
    store = AppStore(sqlite_url)
    hid = open_at(store, f"ended-{end}")
    if end == "taken":
        store.set_handoff_status(hid, "taken", "Sam")
    else:
        store.close_open_handoffs(f"ended-{end}", "Sam")
    assert escalate_overdue(store, T0 + timedelta(hours=3), TEN) == []
    assert escalations(sqlite_url) == [] and store.get_handoff(hid).escalated_at is None


def test_a_person_who_said_safe_is_still_escalated_and_the_notification_says_so(sqlite_url):
    store = AppStore(sqlite_url)
    hid = open_at(store, "safe-1")
    store.mark_person_safe("safe-1")
    assert escalate_overdue(store, T0 + timedelta(minutes=10), TEN) == [hid]
    assert escalations(sqlite_url)[0][2]["person_said_safe"] is True


def test_zero_turns_escalation_off(sqlite_url):
    store = AppStore(sqlite_url)
    open_at(store, "off-1")
    settings = load_settings({"HANDOFF_ESCALATE_AFTER_MINUTES": "0"})
    assert not settings.enabled
    assert escalate_overdue(store, T0 + timedelta(days=2), settings) == []
    assert escalations(sqlite_url) == []


def test_settings_default_and_on_call_targets():
    assert load_settings({}).after == timedelta(minutes=10)
    assert load_settings({"HANDOFF_ESCALATE_AFTER_MINUTES": " 25 "}).after == timedelta(minutes=25)
    oncall = load_settings({"ONCALL_WEBHOOK_URL": "https://oncall.example/hook", "ONCALL_EMAIL_TO": "a@b.example",
                            "SMTP_HOST": "mail.example"})
    assert oncall.kinds(["webhook", "email"]) == ["oncall_webhook", "oncall_email"]
    assert load_settings({}).kinds(["webhook", "email"]) == ["webhook", "email"]


@pytest.mark.parametrize("env, says", [
    ({"HANDOFF_ESCALATE_AFTER_MINUTES": "ten"}, "HANDOFF_ESCALATE_AFTER_MINUTES"),
    ({"HANDOFF_ESCALATE_AFTER_MINUTES": "-5"}, "HANDOFF_ESCALATE_AFTER_MINUTES"),
    ({"HANDOFF_ESCALATE_AFTER_MINUTES": "1.5"}, "whole number of minutes"),
    ({"ONCALL_WEBHOOK_URL": "oncall.example/hook"}, "ONCALL_WEBHOOK_URL"),
    ({"ONCALL_EMAIL_TO": "oncall at clinic", "SMTP_HOST": "mail.example"}, "ONCALL_EMAIL_TO"),
    ({"ONCALL_EMAIL_TO": "oncall@clinic.example"}, "SMTP_HOST"),
])
def test_a_bad_setting_is_a_clear_error(env, says):
    with pytest.raises(ValueError, match=says):
        load_settings(env)


def test_a_bad_setting_stops_the_web_app_and_the_runner(monkeypatch, capsys):
    monkeypatch.setenv("HANDOFF_ESCALATE_AFTER_MINUTES", "soon")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    from bot.web.app import app

    with pytest.raises(ValueError, match="HANDOFF_ESCALATE_AFTER_MINUTES"):
        with TestClient(app):
            pass
    from bot.runner import main

    assert main(["--model", "does-not-matter"]) == 2
    assert "HANDOFF_ESCALATE_AFTER_MINUTES" in capsys.readouterr().err


def test_two_workers_at_the_same_time_escalate_each_hand_off_exactly_once(db_url):
    """Several web-app replicas run the check at once: every hand-off gets one escalation in all."""
    store = AppStore(db_url)
    ids = [open_at(store, f"race-{i}") for i in range(8)]
    now = T0 + timedelta(minutes=11)
    results: list[list[int]] = []
    errors: list[BaseException] = []
    for _round in range(3):  # repeated runs after the race change nothing
        barrier = threading.Barrier(4)

        def worker(barrier: threading.Barrier = barrier):
            try:
                barrier.wait()
                results.append(AppStore(db_url).escalate_overdue_handoffs(now - TEN.after, now, ["webhook", "email"]))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    escalated = [hid for result in results for hid in result]
    assert sorted(escalated) == sorted(ids)  # each once, by one worker
    rows = escalations(db_url)
    assert sorted((hid, kind) for hid, kind, _ in rows) == sorted((hid, k) for hid in ids for k in ("webhook", "email"))


def test_the_worker_pass_sends_the_escalation_to_the_on_call_webhook_once(sqlite_url, monkeypatch, tmp_path):
    staff, oncall = Receiver(free_port()), Receiver(free_port())
    staff.start()
    oncall.start()
    try:
        monkeypatch.setenv("STAFF_WEBHOOK_URL", f"http://127.0.0.1:{staff.port}/hook")
        monkeypatch.setenv("ONCALL_WEBHOOK_URL", f"http://127.0.0.1:{oncall.port}/oncall")
        monkeypatch.setenv("PUBLIC_WEB_URL", "https://clinic.example")
        settings = load_settings()
        store, spool = AppStore(sqlite_url), HandoffSpool(tmp_path / "spool.jsonl")
        t0 = datetime.now(timezone.utc)  # the outbox's own times are the real clock's
        hid = open_at(store, "oncall-1", t0)
        first = notifier.run_once(store, spool, settings, t0 + timedelta(seconds=5))
        assert first == {"delivered": 1, "failed": 0, "escalated": 0}
        for minutes in (11, 12, 20):
            notifier.run_once(store, spool, settings, t0 + timedelta(minutes=minutes))
        assert len(staff.requests) == 1 and len(oncall.requests) == 1
        headers, body = oncall.requests[0]
        payload = json.loads(body)
        assert payload["escalation"] is True and payload["handoff_id"] == hid and payload["waited_minutes"] == 11
        assert payload["dashboard_url"] == f"https://clinic.example/staff/handoffs/{hid}"
        assert "pills" not in body.decode() and headers["x-ipt-delivery"]
    finally:
        staff.stop()
        oncall.stop()


def test_the_escalation_e_mail_says_what_it_is_and_not_what_the_person_wrote(monkeypatch):
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://clinic.example")
    payload = {"event": "crisis_handoff_escalation", "escalation": True, "handoff_id": 7, "category": "abuse",
               "priority": 3, "channel": "twilio", "created_at": T0.isoformat(), "waited_minutes": 14,
               "person_said_safe": False}
    message = notifier.email_message(OutboxRecord(41, 7, escalation.ONCALL_EMAIL, payload, 1), "oncall@clinic.example")
    assert message["Subject"].startswith("[IPT assistant] ESCALATION: hand-off #7 not taken for 14 min")
    assert "abuse" in message["Subject"] and "priority 3" in message["Subject"]
    body = message.get_content()
    assert "waited 14 minutes" in body and "https://clinic.example/staff/handoffs/7" in body
    assert message["To"] == "oncall@clinic.example"


def test_the_dashboard_marks_an_escalated_hand_off_and_the_notification_link_opens_it(dash):  # noqa: F811
    store = AppStore()
    client = signed_in("clinician")
    assert "escalated" not in client.get("/staff/handoffs").text
    before = client.get("/staff/handoffs/poll").json()["version"]
    assert escalate_overdue(store, datetime.now(timezone.utc) + timedelta(minutes=30), TEN) == [dash.handoff_id]
    assert ">escalated</span>" in client.get("/staff/handoffs").text
    assert client.get("/staff/handoffs/poll").json()["version"] != before  # the open page refreshes
    link = client.get(f"/staff/handoffs/{dash.handoff_id}", follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == "/staff/conversations/crisis-1#handoff"
    assert ">escalated</span>" in client.get(link.headers["location"]).text
    assert client.get("/staff/handoffs/99999", follow_redirects=False).status_code == 404
