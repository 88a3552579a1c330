"""Channel pieces without a server: numbered options, number replies, socket.io JWT from the env."""
import asyncio

import jwt
import pytest

from bot.channels.common import TextOnlyOutputMixin, from_env, numbered_options
from bot.channels.socketio import SocketIOChannel

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
    monkeypatch.setenv("X_TOKEN", "from-env")
    assert from_env({"token": "file"}, {"token": "X_TOKEN"}) == {"token": "file"}
    assert from_env(None, {"token": "X_TOKEN", "other": "X_UNSET"}) == {"token": "from-env", "other": None}


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
