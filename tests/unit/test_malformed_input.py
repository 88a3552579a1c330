"""Malformed bodies (issue 14): REST answers 400 with a reason, socket.io an `ipt_error` event with
status 400, and nothing reaches NLU; no handler raises. The channels' real handlers run; the Rasa side
is a stand-in `on_new_message` that records what reached it. Conversation tokens are not required
here (REQUIRE_CONVERSATION_TOKEN=false), so the body's own ids are what is checked."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from bot.channels.limits import check_message_payload, check_message_text, check_sender_id
from bot.channels.rest import RestChannel
from bot.channels.socketio import ERROR_EVENT, SocketIOChannel

BAD_IDS = ["x" * 129, "x" * 256, "x" * 1000, "a\x00b", "a\nb", "a\tb", "a\x1bb", "a\u202eb", "a/b", "", 42, None]
BAD_MESSAGES = [42, 4.2, True, ["hi"], {"text": "hi"}, None, "a\x00b"]


@pytest.fixture(autouse=True)
def no_tokens(monkeypatch):
    monkeypatch.setenv("REQUIRE_CONVERSATION_TOKEN", "false")
    monkeypatch.setenv("CONVERSATION_TOKEN_SECRET", "unit-test-conversation-secret-0123456789")


def test_the_rules_say_what_is_wrong():
    for message in BAD_MESSAGES:
        assert check_message_text(message), message
    assert check_message_text("") is None and check_message_text("hello\nthere\t!") is None
    for sender in BAD_IDS:
        assert check_sender_id(sender), sender
    assert check_message_payload({"message": "hi", "metadata": '{"a": 1}'}) is None
    assert check_message_payload({"message": "hi", "metadata": {"a": 1}}) is None
    for metadata in ("{not json", "[1, 2]", '"text"', 7, [1]):
        assert check_message_payload({"message": "hi", "metadata": metadata}) == "metadata must be a JSON object"


# --- REST -------------------------------------------------------------------------------------------

class Request(SimpleNamespace):
    def __init__(self, body):
        super().__init__(json=body, headers={}, args={}, path="/webhooks/rest/webhook",
                         app=SimpleNamespace(ctx=SimpleNamespace(agent=None)))


@pytest.fixture
def rest():
    received: list[tuple[str, str]] = []

    async def on_new_message(message):
        received.append((message.sender_id, message.text))
        await message.output_channel.send_response(message.sender_id, {"text": "hi"})

    blueprint = RestChannel().blueprint(on_new_message)
    handler = next(r.handler for r in blueprint._future_routes if r.uri == "/webhook")
    return lambda body: asyncio.run(handler(Request(body))), received


@pytest.mark.parametrize("message", BAD_MESSAGES + ["missing"])
def test_rest_refuses_a_message_that_is_not_a_string_with_400_and_a_reason(rest, message):
    post, received = rest
    body = {"sender": "web-person-1"} if message == "missing" else {"sender": "web-person-1", "message": message}
    answer = post(body)
    assert answer.status == 400, answer.body
    reason = json.loads(answer.body)
    assert "message" in reason["error"] and "retry" not in reason
    assert received == []


@pytest.mark.parametrize("sender", BAD_IDS)
def test_rest_refuses_long_or_control_character_ids(rest, sender):
    post, received = rest
    answer = post({"sender": sender, "message": "hello"})
    assert answer.status == 400 and json.loads(answer.body)["error"]
    assert received == []


@pytest.mark.parametrize("body", ["hello", 42, ["hello"], None])
def test_rest_refuses_a_body_that_is_not_an_object(rest, body):
    post, received = rest
    assert post(body).status == 400 and received == []


def test_rest_still_takes_a_good_message(rest):
    post, received = rest
    assert post({"sender": "web-person-1", "message": "hello"}).status == 200
    assert received == [("web-person-1", "hello")]


# --- socket.io --------------------------------------------------------------------------------------

@pytest.fixture
def socket():
    received: list[tuple[str, object]] = []

    async def on_new_message(message):
        received.append((message.sender_id, message.text))
        await message.output_channel.send_response(message.sender_id, {"text": "hi"})

    channel = SocketIOChannel.from_credentials({"session_persistence": True})
    channel.blueprint(on_new_message)
    sent: list[tuple[str, object, str]] = []

    async def emit(event, data=None, room=None, **kwargs):
        sent.append((event, data, room))

    channel.sio.emit = emit
    channel.sio.enter_room = lambda sid, room, namespace=None: None
    channel.sio.leave_room = lambda sid, room, namespace=None: None
    handlers = channel.sio.handlers["/"]
    asyncio.run(handlers["session_request"]("sid-1", {"session_id": "web-person-1"}))
    sent.clear()
    return (lambda data: asyncio.run(handlers["user_uttered"]("sid-1", data))), sent, received


OK = {"session_id": "web-person-1"}


@pytest.mark.parametrize("data", [
    "hello", 42, None, ["hello"],
    {**OK}, {**OK, "message": 42}, {**OK, "message": None}, {**OK, "message": {"text": "hi"}},
    {**OK, "message": ["hi"]}, {**OK, "message": "a\x00b"},
    {**OK, "message": "hi", "metadata": "{not json"}, {**OK, "message": "hi", "metadata": "[1, 2]"},
    {**OK, "message": "hi", "metadata": 7},
    {"session_id": "x" * 256, "message": "hi"}, {"session_id": "a\nb", "message": "hi"},
    {"session_id": 42, "message": "hi"}, {"session_id": ["a"], "message": "hi"},
])
def test_socketio_answers_a_bad_payload_with_an_error_event_and_never_raises(socket, data):
    send, sent, received = socket
    send(data)  # an exception here would be an unhandled error in python-socketio
    assert len(sent) == 1, sent
    event, body, room = sent[0]
    assert (event, body["status"], room) == (ERROR_EVENT, 400, "sid-1") and body["error"]
    assert received == []


def test_socketio_still_takes_a_good_message_with_json_metadata(socket):
    send, sent, received = socket
    send({**OK, "message": "hello", "metadata": '{"language": "en"}'})
    assert received == [("web-person-1", "hello")]
    assert not [s for s in sent if s[0] == ERROR_EVENT]
