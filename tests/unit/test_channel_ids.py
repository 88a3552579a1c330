"""Messaging-app conversations live in their own id space (bot/channels/common.py): each webhook stores
its conversation as `<channel>:<the app's id>`, REST refuses such ids (even without conversation tokens),
and a staff reply to such a conversation reaches the app's own id again.

The staff reply runs through our staff API and Rasa client to a stand-in Rasa HTTP API that records the
appended events; those are then handed to Rasa's own code for `output_channel=latest` (the server's
`_get_output_channel` and the processor's `_send_bot_messages`) with our channel objects, which send
to stand-in Telegram / Twilio APIs on localhost."""
from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.server import _get_output_channel
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import RequestParameters
from twilio.request_validator import RequestValidator

from bot.channels import limits
from bot.channels.common import app_id, conversation_id, messaging_channel_of
from bot.channels.messenger import ChannelMessenger, MessengerOutput
from bot.channels.rest import RestChannel
from bot.channels.slack import SlackChannel, SlackOutput
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio import TwilioChannel
from bot.crisis.handoff import HandoffRequest
from bot.crisis.rasa_client import RasaClient
from bot.store.repository import AppStore
from bot.web import staff_api


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 with a small JSON object and records (path, query, body) of each POST."""

    def do_POST(self):  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlparse(self.path)
        if "json" in (self.headers.get("Content-Type") or ""):
            body = json.loads(raw or b"null")
        else:
            body = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        self.server.received.append((unquote(url.path), parse_qs(url.query), body))
        reply = json.dumps({"ok": True, "result": {}, "sid": "SM1", "status": "queued"}).encode()
        self.send_response(201 if url.path.endswith("Messages.json") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


class FakeRequest(SimpleNamespace):
    """What our webhook handlers read of a Sanic request (no agent: no numbered options to resolve)."""

    def __init__(self, headers=None, json=None, form=None, url="http://bot.test/webhooks/twilio/webhook"):
        super().__init__(headers=headers or {}, json=json, form=form or {}, url=url, args={}, body=b"",
                         path="/webhooks/x/webhook", app=SimpleNamespace(ctx=SimpleNamespace(agent=None)))


def handler(blueprint, uri="/webhook", method="POST"):
    return next(r.handler for r in blueprint._future_routes if r.uri == uri and method in r.methods)


# --- the prefixes -------------------------------------------------------------------------------


def test_a_messaging_id_carries_its_channel_and_maps_back():
    assert conversation_id("twilio", "+15551234567") == "twilio:+15551234567"
    assert conversation_id("twilio", "whatsapp:+15551234567") == "twilio:whatsapp:+15551234567"
    assert app_id("twilio", "twilio:whatsapp:+15551234567") == "whatsapp:+15551234567"
    assert app_id("telegram", "telegram:12345") == "12345"
    assert app_id("telegram", "12345") == "12345"  # stored before the prefix: sent as it is
    assert app_id("telegram", "slack:U1") == "slack:U1"  # another channel's prefix is not ours to take off
    assert [messaging_channel_of(i) for i in ("twilio:+1", "Telegram:5", "slack:U1", "facebook:9", "abc", None,
                                              "web:1")] == ["twilio", "telegram", "slack", "facebook", None, None,
                                                            None]


def test_the_twilio_webhook_stores_the_conversation_under_its_prefix(monkeypatch):
    for name, value in (("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "tok"), ("TWILIO_NUMBER", "+15550000001"),
                        ("TWILIO_WEBHOOK_URL", "http://bot.test/webhooks/twilio/webhook")):
        monkeypatch.setenv(name, value)
    received = []

    async def on_new_message(message):
        received.append(message)

    webhook = handler(TwilioChannel.from_credentials(None).blueprint(on_new_message))
    for sender in ("+15557654321", "whatsapp:+15557654321"):
        form = {"From": sender, "To": "+15550000001", "Body": "hello"}
        signature = RequestValidator("tok").compute_signature("http://bot.test/webhooks/twilio/webhook", form)
        fields = RequestParameters({key: [value] for key, value in form.items()})
        request = FakeRequest({"X-Twilio-Signature": signature}, form=fields)
        assert asyncio.run(webhook(request)).status == 204
    assert [m.sender_id for m in received] == ["twilio:+15557654321", "twilio:whatsapp:+15557654321"]
    assert {m.input_channel for m in received} == {"twilio"}


def test_the_telegram_webhook_stores_the_conversation_under_its_prefix(monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:t")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "right")
    received = []

    async def on_new_message(message):
        received.append(message)

    webhook = handler(TelegramChannel.from_credentials(None).blueprint(on_new_message))
    update = {"update_id": 1, "message": {"text": "hello", "chat": {"id": 12345}}}
    assert asyncio.run(webhook(FakeRequest({"X-Telegram-Bot-Api-Secret-Token": "right"}, json=update))).status == 200
    assert [m.sender_id for m in received] == ["telegram:12345"]


def test_slack_and_messenger_ids_are_prefixed_and_sent_to_the_apps_own_id():
    slack = SlackChannel("xoxb-1", slack_signing_secret="s")
    assert slack._get_conversation_id("U1", "C2", None) == "slack:U1"
    slack.conversation_granularity = "thread"
    assert slack._get_conversation_id("U1", "C2", "T3") == "slack:U1_C2_T3"
    assert SlackOutput("xoxb-1").recipient("slack:U1_C2_T3") == "U1"  # a direct message to the person

    received, actions = [], []

    async def on_new_message(message):
        received.append(message)

    class Graph:
        def send_action(self, action, recipient_id):
            actions.append(recipient_id)

    messenger = ChannelMessenger("t", on_new_message, FakeRequest())
    messenger.client = Graph()
    asyncio.run(messenger._handle_user_message("hello", "998877", {}))
    assert [m.sender_id for m in received] == ["facebook:998877"]
    assert set(actions) == {"998877"}  # "seen" and "typing" go to the app's id
    assert MessengerOutput(Graph()).recipient("facebook:998877") == "998877"


# --- REST refuses them --------------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["twilio:+15551234567", "twilio:whatsapp:+15551234567", "telegram:12345",
                                   "TELEGRAM:12345", "slack:U123", "facebook:998877", "whatsapp:+15551234567",
                                   "+15551234567", "12345"])
def test_rest_refuses_a_messaging_apps_conversation_even_without_tokens(monkeypatch, sender):
    monkeypatch.setenv("REQUIRE_CONVERSATION_TOKEN", "false")
    handled = []

    async def on_new_message(message):
        handled.append(message)

    channel = RestChannel()
    webhook = handler(channel.blueprint(on_new_message))
    request = SimpleNamespace(json={"sender": sender, "message": "show my people"}, headers={}, args={})
    answer = asyncio.run(webhook(request))
    assert answer.status == 400 and not handled
    problem = json.loads(answer.body)["error"]
    if ":" in sender:
        assert problem == limits.OTHER_CHANNEL and "messaging app" in problem and "POST /chat/session" in problem
    assert limits.check_sender_id("person-1f3a") is None  # an ordinary web id is fine


# --- a staff reply reaches the app's own id -----------------------------------------------------


def deliver_through_rasa(recorded, channels) -> None:
    """What Rasa's `POST /conversations/<id>/tracker/events?output_channel=latest&execute_side_effects=true`
    does with the events our client sent: the conversation's latest input channel picks the output channel,
    and each bot event is sent to the conversation's (stored) id."""
    for path, query, events in recorded:
        conversation = path.split("/conversations/", 1)[1].rsplit("/tracker/events", 1)[0]
        tracker = DialogueStateTracker.from_events(
            conversation, [UserUttered("i can't go on", input_channel=channels[0].name())])
        request = SimpleNamespace(args={k: v[0] for k, v in query.items()},
                                  app=SimpleNamespace(ctx=SimpleNamespace(input_channels=channels)))
        output = _get_output_channel(request, tracker)
        asyncio.run(MessageProcessor._send_bot_messages([Event.from_parameters(e) for e in events], tracker,
                                                        output))


