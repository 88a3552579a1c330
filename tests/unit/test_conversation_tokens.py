"""Server-issued conversation ids (issue 14): the web app's POST /chat/session, and the REST and socket.io
channels that take the conversation from the token only. The channels' handlers run for real; the Rasa
side is a stand-in `on_new_message` that records which conversation a message went to."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import jwt
import pytest
from fastapi.testclient import TestClient

from bot.channels import conversation_token
from bot.channels.rest import RestChannel
from bot.channels.socketio import ERROR_EVENT, SocketIOChannel

SECRET = "unit-test-conversation-secret-0123456789"


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("CONVERSATION_TOKEN_SECRET", SECRET)
    monkeypatch.delenv("REQUIRE_CONVERSATION_TOKEN", raising=False)
    monkeypatch.delenv("CONVERSATION_TOKEN_DAYS", raising=False)


# --- the tokens -------------------------------------------------------------------------------------

def test_a_token_names_its_conversation_until_it_expires_and_only_with_our_key():
    issued = conversation_token.issue()
    assert len(issued.conversation_id) == 32 and conversation_token.subject(issued.token) == issued.conversation_id
    assert issued.expires_at - time.time() > 89 * 86400
    forged = jwt.encode({"sub": "someone-else", "exp": int(time.time()) + 60, "iss": "ipt-web"},
                        "another-key-of-enough-length-0123456789", algorithm="HS256")
    unsigned = jwt.encode({"sub": issued.conversation_id, "exp": int(time.time()) + 60, "iss": "ipt-web"},
                          None, algorithm="none")
    expired = conversation_token.issue(now=time.time() - 91 * 86400).token
    for bad in (forged, unsigned, expired, issued.token[:-2] + "xx", "", None, 42):
        assert conversation_token.subject(bad) is None
    key = conversation_token.routing_key(issued.conversation_id)
    assert key == conversation_token.routing_key(issued.conversation_id) and issued.conversation_id not in key


def test_without_its_own_secret_the_key_is_derived_from_the_shared_rasa_token_and_is_not_that_token(monkeypatch):
    monkeypatch.delenv("CONVERSATION_TOKEN_SECRET")
    monkeypatch.setenv("RASA_API_TOKEN", "rasa-api-token-shared-by-every-server-0123")
    issued = conversation_token.issue()  # the web app
    assert conversation_token.subject(issued.token) == issued.conversation_id  # a Rasa server, same env
    with_rasa_key = jwt.encode({"sub": "x", "exp": int(time.time()) + 60, "iss": "ipt-web"},
                               "rasa-api-token-shared-by-every-server-0123", algorithm="HS256")
    assert conversation_token.subject(with_rasa_key) is None
    monkeypatch.setenv("RASA_API_TOKEN", "another-deployment-token-0123456789")
    assert conversation_token.subject(issued.token) is None


def test_a_token_near_its_expiry_is_renewed_for_the_same_conversation():
    fresh = conversation_token.issue()
    assert conversation_token.renew(fresh.token).token == fresh.token  # plenty left: kept
    old = conversation_token.issue(fresh.conversation_id, now=time.time() - 80 * 86400)
    renewed = conversation_token.renew(old.token)
    assert renewed.conversation_id == fresh.conversation_id and renewed.token != old.token
    assert renewed.expires_at > old.expires_at + 79 * 86400
    assert conversation_token.renew("not-a-token") is None


def test_the_web_app_issues_a_conversation_and_renews_only_a_valid_token():
    from bot.web.app import app

    client = TestClient(app)
    first = client.post("/chat/session")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    body = first.json()
    assert conversation_token.subject(body["token"]) == body["conversation_id"]
    assert body["routing_key"] == conversation_token.routing_key(body["conversation_id"])
    again = client.post("/chat/session", json={"token": body["token"]}).json()
    assert again["conversation_id"] == body["conversation_id"]
    stranger = client.post("/chat/session", json={"token": "made.up.token"}).json()
    assert stranger["conversation_id"] != body["conversation_id"]
    assert client.post("/chat/session").json()["conversation_id"] != body["conversation_id"]  # random each time


# --- REST -------------------------------------------------------------------------------------------

class Request(SimpleNamespace):
    def __init__(self, json, headers=None):
        super().__init__(json=json, headers=headers or {}, args={}, path="/webhooks/rest/webhook",
                         app=SimpleNamespace(ctx=SimpleNamespace(agent=None)))


def rest_webhook(received):
    async def on_new_message(message):
        received.append(message.sender_id)
        await message.output_channel.send_response(message.sender_id, {"text": "hi"})

    blueprint = RestChannel().blueprint(on_new_message)
    return next(r.handler for r in blueprint._future_routes if r.uri == "/webhook")


@pytest.mark.parametrize("authorization", [None, "Bearer made.up.token", "Basic abc", "Bearer "])
def test_rest_refuses_a_message_without_a_valid_token(authorization):
    received: list[str] = []
    headers = {"Authorization": authorization} if authorization else {}
    answer = asyncio.run(rest_webhook(received)(Request({"sender": "abc123", "message": "hi"}, headers)))
    assert answer.status == 401 and b"token" in answer.body
    assert received == []


def test_rest_sends_the_message_to_the_tokens_conversation_whatever_the_body_says():
    received: list[str] = []
    mine, theirs = conversation_token.issue(), conversation_token.issue()
    request = Request({"sender": theirs.conversation_id, "message": "show my people"},
                      {"Authorization": f"Bearer {mine.token}"})
    answer = asyncio.run(rest_webhook(received)(request))
    assert answer.status == 200 and received == [mine.conversation_id]


def test_rest_without_required_tokens_takes_the_body_sender_but_still_checks_a_sent_token(monkeypatch):
    monkeypatch.setenv("REQUIRE_CONVERSATION_TOKEN", "false")
    received: list[str] = []
    webhook = rest_webhook(received)
    assert asyncio.run(webhook(Request({"sender": "dev-conversation", "message": "hi"}))).status == 200
    bad = Request({"sender": "dev-conversation", "message": "hi"}, {"Authorization": "Bearer made.up.token"})
    assert asyncio.run(webhook(bad)).status == 401
    assert received == ["dev-conversation"]


# --- socket.io --------------------------------------------------------------------------------------

class Wire:
    """What python-socketio would send and which rooms each connection is in (the server's transport)."""

    def __init__(self, channel):
        self.sent: list[tuple[str, object, str]] = []
        self.rooms: dict[str, set[str]] = {}
        channel.sio.emit = self.emit
        channel.sio.enter_room = lambda sid, room, namespace=None: self.rooms.setdefault(sid, set()).add(room)
        channel.sio.leave_room = lambda sid, room, namespace=None: self.rooms.get(sid, set()).discard(room)

    async def emit(self, event, data=None, room=None, **kwargs):
        self.sent.append((event, data, room))

    def to(self, sid):
        """Everything the connection `sid` received: sent to it, or to a room it is in."""
        return [(event, data) for event, data, room in self.sent if room == sid or room in self.rooms.get(sid, ())]


def socket_channel():
    received: list[str] = []

    async def on_new_message(message):
        received.append(message.sender_id)
        await message.output_channel.send_response(message.sender_id, {"text": f"reply for {message.sender_id}"})

    channel = SocketIOChannel.from_credentials({"session_persistence": True})
    channel.blueprint(on_new_message)
    wire = Wire(channel)
    return channel.sio.handlers["/"], wire, received


def test_socketio_refuses_a_session_request_without_a_valid_token():
    handlers, wire, received = socket_channel()
    victim = conversation_token.issue().conversation_id
    asyncio.run(handlers["session_request"]("sid-1", {"session_id": victim}))
    asyncio.run(handlers["session_request"]("sid-1", {"session_id": victim, "token": "made.up.token"}))
    asyncio.run(handlers["user_uttered"]("sid-1", {"message": "show my people", "session_id": victim}))
    assert [(event, data["status"]) for event, data in wire.to("sid-1")] == [(ERROR_EVENT, 401)] * 3
    assert wire.rooms == {} and received == []


def test_socketio_binds_a_connection_to_its_tokens_conversation_and_refuses_another():
    handlers, wire, received = socket_channel()
    person, intruder = conversation_token.issue(), conversation_token.issue()
    asyncio.run(handlers["session_request"]("person", {"session_id": person.conversation_id, "token": person.token}))
    # someone else's id with the intruder's own token: refused, no room
    asyncio.run(handlers["session_request"]("intruder", {"session_id": person.conversation_id,
                                                         "token": intruder.token}))
    assert wire.to("intruder") == [(ERROR_EVENT, {"error": "this token is for another conversation", "status": 403})]
    # with its own token it gets its own conversation; a message naming the person's id still goes there
    asyncio.run(handlers["session_request"]("intruder", {"token": intruder.token}))
    asyncio.run(handlers["user_uttered"]("intruder", {"message": "show my people",
                                                      "session_id": person.conversation_id}))
    asyncio.run(handlers["user_uttered"]("person", {"message": "hello", "session_id": "anything-else"}))
    assert received == [intruder.conversation_id, person.conversation_id]
    assert wire.rooms == {"person": {person.conversation_id}, "intruder": {intruder.conversation_id}}
    assert ("bot_uttered", {"text": f"reply for {person.conversation_id}"}) in wire.to("person")
    assert not any(person.conversation_id in str(data) for _, data in wire.to("intruder"))
    # after a disconnect the socket id is bound to nothing
    asyncio.run(handlers["disconnect"]("person"))
    asyncio.run(handlers["user_uttered"]("person", {"message": "hello again"}))
    assert received == [intruder.conversation_id, person.conversation_id]
