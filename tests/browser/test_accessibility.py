"""Accessibility: axe-core (axe-playwright-python; axe.min.js ships in its wheel, nothing is downloaded)
finds no serious or critical violation on any staff page or on the chat widget, at desktop width and on
a 390 px phone. A failure prints each violation with the elements it found."""
from __future__ import annotations

import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.web.dashboard.security import hash_password
from tests.browser.test_conversation_page import SENDER, web  # noqa: F401 - its fixture: the web app, no Rasa
from tests.browser.test_dashboard import PASSWORD, sign_in
from tests.conftest import free_port

pytestmark = pytest.mark.browser

SIZES = pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
BLOCKING = ("serious", "critical")
AXE = Axe()


def violations(page, where: str) -> list[str]:
    """The serious and critical axe-core violations on the page as it is now, one readable entry each."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the page's own scripts (local times, live feed) settle
    found = []
    for v in AXE.run(page).response["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        nodes = "\n".join(f"    {' '.join(map(str, n['target']))}: {n['html'][:160]}\n      "
                          + (n.get("failureSummary") or "").replace("\n", "\n      ") for n in v["nodes"][:6])
        found.append(f"{where}: {v['id']} ({v['impact']}) {v['help']} [{len(v['nodes'])} element(s)]\n{nodes}")
    return found


def report(found: list[str]) -> str:
    return f"{len(found)} serious or critical accessibility violation(s):\n" + "\n".join(found)


def test_the_check_finds_what_it_should(page):
    """axe-core runs from the wheel's own copy and reports a missing text alternative and an unnamed field."""
    page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="data:,">'
                     '<input type="text"></main></html>')
    found = "\n".join(violations(page, "a page with known faults"))
    assert "image-alt (critical)" in found and "label (critical)" in found, found


@SIZES
def test_staff_pages_have_no_serious_or_critical_violations(web, browser, width, height):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    found: list[str] = []
    try:
        page.goto(web + "/staff/login")
        found += violations(page, "login")
        page.get_by_label("E-mail address").fill("sam@clinic.test")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        found += violations(page, "login with an error")

        sign_in(page, web, "sam@clinic.test")  # a clinician
        found += violations(page, "conversation list")
        page.goto(web + "/staff/conversations?crisis=1&q=tonight")
        found += violations(page, "conversation list, filtered")
        page.goto(web + "/staff/handoffs")
        found += violations(page, "hand-off queue")
        page.goto(f"{web}/staff/conversations/{SENDER}")
        found += violations(page, "conversation, hand-off waiting")
        [handoff] = [h for h in AppStore().list_handoffs("requested") if h.sender_id == SENDER]
        AppStore().set_handoff_status(handoff.id, "taken", "Sam from the clinic")  # as "Take over" does, no Rasa here
        page.goto(f"{web}/staff/conversations/{SENDER}?done=taken")
        found += violations(page, "conversation, taken over")
        page.locator("#end-handoff summary").click()
        found += violations(page, "conversation, end hand-off asked")
        page.goto(f"{web}/staff/conversations/{SENDER}?nlu=1")
        found += violations(page, "conversation with NLU details")

        page.context.clear_cookies()
        sign_in(page, web, "ada@clinic.test")  # an admin, a colleague of the clinician who holds the hand-off
        page.goto(f"{web}/staff/conversations/{SENDER}")
        found += violations(page, "conversation, a colleague's hand-off")
        page.get_by_label("Reply to the person").fill("Hello, this is Ada from the clinic.")
        page.get_by_role("button", name="Send reply").click()
        page.wait_for_load_state("load")
        found += violations(page, "confirm replying into a colleague's hand-off")
        for path, where in (("/staff/audit", "audit log"), ("/staff/users", "users"),
                            (f"/staff/conversations/{SENDER}/print", "printable conversation"),
                            (f"/staff/conversations/{SENDER}/print?redact=1", "printable, redacted"),
                            ("/staff/conversations/no-such-conversation", "not found")):
            page.goto(web + path)
            found += violations(page, where)
        page.goto(web + "/staff/tokens")
        found += violations(page, "API tokens")
    finally:
        context.close()
    assert not found, report(found)


@SIZES
def test_the_chat_widget_before_it_connects_has_no_serious_or_critical_violations(web, browser, monkeypatch,  # noqa: F811
                                                                                  width, height):
    monkeypatch.setenv("PUBLIC_RASA_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(web + "/")
        expect(page.locator("#ipt-widget")).to_be_visible()
        found = violations(page, "demo page, widget open, not connected")
        page.get_by_role("button", name=re.compile("close", re.I)).first.click()
        found += violations(page, "demo page, widget closed")
    finally:
        context.close()
    assert not found, report(found)


@SIZES
def test_the_chat_widget_in_a_crisis_conversation_has_no_serious_or_critical_violations(assistant, browser, width,
                                                                                        height):
    """Against the running assistant: buttons, the crisis card, then a clinician joining and replying."""
    tag = uuid.uuid4().hex[:6]
    StaffStore(assistant.db_url).create_user(f"sam-{tag}@clinic.test", "Sam from the clinic", "clinician",
                                             hash_password(PASSWORD))
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(assistant.web + "/")
        expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=30_000)
        found = violations(page, "widget, connected")
        for text in ("hello", "i want to kill myself"):
            before = page.locator(".ipt-w__msg--bot").count()
            page.get_by_label("Your message").fill(text)
            page.get_by_role("button", name="Send").click()
            expect(page.locator(".ipt-w__msg--bot")).not_to_have_count(before, timeout=30_000)
            page.wait_for_timeout(1000)
            found += violations(page, f"widget after {text!r}")
        sender = page.evaluate("IPTWidget.senderId()")
        [handoff] = [h for h in assistant.store.list_handoffs("requested") if h.sender_id == sender]
        staff = browser.new_context().new_page()
        sign_in(staff, assistant.web, f"sam-{tag}@clinic.test")
        staff.goto(f"{assistant.web}/staff/conversations/{sender}")
        staff.get_by_role("button", name="Take over").click()
        staff.get_by_label("Reply to the person").fill("Hi, I'm Sam from the clinic. I'm here with you.")
        staff.get_by_role("button", name="Send reply").click()
        expect(page.locator("#ipt-widget")).to_contain_text("I'm here with you", timeout=10_000)
        found += violations(page, f"widget, hand-off {handoff.id} taken and answered by staff")
        staff.context.close()
    finally:
        context.close()
    assert not found, report(found)
