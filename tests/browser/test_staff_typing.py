"""The person sees that clinic staff are typing: a clinician who took a crisis hand-off over types in the
reply box of the dashboard's conversation page, and the person's chat widget (socket.io, on the demo
page of the running assistant) says "Kim from the clinic is typing…" within 2 s, in a polite live
region, and stops saying it when the reply arrives or when the typing stops."""
from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from bot.store.staff_repository import StaffStore
from bot.web.dashboard.security import hash_password
from tests.browser.test_dashboard import PASSWORD, sign_in
from tests.browser.test_staff_presence import PUSH_TIMEOUT, handoff_of
from tests.browser.test_widget import open_demo, say

pytestmark = pytest.mark.browser

TYPING = "Kim from the clinic is typing…"


@pytest.fixture
def person(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def test_staff_typing_shows_on_the_persons_widget_and_goes_away(assistant, person, page):
    email = f"kim-{uuid.uuid4().hex[:6]}@clinic.test"
    StaffStore(assistant.db_url).create_user(email, "Kim", "clinician", hash_password(PASSWORD))
    open_demo(person, assistant)
    say(person, "i want to kill myself")
    sender = person.evaluate("IPTWidget.senderId()")
    handoff_of(assistant, sender)
    notice = person.locator(".ipt-w__staff-typing")
    expect(notice).to_have_attribute("aria-live", "polite")
    expect(notice).to_be_hidden()

    # Kim takes the hand-off over on the dashboard: the person is told Kim joined
    sign_in(page, assistant.web, email)
    page.goto(f"{assistant.web}/staff/conversations/{sender}")
    page.get_by_role("button", name="Take over").click()
    expect(person.locator(".ipt-w__msg--system").filter(has_text="Kim from the clinic has joined")) \
        .to_have_count(1, timeout=PUSH_TIMEOUT)

    # Kim types: the widget says so within 2 s, once (the text does not change with every key)
    box = page.get_by_label("Reply to the person")
    started = time.monotonic()
    box.press_sequentially("Hi, I'm Kim", delay=40)
    expect(notice).to_have_text(TYPING, timeout=2000)
    assert time.monotonic() - started < 2.5  # typing took ~0.5 s of it
    person.evaluate("""() => { window.__typingChanges = 0;
        new MutationObserver(m => { window.__typingChanges += m.length; })
          .observe(document.querySelector('.ipt-w__staff-typing'),
                   {childList: true, characterData: true, subtree: true}); }""")
    box.press_sequentially(". I'm here with you.", delay=150)  # ~3 s more: one more notice, same text
    expect(notice).to_have_text(TYPING)
    assert person.evaluate("window.__typingChanges") == 0, "the live region is not rewritten while typing goes on"

    # the reply arrives: the notice goes at once
    page.get_by_role("button", name="Send reply").click()
    expect(person.locator(".ipt-w__msg--staff .ipt-w__bubble")).to_have_text(
        "Hi, I'm Kim. I'm here with you.", timeout=PUSH_TIMEOUT)
    expect(notice).to_be_hidden()
    expect(notice).to_have_text("")

    # typing that stops: the notice goes about 6 s after the last one
    page.get_by_label("Reply to the person").press_sequentially("Are you", delay=40)
    expect(notice).to_have_text(TYPING, timeout=2000)
    shown = time.monotonic()
    expect(notice).to_be_hidden(timeout=9000)
    assert 4.5 < time.monotonic() - shown < 9
