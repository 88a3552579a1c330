"""Issue 14 against the running assistant: the closed action server, quiet action errors, the message
size cap, and the REST sender id rules."""
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import socketio
from sqlalchemy import create_engine, text

from bot.channels.limits import TOO_LONG

pytestmark = pytest.mark.integration

MARKER = "zebra umbrella marker words"


def texts(replies):
    return " ".join(m.get("text", "") for m in replies)


def rest(assistant, body, **kwargs):
    return httpx.post(f"{assistant.rasa}/webhooks/rest/webhook", json=body, timeout=60, **kwargs)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


# --- 1. the action server -------------------------------------------------------------------

def test_the_action_server_listens_on_loopback_only(assistant):
    assert listening_addresses(assistant.stack.actions_port) == {"127.0.0.1"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "wrong"}])
def test_an_action_call_without_the_secret_gets_401_and_runs_nothing(assistant, headers):
    sender = assistant.new_sender()
    call = {"next_action": "action_crisis_handoff", "sender_id": sender, "version": "3.6.21",
            "tracker": {"sender_id": sender, "slots": {}, "events": [],
                        "latest_message": {"text": "i want to die", "intent": {"name": "crisis"}}},
            "domain": {}}
    before = assistant.store.count_tracker_events(sender)
    response = httpx.post(f"http://127.0.0.1:{assistant.stack.actions_port}/webhook", json=call,
                          headers=headers, timeout=10)
    assert response.status_code == 401
    assert "events" not in response.text
    assert assistant.store.count_tracker_events(sender) == before
    health = httpx.get(f"http://127.0.0.1:{assistant.stack.actions_port}/health", timeout=10)
    assert health.status_code == 200  # open: the runner's and the orchestrators' probes need it


def test_the_conversation_still_runs_actions_with_the_secret(assistant):
    sender = assistant.new_sender()
    replies = assistant.say(sender, "show my people")  # a custom action (the journey's people)
    assert texts(replies).strip()


# --- 2. action errors do not echo the tracker -------------------------------------------------

def test_a_failing_action_logs_its_name_and_error_type_but_no_message_text(assistant):
    log = assistant.stack.service("action server").log_path
    start = log.stat().st_size
    sender = assistant.new_sender()
    # entities that are not a list: the action raises a TypeError while reading the tracker
    call = {"next_action": "action_ipt_more", "sender_id": sender, "version": "3.6.21",
            "tracker": {"sender_id": sender, "slots": {}, "events": [{"event": "user", "text": MARKER}],
                        "latest_message": {"text": MARKER, "intent": {"name": "ipt_more"}, "entities": 5}},
            "domain": {}}
    response = httpx.post(f"http://127.0.0.1:{assistant.stack.actions_port}/webhook", json=call,
                          headers={"Authorization": f"Bearer {assistant.stack.env['ACTION_SERVER_SECRET']}"},
                          timeout=10)
    assert response.status_code == 500
    assert MARKER not in response.text and "request_body" not in response.text
    time.sleep(0.5)
    written = log.read_bytes()[start:].decode(errors="replace")
    assert "action_ipt_more" in written and "TypeError" in written
    assert MARKER not in written


# --- 3. the message size cap ------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_100_kb_message_is_refused_at_once_while_another_conversation_is_answered(assistant):
    other = assistant.new_sender()
    assistant.say(other, "hi")  # the other conversation is under way
    rasa_pid = assistant.stack.service("rasa server").process.pid
    memory_before = rss_mb(rasa_pid)
    sender, big = assistant.new_sender(), "word " * 20_480  # 100 KB

    def timed(body):
        began = time.monotonic()
        response = rest(assistant, body)
        return response, time.monotonic() - began

    with ThreadPoolExecutor(2) as pool:
        refused = pool.submit(timed, {"sender": sender, "message": big})
        answered = pool.submit(timed, {"sender": other, "message": "what is ipt?"})
        (big_response, big_seconds), (small_response, small_seconds) = refused.result(), answered.result()
    assert big_response.status_code == 200 and texts(big_response.json()) == TOO_LONG
    assert big_seconds < 1.0, big_seconds
    assert small_response.status_code == 200 and texts(small_response.json()).strip()
    assert small_seconds < 1.0, small_seconds
    assert rss_mb(rasa_pid) - memory_before < 200
    stored = [line["text"] for line in assistant.store.transcript(sender) if line["from"] == "person"]
    assert len(stored) == 1 and stored[0].startswith(big.strip()[:20_000]) and "[cut: " in stored[0]


