"""The person sees who joined: a clinic staff member takes over a crisis hand-off, writes and leaves,
while the person watches the chat widget (socket.io) on the demo page, on a desktop and a 390 px phone.
Staff act through the staff JSON API of the running assistant."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_widget import CONTRAST_JS, REPLY_TIMEOUT, open_demo, say
from tests.conftest import wait_for

pytestmark = pytest.mark.browser

PUSH_TIMEOUT = 5_000  # a staff action reaches an open widget at once (socket.io)
VIEWPORTS = {"desktop": {"width": 1200, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def person(request, browser):
    """(viewport name, page) with the widget's size: a desktop, or a 390 px touch phone."""
    phone = request.param == "phone"
    context = browser.new_context(viewport=VIEWPORTS[request.param], is_mobile=phone, has_touch=phone)
    yield request.param, context.new_page()
    context.close()


def handoff_of(assistant, sender: str) -> int:
    found = wait_for(lambda: [h for h in assistant.staff("GET", "/handoffs").json() if h["sender_id"] == sender])
    assert found, "the crisis message opened a hand-off"
    return found[0]["id"]


def chat_share(page) -> float:
    """The share of the widget's height that the conversation itself gets."""
    log, panel = page.locator(".ipt-w__log").bounding_box(), page.locator(".ipt-w__panel").bounding_box()
    return log["height"] / panel["height"]


def test_staff_take_over_reply_and_leave_as_the_person_sees_it(assistant, person):
    name, page = person
    open_demo(page, assistant)
    heading, card, log = page.locator(".ipt-w__title"), page.locator(".ipt-w__crisis"), page.locator(".ipt-w__log")
    say(page, "i want to kill myself")
    expect(card).to_have_attribute("open", "")
    waiting = card.locator(".ipt-w__crisis-handoff").text_content()  # "asked ... to join" or, out of hours,
    assert "clinic" in waiting                                          # "nobody from the clinic can reply now"
    expect(heading).to_have_text("IPT assistant")
    hid = handoff_of(assistant, page.evaluate("IPTWidget.senderId()"))

    # Sam takes over: a system line, the header names Sam, the card folds into a bar
    assert assistant.staff("POST", f"/handoffs/{hid}/take", json={"staff": "Sam"}).status_code == 200
    joined = page.locator(".ipt-w__msg--system").filter(has_text="Sam from the clinic has joined the conversation.")
    expect(joined).to_have_count(1, timeout=PUSH_TIMEOUT)
    expect(heading).to_have_text("Sam from the clinic is here")
    expect(page.locator(".ipt-w__header")).to_have_class(re.compile(r"ipt-w__header--staff"))
    expect(card).not_to_have_attribute("open", "")
    assert waiting not in card.text_content()
    assert "Sam from the clinic has joined this chat" in card.text_content()

    # Sam's reply: a bubble with Sam's name, its own look, announced as Sam's
    assert assistant.staff("POST", f"/handoffs/{hid}/reply",
                           json={"text": "Hi, I'm Sam. I'm here with you now.", "staff": "Sam"}).status_code == 200
    staff = page.locator(".ipt-w__msg--staff")
    expect(staff).to_have_count(1, timeout=PUSH_TIMEOUT)
    expect(staff.locator(".ipt-w__who")).to_contain_text("Sam from the clinic")
    expect(staff.locator(".ipt-w__bubble")).to_have_text("Hi, I'm Sam. I'm here with you now.")
    spoken = staff.text_content()
    assert spoken.startswith("Sam from the clinic said:") and "IPT assistant said" not in spoken
    look = "(e) => { const s = getComputedStyle(e); return [s.backgroundColor, s.borderLeftWidth]; }"
    staff_look = staff.locator(".ipt-w__bubble").evaluate(look)
    bot_look = page.locator(".ipt-w__msg--bot .ipt-w__bubble").first.evaluate(look)
    assert staff_look[0] != bot_look[0] and float(staff_look[1][:-2]) >= 3 > float(bot_look[1][:-2])
    assert chat_share(page) > 0.5, "with the card folded, the conversation keeps most of the height"
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[name]["width"]
    assert page.evaluate(CONTRAST_JS) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"widget-staff-joined-{name}.png"))

    # the crisis lines stay one click away
    card.locator("summary").click()
    expect(card.locator("a[href='tel:988']")).to_be_visible()
    card.locator("summary").click()
    expect(card.locator("a[href='tel:988']")).to_be_hidden()

    # Sam ends the hand-off: a system line, the header is the assistant's again, the assistant is back
    assert assistant.staff("POST", f"/handoffs/{hid}/close", json={}).status_code == 200
    expect(page.locator(".ipt-w__msg--system").filter(has_text="Sam has left the conversation.")) \
        .to_have_count(1, timeout=PUSH_TIMEOUT)
    expect(page.locator(".ipt-w__msg--bot").last).to_contain_text("I'm here again", timeout=PUSH_TIMEOUT)
    expect(heading).to_have_text("IPT assistant")
    expect(page.locator(".ipt-w__header")).not_to_have_class(re.compile(r"ipt-w__header--staff"))
    expect(card).not_to_have_attribute("open", "")
    assert waiting not in card.text_content() and "Sam from the clinic has joined" not in card.text_content()
    expect(log).to_contain_text("You're chatting with the automated assistant again.")
    page.screenshot(path=str(SCREENSHOTS / f"widget-staff-left-{name}.png"))

    # after a reload the conversation reads the same, and the assistant answers again
    page.reload()
    expect(page.locator(".ipt-w__msg--staff .ipt-w__who")).to_contain_text("Sam from the clinic")
    expect(page.locator(".ipt-w__msg--system")).to_have_count(2)
    expect(heading).to_have_text("IPT assistant")
    expect(card).not_to_have_attribute("open", "")
    expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=REPLY_TIMEOUT)
    say(page, "hello")
    expect(page.locator(".ipt-w__msg--bot").last).to_be_visible()
