"""The hand-off queue for triage: one row per conversation, waiting first, clear risk above possible risk
above a request, then the longest wait; plain-language categories, an excerpt of what the person
wrote, filters, and one set of counts for the badge, the page and the live feed."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import Handoff
from bot.store.repository import AppStore
from bot.store.staff_repository import ConversationFilter, StaffStore, excerpt
from bot.store.tracker_store import AppTrackerStore
from bot.web.app import app
from bot.web.dashboard import security

PASSWORD = "a-long-test-password"
LONG = "I took all of my pills an hour ago and I feel very strange " * 5


def ago(minutes: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).isoformat()


def handoff(sender: str, category: str, message: str, minutes: int, channel: str = "socketio",
            locale: str = "US") -> int:
    return AppStore().open_handoff(HandoffRequest(channel, sender, category, locale, message, ago(minutes)), [])


@pytest.fixture
def queue(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-tests")
    monkeypatch.setenv("CLINIC_HOURS", "")
    security._secret.cache_clear()
    security.login_limiter.reset()
    # An older, ended hand-off of a conversation that has an open one again: one row, the open one.
    handoff("c-new", "suicide", "earlier", 500)
    AppStore().close_open_handoffs("c-new")
    ids = {
        "possible_old": handoff("p-old", "suicide", "Safety question (thoughts of ending their life or hurting "
                                                    "themselves), answered: yes", 50),
        "clear_new": handoff("c-new", "self_harm", "i cut myself again tonight", 5, locale="GB"),
        "clear_old": handoff("c-old", "overdose", LONG, 30, channel="telegram"),
        "phq9": handoff("q-1", "suicide", "PHQ-9 item 9 (thoughts of being better off dead or of hurting "
                                          "oneself), answered: 2", 90),
    }
    with session_scope() as session:
        # a stray second open hand-off of one conversation (a replayed spool, say): still one row
        session.add(Handoff(channel="socketio", sender_id="c-old", category="overdose", locale="US",
                            message="older duplicate", status="requested",
                            created_at=datetime.now(timezone.utc) - timedelta(minutes=40)))
    taken = handoff("t-1", "suicide", "i want to die", 120)
    AppStore().set_handoff_status(taken, "taken", "Sam")
    ids["taken"] = taken
    done = handoff("d-1", "abuse", "he hits me", 300)
    AppStore().close_open_handoffs("d-1", "Sam")
    ids["done"] = done
    return ids


def test_one_row_per_conversation_in_triage_order(queue):
    result = StaffStore().triage_queue()
    order = [r["sender_id"] for r in result["rows"]]
    # waiting: clear risk (longest wait first), then possible risk (longest first); then taken; then ended
    assert order == ["c-old", "c-new", "q-1", "p-old", "t-1", "d-1"]
    assert len(order) == len(set(order))
    c_old = result["rows"][0]
    assert c_old["id"] == queue["clear_old"]  # the latest open one, not the stray older duplicate
    assert c_old["category_label"] == "Overdose" and c_old["tier_label"] == "Clear risk"
    assert c_old["excerpt"].startswith("I took all of my pills") and len(c_old["excerpt"]) == 120
    assert c_old["excerpt"].endswith("…") and c_old["channel"] == "telegram"
    c_new = result["rows"][1]
    assert c_new["category_label"] == "Self-harm" and c_new["locale"] == "GB" and c_new["on_duty"] is False
    assert result["waiting"] == 4 and result["open"] == 5


def test_excerpt_is_the_triggering_message_on_one_line():
    assert excerpt("first words\nsecond line\n---\na later message") == "first words second line"
    assert excerpt("x" * 200) == "x" * 119 + "…"
    assert excerpt(None) == ""


def test_filters_and_counts_that_agree(queue):
    store = StaffStore()
    waiting = store.triage_queue(status="waiting")["rows"]
    assert {r["sender_id"] for r in waiting} == {"c-old", "c-new", "q-1", "p-old"}
    assert [r["sender_id"] for r in store.triage_queue(category="self_harm")["rows"]] == ["c-new"]
    assert [r["sender_id"] for r in store.triage_queue(status="closed")["rows"]] == ["d-1"]
    assert [r["sender_id"] for r in store.triage_queue(status="taken")["rows"]] == ["t-1"]
    filtered = store.triage_queue(category="abuse")
    assert filtered["waiting"] == 4 and filtered["open"] == 5  # the counts are the queue's, not the filter's
    status = store.queue_status()
    assert (status["waiting"], status["open"]) == (4, 5)
    assert {a["key"] for a in status["alerts"]} == {f"h{queue[k]}" for k in ("possible_old", "clear_new",
                                                                             "clear_old", "phq9")}
    assert store.list_conversations(ConversationFilter()).counts["open_handoffs"] == 5


def signed_in() -> TestClient:
    StaffStore().create_user("cl@clinic.test", "Cleo", "clinician", security.hash_password(PASSWORD))
    client = TestClient(app)
    page = client.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/staff/login", data={"email": "cl@clinic.test", "password": PASSWORD, "csrf_token": csrf})
    return client


def test_the_queue_page_badge_and_conversation_list_show_the_same_numbers(queue):
    client = signed_in()
    page = client.get("/staff/handoffs").text
    assert re.search(r'id="waiting-count">4<', page) and re.search(r'id="open-count">5<', page)
    assert "Self-harm" in page and "self_harm" not in page.replace('value="self_harm"', "")
    assert "I took all of my pills" in page and "Possible risk" in page and "Clear risk" in page
    assert page.index("c-old") < page.index("c-new") < page.index("p-old") < page.index("t-1")
    assert f'data-alerts="h{queue["clear_old"]}"' in page and "Sam" in page
    poll = client.get("/staff/handoffs/poll").json()
    assert (poll["waiting"], poll["open"]) == (4, 5)
    conversations = client.get("/staff/conversations").text
    assert re.search(r"<strong>5</strong> open hand-offs", conversations)
    only = client.get("/staff/handoffs?status=waiting&category=overdose").text
    assert "c-old" in only and "c-new" not in only and "t-1" not in only
    assert "fragment=1&amp;category=overdose&amp;status=waiting" in only


# --- ownership ------------------------------------------------------------------------------------


class FakeRasa:
    """Stands in for Rasa's HTTP API (another process): records what would reach the person."""

    def __init__(self):
        self.calls = []

    def set_handoff_status(self, sender_id, status, *_joined):
        self.calls.append(("status", sender_id, status))

    def send_staff_message(self, sender_id, text, staff, *_more):
        self.calls.append(("message", sender_id, text, staff))
        return {"event": "bot", "text": text}

    def resume_assistant(self, sender_id, *_more):
        self.calls.append(("resume", sender_id))
        return {"event": "bot", "text": "I'm here again."}


