"""Messaging-app webhooks, without internet: a correctly signed fake webhook request goes into a
real Rasa server, and the reply is captured by a local stand-in for the platform's API (the
channel's API base URL comes from the environment). Unsigned or wrongly signed requests are refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot import PROJECT_ROOT
from bot.crisis.rasa_client import rasa_auth_headers
from bot.runner import Stack
from bot.store.migrate import upgrade
from tests.conftest import free_port, model_path

pytestmark = pytest.mark.integration

TWILIO_SID, TWILIO_TOKEN = "AC" + "0" * 32, "twilio-auth-token-for-tests"
SMS_NUMBER, WHATSAPP_NUMBER = "+15550000001", "whatsapp:+15550000002"
SLACK_TOKEN, SLACK_SECRET = "xoxb-slack-token-for-tests", "slack-signing-secret-for-tests"
FB_VERIFY, FB_SECRET, FB_PAGE_TOKEN = "fb-verify-for-tests", "fb-app-secret-for-tests", "fb-page-token-for-tests"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:telegram-token-for-tests", "telegram-secret-for-tests"


class StandIn:
    """A local HTTP server that records every request, in place of a platform's API."""

    def __init__(self):
        self.requests: list[dict] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                recorded.append({"path": self.path, "headers": dict(self.headers), "body": body})
                payload = json.dumps({"sid": f"SM{len(recorded):032d}", "status": "queued", "ok": True,
                                      "result": True, "message_id": f"m{len(recorded)}"}).encode()
                # Twilio answers 201 Created; Slack's client accepts only 200
                self.send_response(201 if self.path.endswith("/Messages.json") else 200)
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

    def json_posts(self, prefix: str) -> list[dict]:
        """Bodies of the JSON requests whose path starts with `prefix`, with `_path` added."""
        found = []
        for request in list(self.requests):
            if request["path"].startswith(prefix) and request["body"]:
                found.append({**json.loads(request["body"]), "_path": request["path"]})
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
                      "SLACK_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET,
                      "SLACK_API_URL": f"{stand_in.url}/slack",
                      "FB_VERIFY": FB_VERIFY, "FB_SECRET": FB_SECRET, "FB_PAGE_ACCESS_TOKEN": FB_PAGE_TOKEN,
                      "FB_GRAPH_API_URL": f"{stand_in.url}/graph",
                      "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
                      "TELEGRAM_WEBHOOK_URL": f"{webhook}/telegram/webhook",
                      "TELEGRAM_API_URL": f"{stand_in.url}/telegram",
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


def test_twilio_crisis_gets_the_lines_of_the_senders_country(channels):
    stand_in, person = channels["stand_in"], "+447700900123"  # a UK number; CRISIS_LOCALE is US
    before = len(stand_in.twilio_messages())
    assert twilio_post(channels, {"From": person, "To": SMS_NUMBER, "Body": "i want to kill myself"}).status_code == 204
    assert wait_for(lambda: any("116 123" in m["Body"] for m in replies_to(stand_in, person, before)))
    said = "\n".join(m["Body"] for m in replies_to(stand_in, person, before))
    assert "999" in said and "988" not in said


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


def no_crisis_json(bodies: list[dict]) -> bool:
    return not any("handoff" in json.dumps(body) or '"category"' in json.dumps(body) for body in bodies)


# Slack ----------------------------------------------------------------------------------------------

def slack_post(channels, body: bytes, content_type: str, secret: str | None = SLACK_SECRET,
               age: int = 0) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if secret:
        timestamp = str(int(time.time()) - age)
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers.update({"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"})
    return httpx.post(f"{channels['webhook']}/slack/webhook", content=body, headers=headers, timeout=60)


def slack_message(channels, user: str, text: str, **kwargs) -> httpx.Response:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text,
             "ts": f"{time.time():.6f}"}
    body = json.dumps({"type": "event_callback", "event": event, "authorizations": [{"user_id": "UBOT"}]})
    return slack_post(channels, body.encode(), "application/json", **kwargs)


