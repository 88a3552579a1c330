"""The staff dashboard in a real browser against the running assistant: sign in, find a crisis
conversation, take it over, reply (the reply reaches the person on socket.io), end the hand-off;
a person's XSS payload shows as text; the audit log has it all."""
from __future__ import annotations

import time
import uuid

import pytest
import socketio

from bot.store.staff_repository import StaffStore
from bot.web.dashboard.security import hash_password
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import wait_for

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"
XSS = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\"> are you there?"



def sign_in(page, web: str, email: str) -> None:
    page.goto(web + "/staff/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/conversations")


def test_staff_take_over_a_crisis_and_reply_reaches_the_person(assistant, browser, page, screenshot):
    tag = uuid.uuid4().hex[:6]
    staff = StaffStore(assistant.db_url)
    staff.create_user(f"sam-{tag}@clinic.test", "Sam from the clinic", "clinician", hash_password(PASSWORD))
    staff.create_user(f"ada-{tag}@clinic.test", "Ada Admin", "admin", hash_password(PASSWORD))

    received: list[dict] = []
    person = socketio.Client()
    person.on("bot_uttered", received.append)
    # The sync client has no websocket package here: long-polling, a transport Rasa serves as well.
    person.connect(assistant.rasa, socketio_path="/socket.io", transports=["polling"])
    session = uuid.uuid4().hex
    person.emit("session_request", {"session_id": session})
    time.sleep(0.5)
    try:
        person.emit("user_uttered", {"message": "i want to kill myself", "session_id": session})
        assert wait_for(lambda: any("988" in (m.get("text") or "") for m in received))
        assert wait_for(lambda: [h for h in assistant.store.list_handoffs("requested") if h.sender_id == session])
        before = len(received)
        person.emit("user_uttered", {"message": XSS, "session_id": session})
        assert wait_for(lambda: len(received) > before)  # the holding answer: the message is stored

        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(assistant.web + "/staff/conversations")
        assert "/staff/login" in page.url
        screenshot("staff-login")
        sign_in(page, assistant.web, f"sam-{tag}@clinic.test")
        page.get_by_label("Crisis messages").check()
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**crisis=1**")
        screenshot("staff-conversations")
        page.get_by_role("link", name=session[:12]).click()
        page.wait_for_url(f"**/staff/conversations/{session}")
        assert page.get_by_text("Crisis message").first.is_visible()
        assert page.get_by_text("category: suicide").first.is_visible()
        assert page.get_by_text("<script>window.__xss = 1</script>", exact=False).is_visible()
        assert page.evaluate("window.__xss") is None and dialogs == []
        page.get_by_role("button", name="Show NLU details").click()
        assert page.get_by_text("intent crisis", exact=False).first.is_visible()
        screenshot("staff-conversation")

        page.get_by_role("button", name="Take over").click()
        assert page.get_by_text("You have taken this conversation over").is_visible()
        page.get_by_label("Reply to the person").fill("Hi, I'm Sam from the clinic. I'm here with you.")
        page.get_by_role("button", name="Send reply").click()
        assert page.get_by_text("Your reply was sent").is_visible()
        assert wait_for(lambda: any("I'm Sam from the clinic" in (m.get("text") or "") for m in received))
        page.reload()
        assert page.locator(".msg.from-staff", has_text="I'm Sam from the clinic").is_visible()
        screenshot("staff-conversation-replied")

        page.get_by_role("link", name="Hand-offs").click()
        assert page.locator("#queue").get_by_text("taken").first.is_visible()
        screenshot("staff-handoffs")
        page.go_back()
        page.locator("#end-handoff summary").click()  # End hand-off asks first
        page.get_by_role("button", name="Yes, end the hand-off").click()
        assert wait_for(lambda: any("I'm here again" in (m.get("text") or "") for m in received))
    finally:
        person.disconnect()

    admin_context = browser.new_context(viewport={"width": 1200, "height": 900})
    admin = admin_context.new_page()
    try:
        sign_in(admin, assistant.web, f"ada-{tag}@clinic.test")
        admin.goto(assistant.web + f"/staff/audit?user=sam-{tag}@clinic.test")
        rows = admin.locator("#audit tbody tr")
        actions = {rows.nth(i).get_attribute("data-action") for i in range(rows.count())}
        assert {"login", "view", "take_over", "reply", "close_handoff"} <= actions
        admin.screenshot(path=str(SCREENSHOTS / "staff-audit.png"), full_page=True)
    finally:
        admin_context.close()