def save(url: str, sender: str, text: str) -> None:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered(text, {"name": "crisis", "confidence": 0.99}, input_channel="socketio")]
    asyncio.run(AppTrackerStore(url=url).save(DialogueStateTracker.from_events(sender, events)))


@pytest.fixture
def two_clinicians(queue, sqlite_url):
    from bot.web.dashboard import routes

    for sender in ("c-new", "c-old"):
        save(sqlite_url, sender, "i need help")
    StaffStore._last_reconcile.clear()
    fake = FakeRasa()
    app.dependency_overrides[routes.rasa_client] = lambda: fake
    StaffStore().create_user("dana@clinic.test", "Dana", "clinician", security.hash_password(PASSWORD))
    cleo = signed_in()
    dana = TestClient(app)
    page = dana.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    dana.post("/staff/login", data={"email": "dana@clinic.test", "password": PASSWORD, "csrf_token": csrf})
    yield cleo, dana, fake
    app.dependency_overrides.clear()


def csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/handoffs").text).group(1)


def test_taking_over_shows_the_owner_and_a_colleague_must_confirm_to_reply_or_end(queue, two_clinicians):
    cleo, dana, fake = two_clinicians
    hid = queue["clear_new"]
    assert cleo.post(f"/staff/handoffs/{hid}/take", data={"csrf_token": csrf(cleo)}).status_code == 200
    assert AppStore().get_handoff(hid).taken_by == "Cleo"
    assert re.search(r'class="owner">Cleo<', dana.get("/staff/handoffs").text)
    view = dana.get("/staff/conversations/c-new").text
    assert 'id="colleague-warning"' in view and re.search(r'id="handoff-owner">Cleo<', view)
    assert 'id="colleague-warning"' not in cleo.get("/staff/conversations/c-new").text

    answer = dana.post(f"/staff/handoffs/{hid}/reply", data={"text": "Hi, it's Dana.", "csrf_token": csrf(dana)})
    assert answer.status_code == 409 and "Cleo has this hand-off" in answer.text
    assert "Hi, it&#39;s Dana." in answer.text and 'name="confirm" value="1"' in answer.text  # the draft is kept
    assert not [c for c in fake.calls if c[0] == "message"]
    sent = dana.post(f"/staff/handoffs/{hid}/reply", data={"text": "Hi, it's Dana.", "confirm": "1",
                                                           "csrf_token": csrf(dana)})
    assert sent.status_code == 200 and ("message", "c-new", "Hi, it's Dana.", "Dana") in fake.calls
    mine = cleo.post(f"/staff/handoffs/{hid}/reply", data={"text": "Cleo here.", "csrf_token": csrf(cleo)})
    assert mine.status_code == 200  # the owner is not asked

    ending = dana.post(f"/staff/handoffs/{hid}/close", data={"csrf_token": csrf(dana)})
    assert ending.status_code == 409 and "End the hand-off anyway" in ending.text
    assert AppStore().get_handoff(hid).status == "taken"
    assert dana.post(f"/staff/handoffs/{hid}/close", data={"confirm": "1", "csrf_token": csrf(dana)}).status_code \
        == 200
    assert AppStore().get_handoff(hid).status == "closed" and ("resume", "c-new") in fake.calls


def test_end_hand_off_asks_first_without_any_script_on_the_page(queue, two_clinicians):
    cleo, _dana, _fake = two_clinicians
    view = cleo.get("/staff/conversations/c-old").text
    end = view[view.index('<details class="confirm" id="end-handoff">'):]
    end = end[:end.index("</details>")]
    assert "<summary" in end and 'name="confirm" value="1"' in end and "Yes, end the hand-off" in end
    assert not re.search(r"<script(?![^>]*\bsrc=)", view) and not re.search(r"\son[a-z]+=", view)


def test_a_waiting_hand_off_blocks_reviewed(queue, two_clinicians):
    cleo, _dana, _fake = two_clinicians
    token = csrf(cleo)
    blocked = cleo.post("/staff/conversations/c-new/review", data={"status": "reviewed", "csrf_token": token})
    assert blocked.status_code == 409 and "still waiting for someone to take it" in blocked.text
    assert cleo.post("/staff/conversations/c-new/review", data={"status": "follow_up", "csrf_token": token}) \
        .status_code == 200
    cleo.post(f"/staff/handoffs/{queue['clear_new']}/take", data={"csrf_token": token})
    assert cleo.post("/staff/conversations/c-new/review", data={"status": "reviewed", "csrf_token": token}) \
        .status_code == 200
    assert StaffStore().conversation("c-new")["review_status"] == "reviewed"
