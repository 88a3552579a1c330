"""socket.io session persistence on Rasa 3.6 (python-socketio pinned below 5.10): a reconnect with
the same session id goes on with the same conversation, and every connection of that session
(two tabs) gets the replies. Also: messaging apps that are not configured answer 503, not 500."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import socketio

pytestmark = pytest.mark.integration


def run(coroutine):
    """asyncio.run in its own thread: Playwright's sync API (browser tests in the same pytest
    session) leaves an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def until(check, timeout=30.0):
    for _ in range(int(timeout / 0.2)):
        if check():
            return True
        await asyncio.sleep(0.2)
    return check()


async def connect(assistant, session, received):
    client = socketio.AsyncClient()
    confirmed = []
    client.on("bot_uttered", lambda data: received.append(data))
    client.on("session_confirm", lambda data: confirmed.append(data))
    await client.connect(assistant.rasa, socketio_path="/socket.io", transports=["websocket"])
    await client.emit("session_request", {"session_id": session})
    assert await until(lambda: confirmed, 10)
    assert confirmed == [session]
    return client


def test_reconnect_with_the_same_session_keeps_the_conversation(assistant):
    session = assistant.new_sender()

    async def scenario():
        first: list[dict] = []
        client = await connect(assistant, session, first)
        await client.emit("user_uttered", {"message": "hello", "session_id": session})
        assert await until(lambda: any(m.get("quick_replies") for m in first))
        await client.disconnect()

        second: list[dict] = []
        client = await connect(assistant, session, second)
        await client.emit("user_uttered", {"message": "/learn_ipt", "session_id": session})
        assert await until(lambda: any("topics about IPT" in (m.get("text") or "") for m in second))
        await client.disconnect()

    run(scenario())
    said = [line for line in assistant.store.transcript(session) if line["from"] == "person"]
    assert [line["text"] for line in said][:2] == ["hello", "/learn_ipt"]


def test_every_connection_of_a_session_gets_the_replies(assistant):
    session = assistant.new_sender()

    async def scenario():
        tab1: list[dict] = []
        tab2: list[dict] = []
        one = await connect(assistant, session, tab1)
        two = await connect(assistant, session, tab2)
        await one.emit("user_uttered", {"message": "hello", "session_id": session})
        assert await until(lambda: any("automated" in (m.get("text") or "") for m in tab2))
        assert await until(lambda: any("automated" in (m.get("text") or "") for m in tab1))
        other: list[dict] = []
        stranger = await connect(assistant, assistant.new_sender(), other)
        await asyncio.sleep(1)
        seen = len(tab1)
        await one.emit("user_uttered", {"message": "what is IPT", "session_id": session})
        assert await until(lambda: len(tab1) > seen and len(tab2) > seen)
        await asyncio.sleep(1)
        assert other == []  # another session never sees this conversation
        for client in (one, two, stranger):
            await client.disconnect()

    run(scenario())


@pytest.mark.parametrize("path", ["/webhooks/twilio/webhook"])
def test_unconfigured_messaging_apps_answer_503(assistant, path):
    response = httpx.post(assistant.rasa + path, data={"From": "+15550000000", "Body": "hi"}, timeout=30)
    assert response.status_code == 503