def test_after_a_too_long_message_the_conversation_goes_on(assistant):
    sender = assistant.new_sender()
    assert texts(assistant.say(sender, "y" * 2001)) == TOO_LONG
    assert TOO_LONG not in texts(assistant.say(sender, "hi")) and texts(assistant.say(sender, "hi")).strip()


# --- 4. sender ids on REST ----------------------------------------------------------------------

def test_a_too_long_message_with_crisis_words_still_gets_the_crisis_reply(assistant):
    text = ("Sorry this is long. " * 150) + "I have the pills here and I want to kill myself tonight. " + (
        "Anyway, work was fine. " * 50)
    assert len(text) > 2000
    replies = assistant.say(assistant.new_sender(), text)
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies), replies
    assert TOO_LONG not in " ".join(m.get("text", "") for m in replies)


@pytest.mark.parametrize("sender", [
    "+15551234567", "whatsapp:+15551234567", "123456789", "x" * 129, None, "",
])
def test_rest_refuses_sender_ids_of_other_channels_too_long_or_missing(assistant, sender):
    body = {"message": "show my people"} if sender is None else {"sender": sender, "message": "show my people"}
    response = rest(assistant, body)
    assert response.status_code == 400
    assert response.json()["error"]
    if sender:
        assert assistant.store.count_tracker_events(sender) == 0
    assert assistant.store.count_tracker_events("default") == 0


def test_a_client_set_input_channel_is_ignored(assistant):
    sender = assistant.new_sender()
    assert rest(assistant, {"sender": sender, "message": "hi", "input_channel": "twilio"}).status_code == 200
    engine = create_engine(assistant.db_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}).scalars()
        channels = {json.loads(row).get("input_channel") for row in rows
                    if json.loads(row).get("event") == "user"}
    engine.dispose()
    assert channels == {"rest"}


# --- socket.io: the same rules ----------------------------------------------------------------

def run(coroutine):
    with ThreadPoolExecutor(1) as pool:  # own thread: see test_socketio_session.py
        return pool.submit(asyncio.run, coroutine).result()


async def socket_session(assistant, session_id, wait=5.0):
    client, events = socketio.AsyncClient(), []
    for name in ("session_confirm", "bot_uttered", "ipt_error"):
        client.on(name, lambda data, name=name: events.append((name, data)))
    await client.connect(assistant.rasa, socketio_path="/socket.io", transports=["websocket"])
    await client.emit("session_request", {"session_id": session_id})
    for _ in range(int(wait / 0.1)):
        if events:
            break
        await asyncio.sleep(0.1)
    return client, events


def test_socketio_refuses_another_channels_id_and_caps_messages(assistant):
    async def scenario():
        client, events = await socket_session(assistant, "whatsapp:+15551234567")
        await client.disconnect()
        assert [name for name, _ in events] == ["ipt_error"] and events[0][1]["status"] == 400

        session = assistant.new_sender()
        client, events = await socket_session(assistant, session)
        assert events == [("session_confirm", session)]
        await client.emit("user_uttered", {"session_id": "+15551234567", "message": "show my people"})
        await client.emit("user_uttered", {"session_id": session, "message": "z" * 5000})
        for _ in range(100):
            if any(name == "bot_uttered" for name, _ in events):
                break
            await asyncio.sleep(0.1)
        await client.disconnect()
        return events

    events = run(scenario())
    assert ("ipt_error", {"error": "the sender id looks like a phone number or a chat id of another channel",
                          "status": 400}) in events
    assert [data.get("text") for name, data in events if name == "bot_uttered"] == [TOO_LONG]
    assert assistant.store.count_tracker_events("+15551234567") == 0
