"""The person sees who joined, who wrote and who left a live hand-off: the events the staff side
sends to Rasa, what the widget's socket.io channel makes of them, and what a messaging app gets.

Rasa's HTTP API and Telegram's Bot API are stand-in HTTP servers on localhost that record what they
are sent; the socket.io server is a recorder with python-socketio's `emit` signature."""
from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from rasa.shared.core.events import Event

from bot.channels.socketio import SocketIOJsonOutput
from bot.channels.telegram import TelegramOutput
from bot.crisis.handoff import HandoffRequest
from bot.crisis.rasa_client import RasaClient
from bot.handoff import presence
from bot.store.repository import AppStore
from bot.web import staff_api


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlparse(self.path)
        self.server.received.append((url.path, parse_qs(url.query), json.loads(body or b"null")))
        reply = b'{"ok": true, "result": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in():
    """A local HTTP server that answers 200 and records (path, query, JSON body) of each POST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def sent_events(server) -> list[list[dict]]:
    """The event lists appended to conversations, in order."""
    return [body for path, _query, body in server.received if path.endswith("/tracker/events")]


def bot_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "bot"]


@pytest.fixture
def handoff(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # the staff audit log
    app = AppStore(sqlite_url)
    return app, app.open_handoff(HandoffRequest("socketio", "person-1", "suicide", "US", "i can't go on"), [])


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, name", [
    ("Sam", "Sam"), ("  Dr  Sam\nLee ", "Dr Sam Lee"), ("sam@clinic.test", None), ("Sam <sam@clinic.test>", None),
    ("", None), (None, None), ("Clinic team", None), ("clinic TEAM", None), ("S" * 200, "S" * presence.MAX_NAME),
])
def test_the_person_sees_a_display_name_never_an_email(label, name):
    assert presence.public_name(label) == name


def test_lines_name_the_staff_member_or_say_someone():
    assert presence.joined_line("Sam") == "Sam from the clinic has joined the conversation."
    assert presence.joined_line(None) == "Someone from the clinic has joined the conversation."
    assert presence.left_line("Sam").startswith("Sam has left the conversation.")
    assert "automated assistant again" in presence.left_line(None) and "None" not in presence.left_line(None)


# --- the staff side: take over, reply, end ------------------------------------------------------


def test_take_over_reply_and_end_tell_the_person_who_joined_wrote_and_left(handoff, stand_in):
    app, hid = handoff
    client = RasaClient(base_url=url_of(stand_in), token="t")
    staff_api.take_over(hid, "Sam", app, client)
    staff_api.take_over(hid, "Sam", app, client)  # a second click: no second "joined"
    staff_api.send_reply(hid, "Hi, I'm here with you.", "Sam", app, client)
    staff_api.end_handoff(hid, "Sam", app, client)

    taken, again, reply, ended = sent_events(stand_in)
    assert stand_in.received[0][0] == "/conversations/person-1/tracker/events"
    assert stand_in.received[0][1]["output_channel"] == ["latest"]
    assert taken[0] == {"event": "slot", "name": "handoff_status", "value": "taken"}
    assert bot_texts(taken) == ["Sam from the clinic has joined the conversation."]
    assert taken[1]["metadata"] == {"staff_presence": "joined", "staff_name": "Sam"}
    assert again == [{"event": "slot", "name": "handoff_status", "value": "taken"}]
    assert reply == [{"event": "bot", "text": "Hi, I'm here with you.",
                      "metadata": {"from_staff": "Sam", "staff_name": "Sam"}}]
    assert ended[0]["value"] == "closed"
    assert bot_texts(ended)[0] == "Sam has left the conversation. You're chatting with the automated assistant again."
    assert ended[1]["metadata"]["staff_presence"] == "left"
    assert "I'm here again" in bot_texts(ended)[1]  # the assistant's own welcome back, with its buttons
    assert app.get_handoff(hid).status == "closed"


def test_a_reply_to_a_waiting_handoff_says_who_joined_first_and_an_email_is_never_shown(handoff, stand_in):
    app, hid = handoff
    client = RasaClient(base_url=url_of(stand_in), token="t")
    staff_api.send_reply(hid, "Hello, I'm from the clinic.", "sam@clinic.test", app, client)
    staff_api.end_handoff(hid, "sam@clinic.test", app, client)

    joined, reply, ended = sent_events(stand_in)
    assert bot_texts(joined) == ["Someone from the clinic has joined the conversation."]
    assert reply[0]["metadata"] == {"from_staff": "sam@clinic.test", "staff_name": None}  # staff side keeps it
    assert bot_texts(ended)[0].startswith("The person from the clinic has left the conversation.")
    person_sees = [presence.widget_payload(message(e)) for e in joined + reply + ended if e["event"] == "bot"]
    assert "@" not in json.dumps(person_sees)


def test_ending_a_handoff_nobody_took_says_the_assistant_is_back(handoff, stand_in):
    app, hid = handoff
    staff_api.end_handoff(hid, "Sam", app, RasaClient(base_url=url_of(stand_in), token="t"))
    [ended] = sent_events(stand_in)
    assert bot_texts(ended)[0] == "You're chatting with the automated assistant again."
    assert ended[1]["metadata"] == {"staff_presence": "ended", "staff_name": None}
    assert "has left" not in json.dumps(ended)


# --- what each channel sends ---------------------------------------------------------------------


def message(event: dict) -> dict:
    """The message Rasa's processor hands to the output channel for an appended bot event."""
    return Event.from_parameters(event).message()


