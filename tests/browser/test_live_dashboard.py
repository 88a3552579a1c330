"""The live dashboard in Chromium: against the running assistant, a person's new message (sent through
REST) appears on an open conversation page within 2 s, without a reload, with the reader's focus,
typing and scroll position left alone; against the web app alone, a new crisis hand-off raises the
alerts (sound, desktop notification, title count, highlighted row) and keyboard focus stays put."""
from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import uvicorn
from playwright.sync_api import expect
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import Handoff
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web.app import app
from bot.web.dashboard import routes, security
from bot.web.dashboard.security import hash_password
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_dashboard import PASSWORD, sign_in
from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def clinician(assistant) -> str:
    email = f"lee-{uuid.uuid4().hex[:6]}@clinic.test"
    StaffStore(assistant.db_url).create_user(email, "Lee from the clinic", "clinician", hash_password(PASSWORD))
    return email


def test_a_new_message_appears_on_the_open_conversation_page_within_2_seconds(assistant, clinician, page, screenshot):
    sender = assistant.new_sender()
    assistant.say(sender, "hello")
    sign_in(page, assistant.web, clinician)
    page.goto(f"{assistant.web}/staff/conversations/{sender}")
    before = page.locator("#transcript .msg").count()
    assert before >= 2
    page.evaluate("window.__same_page = true")
    note = page.get_by_label("Add a note")
    note.fill("Half-written note")
    page.evaluate("window.scrollTo(0, 120)")
    scrolled = page.evaluate("window.scrollY")
    time.sleep(1.5)  # the live stream is open and has sent its first state

    words = f"my sister and I argued again {uuid.uuid4().hex[:5]}"
    assistant.say(sender, words)
    started = time.monotonic()
    expect(page.locator("#transcript .msg.from-person", has_text=words)).to_be_visible(timeout=2000)
    assert time.monotonic() - started < 2.0
    expect(page.locator("#transcript .msg")).not_to_have_count(before)
    assert page.evaluate("window.__same_page") is True  # no reload
    assert page.evaluate("document.activeElement.id") == "note-text"
    assert note.input_value() == "Half-written note"
    assert page.evaluate("window.scrollY") == scrolled
    expect(page.locator("#live-status")).to_have_text("New message from the person.")
    screenshot("staff-conversation-live")


# --- alerts: the web app alone on its own database (hand-offs recorded as the action server does) ---


@pytest.fixture
def web(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-browser-tests")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    security._secret.cache_clear()
    security.login_limiter.reset()
    StaffStore().create_user("kim@clinic.test", "Kim from the clinic", "clinician", hash_password(PASSWORD))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 10)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def crisis(sender: str, category: str = "suicide", text: str = "i want to end it tonight") -> int:
    return AppStore().open_handoff(HandoffRequest("socketio", sender, category, "US", text), [])


