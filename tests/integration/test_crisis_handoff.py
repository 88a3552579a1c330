"""Crisis through the running assistant: resources at once, the hand-off, staff taking over."""
import asyncio

import pytest
import socketio

from tests.conftest import texts, wait_for

pytestmark = pytest.mark.integration


def crisis_payloads(replies):
    return [m["custom"] for m in replies if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "crisis"]



def test_crisis_as_first_message_gets_resources_and_a_handoff(assistant):
    sender = assistant.new_sender()
    replies = assistant.say(sender, "i want to kill myself")
    said = texts(replies)
    assert "988" in said and "911" in said
    [payload] = crisis_payloads(replies)
    assert payload["category"] == "suicide"
    assert any(r.get("tel") == "tel:988" for r in payload["resources"])
    assert payload["handoff"]["status"] == "requested"
    handoff = wait_for(lambda: [h for h in assistant.store.list_handoffs("requested") if h.sender_id == sender])
    assert handoff and handoff[0].message == "i want to kill myself"

    assert "Nobody from the clinic can reply here right now" in said  # no on-duty hours configured
    assert payload["handoff"]["clinic_open"] is False

    holding = assistant.say(sender, "hello? are you there")
    assert "Nobody from the clinic can reply here right now" in texts(holding) and not crisis_payloads(holding)
    no_call = assistant.say(sender, "i don't want to call anyone")
    assert "you can text instead: text 988" in texts(no_call).lower()
    safe = assistant.say(sender, "no, I'm safe")
    assert "carry on" in texts(safe)
    wait_for(lambda: assistant.store.get_handoff(handoff[0].id).person_safe_at)
    assert assistant.store.get_handoff(handoff[0].id).status == "requested"  # still in the staff queue
    assert "IPT" in texts(assistant.say(sender, "what is ipt?"))  # the person may go on


def test_possible_risk_gets_one_safety_question_and_no_goes_on(assistant):
    sender = assistant.new_sender()
    replies = assistant.say(sender, "honestly i'm so tired of everything")
    question = [m for m in replies if (m.get("custom") or {}).get("type") == "safety_check"]
    assert question and "thoughts of ending their life" in texts(replies)
    assert not crisis_payloads(replies)
    ok = assistant.say(sender, "No, I'm safe")
    assert "Thank you for telling me" in texts(ok) and "988" in texts(ok) and not crisis_payloads(ok)
    flags = wait_for(lambda: assistant.store.review_flags(sender))
    assert flags and flags[0]["kind"] == "safety_check_no"
    assert not [h for h in assistant.store.list_handoffs() if h.sender_id == sender]


def test_possible_risk_answered_not_sure_gets_the_crisis_reply(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "i feel like such a burden to everyone")
    replies = assistant.say(sender, "not sure")
    assert crisis_payloads(replies) and "988" in texts(replies)


@pytest.mark.parametrize("text", ["my mom passed away in march", "i miss my grandma", "idk", "I'd like to start",
                                  "my partner and i keep arguing about chores", "i had a baby 4 months ago",
                                  "i have to go, the baby's crying", "my battery is dead again"])
def test_everyday_words_of_the_people_ipt_is_for_get_no_crisis_reply(assistant, text):
    replies = assistant.say(assistant.new_sender(), text)
    assert replies and not crisis_payloads(replies)
    assert not any((m.get("custom") or {}).get("type") == "safety_check" for m in replies)


def test_crisis_in_a_long_message_after_small_talk(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    replies = assistant.say(sender, "Work has been hard lately. My boss yells a lot. "
                                    "Honestly I've been thinking everyone would be better off without me.")
    assert crisis_payloads(replies) and "988" in texts(replies)


def test_everyday_idiom_is_not_a_crisis(assistant):
    replies = assistant.say(assistant.new_sender(), "this traffic is killing me")
    assert not crisis_payloads(replies)


def test_staff_reply_reaches_the_person_on_socketio_and_close_resumes(assistant):
    async def scenario():
        client = socketio.AsyncClient()
        received = []
        client.on("bot_uttered", lambda data: received.append(data))
        await client.connect(assistant.rasa, socketio_path="/socket.io", transports=["websocket"])
        session = assistant.new_sender()
        await client.emit("session_request", {"session_id": session})
        await asyncio.sleep(0.5)
        await client.emit("user_uttered", {"message": "i'm going to overdose tonight", "session_id": session})

        async def until(check, timeout=30):
            for _ in range(int(timeout / 0.2)):
                if check():
                    return True
                await asyncio.sleep(0.2)
            return False

        assert await until(lambda: any("988" in (m.get("text") or "") for m in received))
        assert await until(lambda: any((m.get("custom") or {}).get("type") == "crisis" for m in received))
        mine = []

        def my_handoffs():
            mine[:] = [h for h in assistant.staff("GET", "/handoffs").json() if h["sender_id"] == session]
            return mine

        assert await until(lambda: my_handoffs())  # recorded by the action right after the replies
        assert mine[0]["category"] == "overdose"
        reply = await asyncio.to_thread(assistant.staff, "POST", f"/handoffs/{mine[0]['id']}/reply",
                                        json={"text": "Hi, I'm Alex from the clinic. I'm here with you.",
                                              "staff": "Alex"})
        assert reply.status_code == 200
        assert await until(lambda: any("I'm Alex from the clinic" in (m.get("text") or "") for m in received))
        # while staff are talking, the assistant stays quiet, even on a new risk message (flagged instead)
        before = len(received)
        await client.emit("user_uttered", {"message": "thank you alex", "session_id": session})
        await client.emit("user_uttered", {"message": "i'm safe for now, just so tired of everything",
                                           "session_id": session})
        await client.emit("user_uttered", {"message": "i still want to kill myself", "session_id": session})
        await asyncio.sleep(4)
        assert len(received) == before
        flags = await asyncio.to_thread(lambda: wait_for(lambda: assistant.store.review_flags(session)))
        assert {f["kind"] for f in flags} == {"risk_while_taken"} and len(flags) == 2
        assert len([h for h in assistant.store.list_handoffs() if h.sender_id == session]) == 1
        closed = await asyncio.to_thread(assistant.staff, "POST", f"/handoffs/{mine[0]['id']}/close", json={})
        assert closed.status_code == 200
        assert await until(lambda: any("I'm here again" in (m.get("text") or "") for m in received))
        await client.disconnect()
        return session

    session = asyncio.run(scenario())
    transcript = assistant.store.transcript(session)
    assert any(line["from"] == "staff" and "Alex" in line["text"] for line in transcript)
    assert "automated" in texts(assistant.say(session, "hello"))  # the assistant is back


def test_staff_api_requires_the_token(assistant):
    import httpx

    assert httpx.get(f"{assistant.web}/staff/api/handoffs").status_code == 401
    wrong = httpx.get(f"{assistant.web}/staff/api/handoffs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_crisis_resources_are_sent_with_the_action_server_down(assistant):
    assistant.stack.service("action server").stop()
    try:
        sender = assistant.new_sender()
        replies = assistant.say(sender, "i cut myself again tonight")
        assert crisis_payloads(replies) and "988" in texts(replies)
        assert crisis_payloads(replies)[0]["category"] == "self_harm"
    finally:
        assistant.stack.restart("action server")
