"""Staff notifications: signed webhook, e-mail, retries while a receiver is down, delivered once."""
from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.crisis.handoff import HandoffRequest
from bot.crisis.notifier import backoff, deliver_due, sign
from bot.store.repository import AppStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """A local stand-in for a clinic's webhook endpoint."""

    def __init__(self, port: int):
        self.port, self.requests, self.server = port, [], None

    def start(self):
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(monkeypatch):
    receiver = Receiver(free_port())
    monkeypatch.setenv("STAFF_WEBHOOK_URL", f"http://127.0.0.1:{receiver.port}/hook")
    monkeypatch.setenv("STAFF_WEBHOOK_SECRET", "s3cret")
    yield receiver
    if receiver.server:
        receiver.stop()


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(30).total_seconds() == 3600


def test_webhook_is_signed_and_delivered(sqlite_url, webhook):
    webhook.start()
    store = AppStore(sqlite_url)
    handoff_id = store.open_handoff(HandoffRequest("rest", "a", "suicide", "US", "text"), ["webhook"])
    assert deliver_due(store, datetime.now(timezone.utc) + timedelta(seconds=1)) == {"delivered": 1, "failed": 0}
    [(headers, body)] = webhook.requests
    assert headers["x-ipt-signature"] == sign(body, "s3cret", headers["x-ipt-timestamp"])
    payload = json.loads(body)
    assert payload["handoff_id"] == handoff_id and payload["category"] == "suicide"
    assert payload["dashboard_url"].endswith(f"/staff/handoffs/{handoff_id}")


def test_receiver_down_then_back_gets_the_notification_exactly_once(sqlite_url, webhook):
    store = AppStore(sqlite_url)
    store.open_handoff(HandoffRequest("rest", "b", "abuse", "US", "text"), ["webhook"])
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert deliver_due(store, now) == {"delivered": 0, "failed": 1}  # nobody listening
    assert deliver_due(store, now + timedelta(seconds=2)) == {"delivered": 0, "failed": 0}  # backing off
    webhook.start()
    assert deliver_due(store, now + timedelta(seconds=6)) == {"delivered": 1, "failed": 0}
    for minutes in (1, 10, 120):
        deliver_due(store, now + timedelta(minutes=minutes))
    assert len(webhook.requests) == 1


def test_email_goes_through_smtp(sqlite_url, monkeypatch):
    smtpd = pytest.importorskip("smtpd")  # standard library up to Python 3.11
    import asyncore

    port, mails = free_port(), []

    class Server(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            mails.append((rcpttos, data.decode()))

    server = Server(("127.0.0.1", port), None)
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("STAFF_EMAIL_TO", "oncall@clinic.example")
    store = AppStore(sqlite_url)
    handoff_id = store.open_handoff(HandoffRequest("telegram", "c", "overdose", "US", "x"), ["email"])
    try:
        assert deliver_due(store, datetime.now(timezone.utc) + timedelta(seconds=1))["delivered"] == 1
    finally:
        server.close()
    [(recipients, data)] = mails
    assert recipients == ["oncall@clinic.example"]
    assert f"Crisis hand-off #{handoff_id} (overdose)" in data