def test_a_new_crisis_sounds_notifies_counts_in_the_title_and_keeps_focus(web, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.grant_permissions(["notifications"], origin=web)
    page = context.new_page()
    try:
        crisis("first-person", "suicide", "Safety question (thoughts of ending their life or hurting themselves), "
                                          "answered: yes")  # possible risk
        sign_in(page, web, "kim@clinic.test")
        page.goto(web + "/staff/handoffs")
        expect(page).to_have_title(re.compile(r"^\(1\) Hand-offs"))
        assert page.evaluate("window.staffAlerts.beeps") == 0  # what was there before does not sound
        take = page.get_by_role("button", name="Take over")
        take.focus()
        focused_form = page.evaluate("document.activeElement.form.getAttribute('action')")

        new_id = crisis("second-person", "overdose", "I took all my pills " * 10)
        row = page.locator(f'#queue tr[data-handoff="{new_id}"]')
        expect(row).to_have_class(re.compile(r"\bis-new\b"), timeout=4000)
        expect(row.locator(".new-tag")).to_be_visible()
        assert page.locator("#queue tr.is-new").count() == 1 and page.locator(".new-tag:visible").count() == 1
        expect(page).to_have_title(re.compile(r"^\(2\) Hand-offs"))
        expect(page.locator("#alert-status")).to_have_text("New crisis hand-off waiting.")
        assert page.evaluate("window.staffAlerts.beeps") == 1
        assert page.evaluate("window.staffAlerts.notifications") == 1
        assert row.locator("td").first.inner_text().startswith("Clear risk")
        # clear risk goes above the possible risk that has waited longer
        assert page.locator("#queue tbody tr").first.get_attribute("data-handoff") == str(new_id)
        assert page.evaluate("document.activeElement.form && document.activeElement.form.getAttribute('action')") \
            == focused_form  # keyboard focus stayed on the same button, though the table was replaced
        page.screenshot(path=str(SCREENSHOTS / "staff-handoffs-alert.png"), full_page=True)

        page.get_by_role("button", name="Mute alerts").click()
        page.reload()
        expect(page.get_by_role("button", name="Alerts muted")).to_have_attribute("aria-pressed", "true")
        with session_scope() as session:
            session.get(Handoff, new_id).escalated_at = datetime.now(timezone.utc)
        expect(page.locator("#alert-status")).to_have_text("A hand-off was not taken in time.", timeout=4000)
        assert page.evaluate("window.staffAlerts.beeps") == 0 and page.evaluate("window.staffAlerts.alerts") == 1
    finally:
        context.close()


def test_desktop_alerts_are_asked_for_only_from_a_button(web, page):
    sign_in(page, web, "kim@clinic.test")
    page.goto(web + "/staff/handoffs")
    assert page.evaluate("Notification.permission") == "default"  # nothing asked on load
    expect(page.get_by_role("button", name="Turn on desktop alerts")).to_be_visible()


class QuietRasa:
    """Rasa's HTTP API is another process, not running here: record what would reach the person."""

    def __init__(self):
        self.calls = []

    def set_handoff_status(self, sender_id, status, *_joined):
        self.calls.append(("status", sender_id, status))

    def send_staff_message(self, sender_id, text, staff, *_more):
        self.calls.append(("message", sender_id, text))
        return {"event": "bot", "text": text}

    def resume_assistant(self, sender_id, *_more):
        self.calls.append(("resume", sender_id))
        return {"event": "bot", "text": "I'm here again."}


def test_ownership_is_shown_to_a_colleague_and_ending_asks_first(web, browser, sqlite_url):



    sender = "owner-" + uuid.uuid4().hex[:6]
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered("i want to end it", {"name": "crisis", "confidence": 0.99}, input_channel="socketio")]
    tracker = DialogueStateTracker.from_events(sender, events)
    # Playwright's sync API keeps an event loop running in this thread: save from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, AppTrackerStore(url=sqlite_url).save(tracker)).result()
    hid = crisis(sender)
    StaffStore().create_user("ravi@clinic.test", "Ravi", "clinician", hash_password(PASSWORD))
    rasa = QuietRasa()
    app.dependency_overrides[routes.rasa_client] = lambda: rasa
    kim_context = browser.new_context(viewport={"width": 1200, "height": 900})
    ravi_context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        kim, ravi = kim_context.new_page(), ravi_context.new_page()
        sign_in(kim, web, "kim@clinic.test")
        sign_in(ravi, web, "ravi@clinic.test")
        ravi.goto(f"{web}/staff/conversations/{sender}")
        kim.goto(f"{web}/staff/conversations/{sender}")
        kim.get_by_role("button", name="Take over").click()
        expect(kim.locator("#handoff-owner")).to_have_text("you (Kim from the clinic)")
        # the colleague's open page learns it live, and the queue shows the owner
        expect(ravi.locator("#handoff-changed")).to_have_text("Kim from the clinic has taken this hand-off over.",
                                                              timeout=4000)
        ravi.goto(f"{web}/staff/handoffs")
        expect(ravi.locator(f'#queue tr[data-handoff="{hid}"] .owner')).to_have_text("Kim from the clinic")
        ravi.goto(f"{web}/staff/conversations/{sender}")
        expect(ravi.locator("#colleague-warning")).to_be_visible()
        ravi.get_by_label("Reply to the person").fill("Hello, this is Ravi.")
        ravi.get_by_role("button", name="Send reply").click()
        expect(ravi.get_by_role("alert")).to_contain_text("Kim from the clinic has this hand-off")
        assert not [c for c in rasa.calls if c[0] == "message"]
        ravi.get_by_role("button", name="Send my reply anyway").click()
        expect(ravi.get_by_text("Your reply was sent")).to_be_visible()

        kim.reload()
        confirm = kim.get_by_role("button", name="Yes, end the hand-off")
        expect(confirm).to_be_hidden()
        kim.locator("#end-handoff summary").click()
        confirm.click()
        expect(kim.get_by_text("Hand-off ended")).to_be_visible()
        assert AppStore().get_handoff(hid).status == "closed" and ("resume", sender) in rasa.calls
    finally:
        app.dependency_overrides.clear()
        kim_context.close()
        ravi_context.close()
