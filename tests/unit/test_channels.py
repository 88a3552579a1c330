"""Channel pieces without a server: numbered options, number replies, socket.io JWT from the env,
the Slack, Messenger and Telegram webhooks' checks and their output formats."""
import asyncio
import hashlib
import hmac
import time
from types import SimpleNamespace

import jwt
import pytest

from bot.channels import telegram
from bot.channels.common import TextOnlyOutputMixin, from_env, numbered_options
from bot.channels.messenger import GraphClient, MessengerChannel, MessengerOutput, hub_signature_valid
from bot.channels.slack import SlackChannel, SlackOutput
from bot.channels.socketio import SocketIOChannel
from bot.channels.telegram import TelegramChannel, TelegramOutput, parse_update, set_webhook

KEY = "clinic-secret-of-at-least-32-bytes!"


def test_numbered_options_hide_payloads():
    text = numbered_options("Pick one", [{"title": "Learn about IPT", "payload": "/learn_ipt"},
                                         {"title": "Menu", "payload": "/help"}])
    assert text.splitlines() == ["Pick one", "1. Learn about IPT", "2. Menu",
                                 "Reply with a number, or in your own words."]


def test_text_only_output_drops_crisis_json_and_numbers_buttons():
    sent = []

    class Output(TextOnlyOutputMixin):
        async def send_text_message(self, recipient_id, text, **kwargs):
            sent.append(text)

    out = Output()
    asyncio.run(out.send_custom_json("p", {"type": "crisis", "resources": []}))
    asyncio.run(out.send_text_with_buttons("p", "Hi", [{"title": "A", "payload": "/a"}]))
    assert sent == ["Hi\n1. A\nReply with a number, or in your own words."]


