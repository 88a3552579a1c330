"""The guided inventory in the chat widget, in a real browser: buttons, typed answers, the circle picture."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_widget import BOT, REPLY_TIMEOUT, open_demo, say

pytestmark = pytest.mark.browser


def tap(page, title: str) -> None:
    before = page.locator(BOT).count()
    page.locator(".ipt-w__quick button:not([disabled])", has_text=title).first.click()
    expect(page.locator(BOT)).not_to_have_count(before, timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(800)


def test_adding_a_person_and_seeing_the_closeness_circle(assistant, page, screenshot):
    open_demo(page, assistant)
    say(page, "hello")
    tap(page, "Map the people in my life")
    expect(page.locator(BOT).last).to_contain_text("someone important")
    say(page, "Sam 🌻")
    expect(page.locator(BOT).last).to_contain_text("related")
    say(page, "best friend")
    tap(page, "Very close (inner circle)")
    tap(page, "Every week")
    say(page, "<b>we laugh</b>")
    say(page, "what is the interpersonal inventory?")  # a question in the middle: answered, then asked again
    expect(page.locator(BOT).last).to_contain_text("hard")
    say(page, "skip")
    say(page, "nothing really")  # (the widget drops the same text sent twice within 1.5 s: a double click)
    expect(page.locator(BOT).last).to_contain_text("expect of each other")
    say(page, "we both expect honesty and it works")
    tap(page, "Yes")
    expect(page.locator(BOT).last).to_contain_text("at least three")
    tap(page, "That's everyone")
    expect(page.locator(BOT).filter(has_text="Sam 🌻 (best friend)")).to_have_count(1)
    picture = page.locator(f"{BOT} img").last
    expect(picture).to_be_visible(timeout=REPLY_TIMEOUT)
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", picture.element_handle())
    assert "<b>" not in page.locator(BOT).filter(has_text="Sam").last.inner_html()  # shown as text
    screenshot("journey-closeness-circle")
