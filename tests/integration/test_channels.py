"""Messaging-app webhooks, without internet: a correctly signed fake webhook request goes into a
real Rasa server, and the reply is captured by a local stand-in for the platform's API (the
channel's API base URL comes from the environment). Unsigned or wrongly signed requests are refused.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot import PROJECT_ROOT
from bot.runner import Stack
from bot.store.migrate import upgrade
from tests.conftest import free_port, model_path

pytestmark = pytest.mark.integration

TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "twilio-auth-token-for-tests"
SMS_NUMBER, WHATSAPP_NUMBER = "+15550000001", "whatsapp:+15550000002"


class StandIn:
    """A local HTTP server that records every request, in place of a platform's API."""

    def __init__(self):
        self.requests: list[dict] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                recorded.append({"path": self.path, "headers": dict(self.headers), "body": body})
                payload = json.dumps({"sid": f"SM{len(recorded):032d}", "status": "queued", "ok": True}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def twilio_messages(self) -> list[dict]:
        found = []
        for request in self.requests:
            if request["path"].endswith("/Messages.json"):
                found.append({k: v[0] for k, v in parse_qs(request["body"]).items()})
        return found

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    """A Rasa server (no action server) with every messaging app configured against a stand-in."""
    tmp = tmp_path_factory.mktemp("channels")
    db_url = f"sqlite:///{tmp / 'channels.db'}"
    upgrade(db_url)
    stand_in = StandIn()
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/webhooks"
    stack = Stack(model=model_path(), rasa_port=port, actions_port=free_port(), web_port=free_port(),
                  log_dir=Path(PROJECT_ROOT / "test-artifacts" / "logs" / "channels"),
                  extra_env={
                      "DATABASE_URL": db_url, "HANDOFF_SPOOL": str(tmp / "spool.jsonl"),
                      "RASA_API_TOKEN": "rasa-token-for-channel-tests", "CRISIS_LOCALE": "US",
                      "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                      "TWILIO_NUMBER": SMS_NUMBER, "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
                      "TWILIO_WEBHOOK_URL": f"{webhook}/twilio/webhook", "TWILIO_API_BASE_URL": stand_in.url,
                  })
    stack.env = stack.environment()
    stack.services = [s for s in stack.build(stack.env) if s.name == "rasa server"]
    for service in stack.services:
        service.start(stack.env, stack.log_dir)
    try:
        stack.wait_until_healthy(stack.services, 240)
        yield {"webhook": webhook, "stand_in": stand_in}
    finally:
        stack.stop()
        stand_in.close()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def twilio_post(channels, params: dict, signature: str | None = "sign") -> httpx.Response:
    url = f"{channels['webhook']}/twilio/webhook"
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    elif signature:
        headers["X-Twilio-Signature"] = signature
    return httpx.post(url, data=params, headers=headers, timeout=60)


def replies_to(stand_in: StandIn, number: str, after: int) -> list[dict]:
    return [m for m in stand_in.twilio_messages()[after:] if m.get("To") == number]


def test_twilio_sms_conversation_with_numbered_options(channels):
    stand_in, person = channels["stand_in"], "+15557654321"
    before = len(stand_in.twilio_messages())
    response = twilio_post(channels, {"From": person, "To": SMS_NUMBER, "Body": "hello", "MessageSid": "SM1"})
    assert response.status_code == 204
    assert wait_for(lambda: any("Reply with a number" in m["Body"] for m in replies_to(stand_in, person, before)))
    sent = replies_to(stand_in, person, before)
    assert all(m["From"] == SMS_NUMBER for m in sent)
    said = "\n".join(m["Body"] for m in sent)
    assert "automated" in said and "1. Learn about IPT" in said
    assert "/learn_ipt" not in said  # payloads stay hidden

    before = len(stand_in.twilio_messages())
    assert twilio_post(channels, {"From": person, "To": SMS_NUMBER, "Body": "1"}).status_code == 204
    assert wait_for(lambda: replies_to(stand_in, person, before))
    assert "topics about IPT" in "\n".join(m["Body"] for m in replies_to(stand_in, person, before))


def test_twilio_whatsapp_replies_from_the_whatsapp_number(channels):
    stand_in, person = channels["stand_in"], "whatsapp:+15559876543"
    before = len(stand_in.twilio_messages())
    assert twilio_post(channels, {"From": person, "To": WHATSAPP_NUMBER, "Body": "hi"}).status_code == 204
    assert wait_for(lambda: replies_to(stand_in, person, before))
    assert {m["From"] for m in replies_to(stand_in, person, before)} == {WHATSAPP_NUMBER}


def test_twilio_crisis_gets_the_resources_as_text(channels):
    stand_in, person = channels["stand_in"], "+15551112222"
    before = len(stand_in.twilio_messages())
    assert twilio_post(channels, {"From": person, "To": SMS_NUMBER, "Body": "i want to kill myself"}).status_code == 204
    assert wait_for(lambda: any("988" in m["Body"] for m in replies_to(stand_in, person, before)))
    said = "\n".join(m["Body"] for m in replies_to(stand_in, person, before))
    assert "911" in said and '"type"' not in said  # no crisis JSON as text


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "wrong"])
def test_twilio_refuses_unsigned_or_wrongly_signed_requests(channels, signature):
    stand_in = channels["stand_in"]
    before = len(stand_in.requests)
    params = {"From": "+15553334444", "To": SMS_NUMBER, "Body": "hello"}
    if signature == "wrong":  # signed for other content
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            f"{channels['webhook']}/twilio/webhook", {**params, "Body": "something else"})
    response = twilio_post(channels, params, signature)
    assert response.status_code == 403
    time.sleep(1)
    assert len(stand_in.requests) == before