def slack_click(channels, user: str, value: str) -> httpx.Response:
    payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": f"D{user}"},
               "message": {"ts": "1.0"}, "actions": [{"type": "button", "value": value}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return slack_post(channels, body, "application/x-www-form-urlencoded")


def slack_replies(stand_in: StandIn, user: str, after: int) -> list[dict]:
    return [m for m in stand_in.json_posts("/slack/chat.postMessage")[after:] if m.get("channel") == f"D{user}"]


def slack_said(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_slack_conversation_with_buttons_and_numbered_options(channels):
    stand_in, user = channels["stand_in"], "UPERSON1"
    before = len(stand_in.json_posts("/slack/chat.postMessage"))
    assert slack_message(channels, user, "hello").status_code == 200
    assert wait_for(lambda: any(m.get("blocks") for m in slack_replies(stand_in, user, before)))
    sent = slack_replies(stand_in, user, before)
    assert "automated" in slack_said(sent)
    buttons = [element for m in sent for block in m.get("blocks") or [] for element in block.get("elements", [])]
    assert {"Learn about IPT": "/learn_ipt"}.items() <= {b["text"]["text"]: b["value"] for b in buttons}.items()
    assert all(stand_in_request_authorized(stand_in, "/slack/", SLACK_TOKEN))

    before = len(stand_in.json_posts("/slack/chat.postMessage"))
    assert slack_click(channels, user, "/learn_ipt").status_code == 200
    assert wait_for(lambda: "1. What is IPT?" in slack_said(slack_replies(stand_in, user, before)))
    assert "topics about IPT" in slack_said(slack_replies(stand_in, user, before))  # 8 options: numbered

    before = len(stand_in.json_posts("/slack/chat.postMessage"))
    assert slack_message(channels, user, "1").status_code == 200
    # "1" is the first option's payload, /ipt_more{"ipt_topic":"what_is"} (its answer needs the action server)
    assert wait_for(lambda: latest_intent(channels, f"slack:{user}") == ("ipt_more", "what_is"))  # stored prefixed


def latest_intent(channels, conversation: str) -> tuple:
    root = channels["webhook"].rsplit("/webhooks", 1)[0]
    tracker = httpx.get(f"{root}/conversations/{conversation}/tracker", timeout=30,
                        headers=rasa_auth_headers("rasa-token-for-channel-tests")).json()
    latest = tracker.get("latest_message") or {}
    topics = [e.get("value") for e in latest.get("entities", []) if e.get("entity") == "ipt_topic"]
    return (latest.get("intent") or {}).get("name"), (topics or [None])[0]


def stand_in_request_authorized(stand_in: StandIn, prefix: str, token: str):
    for request in stand_in.requests:
        if request["path"].startswith(prefix):
            yield {k.lower(): v for k, v in request["headers"].items()}.get("authorization") == f"Bearer {token}"


def test_slack_crisis_gets_the_resources_as_text(channels):
    stand_in, user = channels["stand_in"], "UPERSON2"
    before = len(stand_in.json_posts("/slack/chat.postMessage"))
    assert slack_message(channels, user, "i want to kill myself").status_code == 200
    assert wait_for(lambda: "988" in slack_said(slack_replies(stand_in, user, before)))
    time.sleep(1)
    sent = slack_replies(stand_in, user, before)
    assert "911" in slack_said(sent) and no_crisis_json(sent)


@pytest.mark.parametrize("case", ["unsigned", "other secret", "old timestamp"])
def test_slack_refuses_unsigned_or_wrongly_signed_requests(channels, case):
    stand_in = channels["stand_in"]
    before = len(stand_in.requests)
    kwargs = {"unsigned": {"secret": None}, "other secret": {"secret": "not-the-secret"},
              "old timestamp": {"age": 600}}[case]
    assert slack_message(channels, "UPERSON3", "hello", **kwargs).status_code == 401
    time.sleep(1)
    assert len(stand_in.requests) == before


# Facebook Messenger ---------------------------------------------------------------------------------

def fb_post(channels, body: dict, signature: str | None = "sha256") -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sha256":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(FB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    elif signature == "sha1":
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(FB_SECRET.encode(), raw, hashlib.sha1).hexdigest()
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(f"{channels['webhook']}/facebook/webhook", content=raw, headers=headers, timeout=60)


def fb_message(person: str, message: dict) -> dict:
    event = {"sender": {"id": person}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000),
             "message": {"mid": f"m.{time.time()}", **message}}
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [event]}]}


def fb_replies(stand_in: StandIn, person: str, after: int) -> list[dict]:
    return [m for m in stand_in.json_posts("/graph/")[after:]
            if m.get("recipient", {}).get("id") == person and "message" in m]


def fb_said(messages: list[dict]) -> str:
    return "\n".join(m["message"].get("text", "") for m in messages)


def test_messenger_conversation_with_quick_replies(channels):
    stand_in, person = channels["stand_in"], "2000000001"
    before = len(stand_in.json_posts("/graph/"))
    response = fb_post(channels, fb_message(person, {"text": "hello"}))
    assert response.status_code == 200 and response.text == "success"
    assert wait_for(lambda: any(m["message"].get("quick_replies") for m in fb_replies(stand_in, person, before)))
    sent = fb_replies(stand_in, person, before)
    assert "automated" in fb_said(sent)
    chips = [chip for m in sent for chip in m["message"].get("quick_replies") or []]
    assert "/learn_ipt" in {chip["payload"] for chip in chips}
    requests = [r for r in stand_in.requests if r["path"].startswith("/graph/v")]
    assert requests and all(r["path"].split("?")[0].endswith("/me/messages") for r in requests)
    assert all(f"access_token={FB_PAGE_TOKEN}" in r["path"] for r in requests)

    before = len(stand_in.json_posts("/graph/"))
    tap = fb_message(person, {"text": "Learn about IPT", "quick_reply": {"payload": "/learn_ipt"}})
    assert fb_post(channels, tap, signature="sha1").status_code == 200
    assert wait_for(lambda: "topics about IPT" in fb_said(fb_replies(stand_in, person, before)))