def test_credentials_from_env_fill_only_missing(monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", "from-env")
    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN", raising=False)
    assert from_env({"token": "file"}, {"token": "TELEGRAM_TOKEN"}) == {"token": "file"}
    assert from_env(None, {"token": "TELEGRAM_TOKEN", "other": "TELEGRAM_SECRET_TOKEN"}) == {
        "token": "from-env", "other": None}


@pytest.mark.parametrize("token, accepted", [(None, False), ("bad", False), ("good", True)])
def test_socketio_requires_a_signed_token_when_a_jwt_key_is_set(monkeypatch, token, accepted):
    monkeypatch.setenv("SOCKETIO_JWT_KEY", KEY)
    channel = SocketIOChannel.from_credentials({"session_persistence": True})
    assert channel.jwt_key == KEY and channel.jwt_algorithm == "HS256"

    async def on_new_message(message):
        pass

    channel.blueprint(on_new_message)
    connect = channel.sio.handlers["/"]["connect"]
    keys = {"good": KEY, "bad": "another-secret-of-at-least-32-bytes"}
    auth = {"token": jwt.encode({"user": {"username": "p1"}}, keys[token], algorithm="HS256")} if token else None
    assert asyncio.run(connect("sid", {}, auth)) is accepted


def test_socketio_without_jwt_key_accepts_connections(monkeypatch):
    monkeypatch.delenv("SOCKETIO_JWT_KEY", raising=False)
    channel = SocketIOChannel.from_credentials(None)
    assert channel.jwt_key is None


# Slack, Messenger and Telegram: their webhooks' handlers called directly with stand-in requests ----

class FakeRequest(SimpleNamespace):
    """What our handlers read of a Sanic request."""

    def __init__(self, path="/webhooks/x/webhook", headers=None, body=b"", json=None, args=None):
        super().__init__(path=path, headers=headers or {}, body=body, json=json, args=args or {},
                         app=SimpleNamespace(ctx=SimpleNamespace(agent=None)))


def handler(blueprint, uri, method):
    return next(r.handler for r in blueprint._future_routes if r.uri == uri and method in r.methods)


async def ignore(message):
    raise AssertionError("no message expected")


@pytest.fixture
def no_channel_env(monkeypatch):
    for name in ("SLACK_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "FB_VERIFY", "FB_SECRET",
                 "FB_PAGE_ACCESS_TOKEN", "FB_GRAPH_API_URL", "TELEGRAM_TOKEN", "TELEGRAM_SECRET_TOKEN",
                 "TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_slack_loads_unconfigured_and_answers_503(no_channel_env):
    channel = SlackChannel.from_credentials(None)
    assert channel.missing() == ["SLACK_TOKEN", "SLACK_SIGNING_SECRET"]
    guard = channel.blueprint(ignore)._future_middleware[0].middleware
    assert asyncio.run(guard(FakeRequest("/webhooks/slack/webhook"))).status == 503


@pytest.mark.parametrize("case, status", [("signed", None), ("unsigned", 401), ("other secret", 401), ("old", 401)])
def test_slack_guard_refuses_unsigned_requests(monkeypatch, case, status):
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    guard = SlackChannel.from_credentials(None).blueprint(ignore)._future_middleware[0].middleware
    body, timestamp = b'{"type":"event_callback"}', str(int(time.time()) - (600 if case == "old" else 0))
    key = b"other" if case == "other secret" else b"secret"
    digest = hmac.new(key, f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    signed = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}
    headers = {} if case == "unsigned" else signed
    result = asyncio.run(guard(FakeRequest("/webhooks/slack/webhook", headers, body)))
    assert (result.status if result else None) == status


class SlackClient:
    def __init__(self):
        self.posts = []

    async def chat_postMessage(self, **kwargs):  # noqa: N802 - slack_sdk's name
        self.posts.append(kwargs)


def test_slack_output_buttons_numbered_options_and_no_crisis_json(monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/slack")
    out = SlackOutput("xoxb-1")
    assert out.client.base_url == "http://127.0.0.1:9/slack/"
    out.client = SlackClient()
    few = [{"title": f"T{n}", "payload": f"/p{n}"} for n in range(3)]
    many = [{"title": f"T{n}", "payload": f"/p{n}"} for n in range(6)]
    asyncio.run(out.send_text_with_buttons("D1", "Pick", few))
    asyncio.run(out.send_text_with_buttons("D1", "Pick", many))
    asyncio.run(out.send_custom_json("D1", {"type": "crisis", "resources": [{"name": "988"}]}))
    first, second = out.client.posts
    assert [e["value"] for e in first["blocks"][1]["elements"]] == ["/p0", "/p1", "/p2"]
    assert "as_user" not in first and "blocks" not in second
    assert second["text"].startswith("Pick\n1. T0") and "/p0" not in second["text"]


def test_hub_signatures():
    body = b'{"object":"page"}'
    sha256 = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    sha1 = "sha1=" + hmac.new(b"s", body, hashlib.sha1).hexdigest()
    md5 = "md5=" + hmac.new(b"s", body, hashlib.md5).hexdigest()
    assert hub_signature_valid("s", body, {"X-Hub-Signature-256": sha256})
    assert hub_signature_valid("s", body, {"X-Hub-Signature": sha1})
    assert not hub_signature_valid("s", body, {"X-Hub-Signature-256": sha256.replace("sha256", "sha1")})
    assert not hub_signature_valid("s", body, {"X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": sha1})
    assert not hub_signature_valid("s", body, {"X-Hub-Signature": md5})
    assert not hub_signature_valid("other", body, {"X-Hub-Signature-256": sha256})
    assert not hub_signature_valid("s", body, {})


def test_messenger_loads_unconfigured_and_answers_503(no_channel_env):
    channel = MessengerChannel.from_credentials(None)
    assert channel.missing() == ["FB_VERIFY", "FB_SECRET", "FB_PAGE_ACCESS_TOKEN"]
    blueprint = channel.blueprint(ignore)
    assert asyncio.run(handler(blueprint, "/webhook", "POST")(FakeRequest(json={}))).status == 503
    assert asyncio.run(handler(blueprint, "/webhook", "GET")(FakeRequest())).status == 503


def test_messenger_refuses_unsigned_posts_and_wrong_verify_tokens(monkeypatch):
    for name, value in (("FB_VERIFY", "v"), ("FB_SECRET", "s"), ("FB_PAGE_ACCESS_TOKEN", "t")):
        monkeypatch.setenv(name, value)
    blueprint = MessengerChannel.from_credentials(None).blueprint(ignore)
    post, get = handler(blueprint, "/webhook", "POST"), handler(blueprint, "/webhook", "GET")
    assert asyncio.run(post(FakeRequest(body=b"{}", json={}))).status == 403
    wrong = {"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}
    assert asyncio.run(get(FakeRequest(args=wrong))).status == 403
    right = asyncio.run(get(FakeRequest(args={**wrong, "hub.verify_token": "v"})))
    assert right.status == 200 and right.body == b"1"


class GraphRecorder:
    def __init__(self):
        self.sent = []

    def send(self, payload, recipient_id, messaging_type="RESPONSE"):
        self.sent.append(payload)

    def send_action(self, action, recipient_id):
        pass


def test_messenger_output_quick_replies_and_numbered_options(monkeypatch):
    monkeypatch.setenv("FB_GRAPH_API_URL", "http://127.0.0.1:9/graph/")
    assert GraphClient("t").graph_url.startswith("http://127.0.0.1:9/graph/v")
    out = MessengerOutput(GraphRecorder())
    short = [{"title": "Learn about IPT", "payload": "/learn_ipt"}, {"title": "Menu", "payload": "/help"}]
    long = [*short, {"title": "Map the people in my life", "payload": "/start_inventory"}]
    asyncio.run(out.send_text_with_buttons("p", "Pick", short))
    asyncio.run(out.send_text_with_buttons("p", "Pick", long))
    asyncio.run(out.send_text_with_buttons("p", "Pick", long * 4))
    asyncio.run(out.send_custom_json("p", {"type": "crisis", "resources": []}))
    chips, numbered, too_many = out.messenger_client.sent
    assert [(q["title"], q["payload"]) for q in chips["quick_replies"]] == [("Learn about IPT", "/learn_ipt"),
                                                                           ("Menu", "/help")]
    assert [q["title"] for q in numbered["quick_replies"]] == ["1", "2", "3"]
    assert [q["payload"] for q in numbered["quick_replies"]] == ["/learn_ipt", "/help", "/start_inventory"]
    assert "3. Map the people in my life" in numbered["text"]
    assert "quick_replies" not in too_many and "12. Map the people in my life" in too_many["text"]


def test_telegram_loads_unconfigured_and_answers_503(no_channel_env):
    channel = TelegramChannel.from_credentials(None)
    assert channel.missing() == ["TELEGRAM_TOKEN", "TELEGRAM_SECRET_TOKEN"]
    assert asyncio.run(handler(channel.blueprint(ignore), "/webhook", "POST")(FakeRequest(json={}))).status == 503
    with pytest.raises(SystemExit):
        set_webhook()


@pytest.mark.parametrize("secret, status", [(None, 403), ("wrong", 403), ("right", 200)])
def test_telegram_checks_the_secret_token(monkeypatch, secret, status):
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:t")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "right")
    received = []

    async def on_new_message(message):
        received.append(message.text)

    webhook = handler(TelegramChannel.from_credentials(None).blueprint(on_new_message), "/webhook", "POST")
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    update = {"update_id": 1, "message": {"text": "hello", "chat": {"id": 5}}}
    assert asyncio.run(webhook(FakeRequest(headers=headers, json=update))).status == status
    assert received == (["hello"] if status == 200 else [])


def test_telegram_updates():
    assert parse_update({"message": {"text": "hi", "chat": {"id": 5}}}) == ("5", "hi", None)
    tap = {"callback_query": {"id": "c", "data": "/help", "message": {"chat": {"id": 6}}, "from": {"id": 7}}}
    assert parse_update(tap) == ("6", "/help", "c")
    assert parse_update({"message": {"sticker": {}, "chat": {"id": 5}}}) == (None, None, None)
    assert parse_update({"my_chat_member": {}}) == (None, None, None)


def test_telegram_output_inline_keyboard_numbered_options_and_no_crisis_json(monkeypatch):
    calls = []

    async def call(token, method, payload):
        calls.append((method, payload))
        return {"ok": True}

    monkeypatch.setattr(telegram, "call", call)
    out = TelegramOutput("1:t")
    asyncio.run(out.send_text_with_buttons("5", "Pick", [{"title": "Menu", "payload": "/help"}]))
    asyncio.run(out.send_text_with_buttons("5", "Pick", [{"title": "Long", "payload": "/x" + "y" * 70}]))
    asyncio.run(out.send_custom_json("5", {"type": "crisis", "resources": []}))
    asyncio.run(out.send_text_message("5", "One\n\nTwo"))
    assert calls[0] == ("sendMessage", {"chat_id": "5", "text": "Pick", "reply_markup": {
        "inline_keyboard": [[{"text": "Menu", "callback_data": "/help"}]]}})
    assert calls[1] == ("sendMessage", {"chat_id": "5", "text": numbered_options("Pick", [{"title": "Long"}])})
    assert [c[1]["text"] for c in calls[2:]] == ["One", "Two"]
    assert telegram.bot_api_url("1:t", "sendMessage") == "https://api.telegram.org/bot1:t/sendMessage"
