"""The live dashboard in Chromium against the running assistant: a person's new message (sent through
REST) appears on an open conversation page within 2 s, without a reload, with the reader's focus,
typing and scroll position left alone."""
from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from bot.store.staff_repository import StaffStore
from bot.web.dashboard.security import hash_password
from tests.browser.test_dashboard import PASSWORD, sign_in

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
