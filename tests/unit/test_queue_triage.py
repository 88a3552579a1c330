"""The hand-off queue for triage: one row per conversation, waiting first, clear risk above possible risk
above a request, then the longest wait; plain-language categories, an excerpt of what the person
wrote, filters, and one set of counts for the badge, the page and the live feed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import Handoff
from bot.store.repository import AppStore
from bot.store.staff_repository import ConversationFilter, StaffStore, excerpt
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