def test_messenger_crisis_gets_the_resources_as_text(channels):
    stand_in, person = channels["stand_in"], "2000000002"
    before = len(stand_in.json_posts("/graph/"))
    assert fb_post(channels, fb_message(person, {"text": "i want to kill myself"})).status_code == 200
    assert wait_for(lambda: "988" in fb_said(fb_replies(stand_in, person, before)))
    time.sleep(1)
    sent = fb_replies(stand_in, person, before)
    assert "911" in fb_said(sent) and no_crisis_json(sent)


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "other secret"])
def test_messenger_refuses_unsigned_or_wrongly_signed_requests(channels, signature):
    stand_in = channels["stand_in"]
    before = len(stand_in.requests)
    body = fb_message("2000000003", {"text": "hello"})
    if signature == "other secret":
        raw = json.dumps(body).encode()
        signature = "sha256=" + hmac.new(b"not-the-secret", raw, hashlib.sha256).hexdigest()
    assert fb_post(channels, body, signature).status_code == 403
    time.sleep(1)
    assert len(stand_in.requests) == before


def test_messenger_webhook_verification(channels):
    url = f"{channels['webhook']}/facebook/webhook"
    ok = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY, "hub.challenge": "42"})
    assert ok.status_code == 200 and ok.text == "42"
    wrong = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"})
    assert wrong.status_code == 403


# Telegram -------------------------------------------------------------------------------------------

def telegram_post(channels, update: dict, secret: str | None = TELEGRAM_SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return httpx.post(f"{channels['webhook']}/telegram/webhook", json=update, headers=headers, timeout=60)


def telegram_text(chat: int, text: str) -> dict:
    return {"update_id": int(time.time() * 1000) % 10**9,
            "message": {"message_id": 1, "date": int(time.time()), "text": text,
                        "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "is_bot": False}}}


def telegram_replies(stand_in: StandIn, chat: int, after: int) -> list[dict]:
    return [m for m in stand_in.json_posts(f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage")[after:]
            if m.get("chat_id") == str(chat)]


def telegram_said(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_telegram_conversation_with_an_inline_keyboard(channels):
    stand_in, chat = channels["stand_in"], 700001
    path = f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage"
    before = len(stand_in.json_posts(path))
    assert telegram_post(channels, telegram_text(chat, "hello")).status_code == 200
    assert wait_for(lambda: any("reply_markup" in m for m in telegram_replies(stand_in, chat, before)))
    sent = telegram_replies(stand_in, chat, before)
    assert "automated" in telegram_said(sent)
    keys = [key for m in sent for row in m.get("reply_markup", {}).get("inline_keyboard", []) for key in row]
    assert {"text": "Learn about IPT", "callback_data": "/learn_ipt"} in keys

    before, answered = len(stand_in.json_posts(path)), len(stand_in.json_posts("/telegram/"))
    tap = {"update_id": 5, "callback_query": {"id": "cb-1", "data": "/learn_ipt", "from": {"id": chat},
                                              "message": {"message_id": 2, "chat": {"id": chat}}}}
    assert telegram_post(channels, tap).status_code == 200
    assert wait_for(lambda: "topics about IPT" in telegram_said(telegram_replies(stand_in, chat, before)))
    assert any(m["_path"].endswith("/answerCallbackQuery") and m["callback_query_id"] == "cb-1"
               for m in stand_in.json_posts("/telegram/")[answered:])


def test_telegram_crisis_gets_the_resources_as_text(channels):
    stand_in, chat = channels["stand_in"], 700002
    before = len(stand_in.json_posts(f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage"))
    assert telegram_post(channels, telegram_text(chat, "i want to kill myself")).status_code == 200
    assert wait_for(lambda: "988" in telegram_said(telegram_replies(stand_in, chat, before)))
    time.sleep(1)
    sent = telegram_replies(stand_in, chat, before)
    assert "911" in telegram_said(sent) and no_crisis_json(sent)


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_telegram_refuses_requests_without_the_secret_token(channels, secret):
    stand_in = channels["stand_in"]
    before = len(stand_in.requests)
    assert telegram_post(channels, telegram_text(700003, "hello"), secret).status_code == 403
    time.sleep(1)
    assert len(stand_in.requests) == before