def staff_reply(sqlite_url, monkeypatch, channel_name: str, sender: str, rasa_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # the staff audit log
    app = AppStore(sqlite_url)
    handoff_id = app.open_handoff(HandoffRequest(channel_name, sender, "suicide", "US", "i can't go on"), [])
    staff_api.send_reply(handoff_id, "Hi, I'm here with you.", "Sam", app, RasaClient(base_url=rasa_url, token="t"))


def test_a_staff_reply_to_a_telegram_conversation_reaches_the_chat(sqlite_url, monkeypatch, stand_in):
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:t")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "right")
    monkeypatch.setenv("TELEGRAM_API_URL", stand_in.url + "/telegram")
    channel = TelegramChannel.from_credentials(None)
    received: list[UserMessage] = []

    async def on_new_message(message):
        received.append(message)

    webhook = handler(channel.blueprint(on_new_message))
    update = {"update_id": 1, "message": {"text": "i can't go on", "chat": {"id": 12345}}}
    asyncio.run(webhook(FakeRequest({"X-Telegram-Bot-Api-Secret-Token": "right"}, json=update)))
    sender = received[0].sender_id

    staff_reply(sqlite_url, monkeypatch, "telegram", sender, stand_in.url + "/rasa")
    to_rasa = [r for r in stand_in.received if r[0].startswith("/rasa/")]
    assert {path for path, _q, _b in to_rasa} == {"/rasa/conversations/telegram:12345/tracker/events"}
    deliver_through_rasa(to_rasa, [channel])

    sent = [body for path, _q, body in stand_in.received if path.endswith("/sendMessage")]
    assert {body["chat_id"] for body in sent} == {"12345"}  # the app's id, never "telegram:12345"
    assert any("Hi, I'm here with you." in body["text"] and body["text"].startswith("Sam") for body in sent)


def test_a_staff_reply_to_an_sms_conversation_reaches_the_phone(sqlite_url, monkeypatch, stand_in):
    for name, value in (("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "tok"), ("TWILIO_NUMBER", "+15550000001"),
                        ("TWILIO_WHATSAPP_NUMBER", "whatsapp:+15550000002"),
                        ("TWILIO_API_BASE_URL", stand_in.url + "/twilio")):
        monkeypatch.setenv(name, value)
    channel = TwilioChannel.from_credentials(None)
    for sender, number, sender_number in (("twilio:+15557654321", "+15557654321", "+15550000001"),
                                          ("twilio:whatsapp:+15557654321", "whatsapp:+15557654321",
                                           "whatsapp:+15550000002"),
                                          ("+15551112222", "+15551112222", "+15550000001")):  # stored before prefixes
        stand_in.received.clear()
        staff_reply(sqlite_url, monkeypatch, "twilio", sender, stand_in.url + "/rasa")
        deliver_through_rasa([r for r in stand_in.received if r[0].startswith("/rasa/")], [channel])
        texts = [body for path, _q, body in stand_in.received if path.endswith("/Messages.json")]
        assert texts and {(t["To"], t["From"]) for t in texts} == {(number, sender_number)}
        assert any("Hi, I'm here with you." in t["Body"] for t in texts)
