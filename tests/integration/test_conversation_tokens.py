"""Server-issued conversation ids through the running assistant (issue 14, items 3-4): the web app issues
the id and token (POST /chat/session), the Rasa server's REST and socket.io channels take the conversation
from the token only. The shared stack runs with REQUIRE_CONVERSATION_TOKEN=false (older tests name their own
ids), where a token that is sent is still checked; a tokenless request when tokens are required is
refused in tests/unit/test_conversation_tokens.py."""
import asyncio

import httpx
import pytest
import socketio

from tests.integration.test_socketio_session import run, until

pytestmark = pytest.mark.integration


def new_session(assistant) -> dict:
    answer = httpx.post(f"{assistant.web}/chat/session", timeout=30)
    answer.raise_for_status()
    return answer.json()


def said(assistant, conversation_id):
    return [line["text"] for line in assistant.store.transcript(conversation_id) if line["from"] == "person"]


def test_rest_uses_the_tokens_conversation_and_refuses_a_bad_token(assistant):
    mine, theirs = new_session(assistant), new_session(assistant)
    webhook = f"{assistant.rasa}/webhooks/rest/webhook"
    answer = httpx.post(webhook, headers={"Authorization": f"Bearer {mine['token']}",
                                          "X-Conversation-Key": mine["routing_key"]},
                        json={"sender": theirs["conversation_id"], "message": "hello"}, timeout=60)
    assert answer.status_code == 200 and answer.json()
    assert said(assistant, mine["conversation_id"]) == ["hello"]
    assert said(assistant, theirs["conversation_id"]) == []

    forged = httpx.post(webhook, headers={"Authorization": "Bearer " + mine["token"][:-3] + "abc"},
                        json={"sender": mine["conversation_id"], "message": "show my people"}, timeout=60)
    assert forged.status_code == 401
    assert said(assistant, mine["conversation_id"]) == ["hello"]


def test_a_socket_with_someone_elses_id_gets_nothing_of_their_conversation(assistant):
    person, intruder = new_session(assistant), new_session(assistant)

    async def scenario():
        person_got, intruder_got, intruder_errors, confirmed = [], [], [], []
        first = socketio.AsyncClient()
        first.on("bot_uttered", person_got.append)
        first.on("session_confirm", lambda data: confirmed.append(("person", data)))
        await first.connect(assistant.rasa, socketio_path="/socket.io", transports=["websocket"])
        await first.emit("session_request", {"session_id": person["conversation_id"], "token": person["token"]})

        second = socketio.AsyncClient()
        second.on("bot_uttered", intruder_got.append)
        second.on("ipt_error", intruder_errors.append)
        second.on("session_confirm", lambda data: confirmed.append(("intruder", data)))
        await second.connect(assistant.rasa, socketio_path="/socket.io", transports=["websocket"])
        # the person's id with the intruder's own token, then with no valid token at all
        await second.emit("session_request", {"session_id": person["conversation_id"], "token": intruder["token"]})
        await second.emit("session_request", {"session_id": person["conversation_id"], "token": "made.up.token"})
        assert await until(lambda: len(intruder_errors) == 2, 10)
        assert [e["status"] for e in intruder_errors] == [403, 401]

        assert await until(lambda: ("person", person["conversation_id"]) in confirmed, 10)
        await first.emit("user_uttered", {"message": "hello", "session_id": person["conversation_id"]})
        assert await until(lambda: any(m.get("quick_replies") for m in person_got))
        await asyncio.sleep(1.5)
        assert intruder_got == [] and [who for who, _ in confirmed] == ["person"]

        # bound to its own conversation, the intruder's messages naming the person's id go there
        await second.emit("session_request", {"token": intruder["token"]})
        assert await until(lambda: ("intruder", intruder["conversation_id"]) in confirmed, 10)
        before = len(person_got)
        await second.emit("user_uttered", {"message": "/learn_ipt", "session_id": person["conversation_id"]})
        assert await until(lambda: intruder_got, 30)
        await asyncio.sleep(1.5)
        assert len(person_got) == before
        await first.disconnect()
        await second.disconnect()

    run(scenario())
    assert said(assistant, person["conversation_id"]) == ["hello"]
    assert said(assistant, intruder["conversation_id"]) == ["/learn_ipt"]