class SocketServer:
    """Records emits (python-socketio's `AsyncServer.emit(event, data, room=...)`)."""

    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append((event, data, room))


def socketio_sends(events: list[dict]) -> list[dict]:
    sio = SocketServer()
    out = SocketIOJsonOutput(sio, "bot_uttered")
    for event in events:
        asyncio.run(out.send_response("person-1", message(event)))
    assert {(e, room) for e, _data, room in sio.emitted} <= {("bot_uttered", "person-1")}
    return [data for _e, data, _room in sio.emitted]


def test_the_widget_gets_staff_messages_and_presence_lines_with_the_name():
    events = presence.take_over_events("Sam")[1:] + [
        presence.staff_message_event("Hi, I'm here.\n\nTake your time.", "Sam"),
        *presence.end_events("Sam")[1:],
        {"event": "bot", "text": "I'm the assistant."},
    ]
    joined, said, left, assistant = socketio_sends(events)
    assert joined == {"text": "Sam from the clinic has joined the conversation.", "custom": {
        "type": "staff_presence", "event": "joined", "staff_name": "Sam",
        "text": "Sam from the clinic has joined the conversation."}}
    # one message, paragraphs kept, with who wrote it
    assert said == {"text": "Hi, I'm here.\n\nTake your time.", "custom": {
        "type": "staff_message", "staff_name": "Sam", "text": "Hi, I'm here.\n\nTake your time."}}
    assert left["custom"]["event"] == "left" and left["custom"]["staff_name"] == "Sam"
    assert assistant == {"text": "I'm the assistant."}  # the assistant's messages as before


def test_a_staff_message_stored_before_names_existed_uses_the_label_but_never_an_email():
    old = {"event": "bot", "text": "hello", "metadata": {"from_staff": "Alex"}}
    by_email = {"event": "bot", "text": "hello", "metadata": {"from_staff": "alex@clinic.test"}}
    named, unnamed = socketio_sends([old, by_email])
    assert named["custom"]["staff_name"] == "Alex"
    assert unnamed["custom"] == {"type": "staff_message", "staff_name": None, "text": "hello"}


def test_a_messaging_app_gets_the_name_in_front_and_presence_lines_as_text(stand_in, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_URL", url_of(stand_in))
    out = TelegramOutput("1:t")
    events = [*presence.take_over_events("Sam")[1:], presence.staff_message_event("Hi, I'm here.", "Sam"),
              presence.staff_message_event("Me too.", "jo@clinic.test"), *presence.end_events("Sam")[1:]]
    for event in events:
        asyncio.run(out.send_response("5", message(event)))
    texts = [body["text"] for path, _q, body in stand_in.received if path == "/bot1:t/sendMessage"]
    assert texts == ["Sam from the clinic has joined the conversation.", "Sam (clinic): Hi, I'm here.",
                     "Clinic team: Me too.",
                     "Sam has left the conversation. You're chatting with the automated assistant again."]
    assert not any("{" in t for t in texts)  # never a payload as JSON
