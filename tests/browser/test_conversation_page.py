"""The conversation page in Chromium, at desktop width and on a 390 px phone: the header's risk banner,
"Go to the message that raised the alert" moving focus to that message, the reply box staying in view
while the page scrolls, the page opening at its top, times in the reader's time zone with UTC on hover,
the closeness circle's names not overlapping, and no sideways scrolling on the staff pages.
Saves the screenshots the staff dashboard guide shows (docs/screenshots/, docs/staff/dashboard.md)."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn
from playwright.sync_api import expect
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.crisis.handoff import HandoffRequest
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.store.journey_repository import JourneyStore
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web.app import app
from bot.web.dashboard import security
from bot.web.dashboard.security import hash_password
from tests.browser.test_dashboard import PASSWORD, sign_in
from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.browser

DOCS_SHOTS = PROJECT_ROOT / "docs" / "screenshots"
SENDER = "conv-page-1"
TRIGGER = "I can't do this any more, I want to end it tonight"
CHAT = [
    ("hi", "Hello. I'm an automated assistant from the clinic. How are you feeling today?"),
    ("not great, my partner and I keep arguing", "That sounds hard. Would you like to look at it together?"),
    ("yes", "Who are the important people in your life?"),
    ("Sam, my partner", "How close do you feel to Sam: inner, middle or outer circle?"),
    ("inner", "And who else?"),
    ("my sister Ana", "Thank you. How close is Ana?"),
    ("middle", "Anyone else?"),
    ("Jo from work and my neighbour Margaret", "Thank you. Shall we do the mood check-in?"),
]


def save_conversation(url: str) -> None:
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    start = datetime.now(timezone.utc).timestamp() - 3600
    for turn in range(3):  # a long transcript: the triggering message is in the middle of it
        for i, (said, answer) in enumerate(CHAT):
            at = start + (turn * len(CHAT) + i) * 40
            events += [ActionExecuted("action_listen", timestamp=at),
                       UserUttered(said, {"name": "inform", "confidence": 0.9}, input_channel="socketio",
                                   timestamp=at + 1),
                       BotUttered(answer, timestamp=at + 2)]
        if turn == 1:
            at = start + (turn + 1) * len(CHAT) * 40 - 20
            events += [ActionExecuted("action_listen", timestamp=at),
                       UserUttered(TRIGGER, {"name": "crisis", "confidence": 0.99}, input_channel="socketio",
                                   timestamp=at + 1),
                       BotUttered("I'm really glad you told me. You can call or text 988 now.", timestamp=at + 2)]
    tracker = DialogueStateTracker.from_events(SENDER, events)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API keeps a loop running in this thread
        pool.submit(asyncio.run, AppTrackerStore(url=url).save(tracker)).result()


def add_message(url: str, text: str) -> None:
    """The person writes again (as the Rasa server would store it)."""
    async def add():
        store = AppTrackerStore(url=url)
        tracker = await store.retrieve(SENDER)
        tracker.update(UserUttered(text, {"name": "inform", "confidence": 0.9}, input_channel="socketio"))
        await store.save(tracker)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, add()).result()


def save_journey(url: str) -> None:
    day = datetime.now(timezone.utc) - timedelta(weeks=8)
    JourneyStore(url).save(JourneyState(
        sender_id=SENDER, display_name="Robin", phase="middle", week=0, weeks_planned=12, focus="role_dispute",
        people=[PersonEntry(name=n, relationship=r, closeness=c) for n, r, c in (
            ("Sam", "partner", "inner"), ("Ana", "sister", "inner"), ("Mum", "mother", "inner"),
            ("Dad", "father", "inner"), ("Jo", "colleague", "middle"), ("Margaret", "neighbour", "middle"),
            ("Christopher", "friend", "middle"), ("Alexandra", "cousin", "outer"), ("Bea", "friend", "outer"))],
        checkins=[
            CheckinEntry(kind="initial", mood=3, phq9=[2, 3, 2, 2, 1, 2, 2, 1, 0], phq9_total=15, at=day),
            CheckinEntry(kind="weekly", week=1, mood=4, at=day + timedelta(weeks=1)),
            CheckinEntry(kind="weekly", week=4, mood=5, phq9=[2, 2, 1, 2, 1, 1, 1, 1, 1], phq9_total=12,
                         at=day + timedelta(weeks=4)),
        ]))


@pytest.fixture
def web(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-browser-tests")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    security._secret.cache_clear()
    security.login_limiter.reset()
    staff = StaffStore()
    staff.create_user("sam@clinic.test", "Sam from the clinic", "clinician", hash_password(PASSWORD))
    staff.create_user("ada@clinic.test", "Ada Admin", "admin", hash_password(PASSWORD))
    save_conversation(sqlite_url)
    save_journey(sqlite_url)
    AppStore().open_handoff(HandoffRequest("socketio", SENDER, "suicide", "US", TRIGGER), [])
    AppStore().open_handoff(HandoffRequest("socketio", "other-person", "overdose", "US",
                                           "I took all the pills in the cupboard"), [])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 10)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }""", selector)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_conversation_page_header_trigger_link_sticky_reply_and_no_sideways_scroll(web, browser, sqlite_url, width,
                                                                                   height):
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="America/New_York")
    page = context.new_page()
    try:
        sign_in(page, web, "sam@clinic.test")
        page.goto(f"{web}/staff/conversations/{SENDER}#handoff")  # where notifications and actions link
        page.wait_for_load_state("load")
        assert page.evaluate("window.scrollY") == 0  # opens at the top, not scrolled to a panel
        banner = page.locator("#risk-banner")
        expect(banner).to_contain_text("Clear risk")
        expect(page.locator("#handoff-state")).to_contain_text("Waiting for someone to take it")
        expect(page.locator("#header-phase")).to_contain_text("weekly check-ins not started yet")
        assert "week 0" not in page.content()
        expect(page.locator("#header-phq9")).to_have_text(
            "12 of 27 · moderate · item 9 (thoughts of death or self-harm): several days")
        expect(page.locator("#header-focus")).to_have_text("Role dispute")

        # the triggering message: highlighted, far down the page, one click away, and focused
        trigger = page.locator("#transcript .msg.trigger")
        expect(trigger).to_have_count(1)
        expect(trigger).to_contain_text(TRIGGER)
        assert not in_view(page, "#transcript .msg.trigger")
        page.get_by_role("link", name="Go to the message that raised the alert").click()
        expect(trigger).to_be_focused()
        assert in_view(page, "#transcript .msg.trigger")

        # the reply box stays in view wherever the page is scrolled
        assert in_view(page, "#reply-text")
        for where in ("document.documentElement.scrollHeight / 3", "document.documentElement.scrollHeight / 2"):
            page.evaluate(f"window.scrollTo(0, {where})")
            assert page.evaluate("window.scrollY") > 0
            assert in_view(page, "#reply-text"), where

        # times in the reader's zone (New York here), UTC on hover
        first = page.locator("#transcript time").first
        assert first.get_attribute("title").endswith(" UTC")
        assert not first.inner_text().endswith("UTC") and first.get_attribute("datetime").endswith("Z")

        # PHQ-9: items with item 9 marked, the trend and mood charts with text alternatives
        expect(page.locator("#phq9-items tr.item9")).to_contain_text("item 9")
        assert page.locator("#phq9-chart circle.point").count() == 2
        assert "15" in page.locator("#phq9-chart desc").text_content()
        assert page.locator("#mood-chart circle.point").count() == 3
        assert no_sideways_scroll(page), page.evaluate("document.documentElement.scrollWidth")
        # a new line from the live feed: its time and the header's "last" time are local too
        add_message(sqlite_url, "are you still there")
        line = page.locator("#transcript .msg.from-person", has_text="are you still there")
        expect(line).to_be_visible(timeout=4000)
        expect(line.locator("time")).to_have_attribute("data-local", "1")
        expect(page.locator("#c-last time")).to_have_attribute("data-local", "1")
        assert in_view(page, "#reply-text")
        if width > 1000:  # the journey beside the transcript, not thousands of pixels below
            page.evaluate("window.scrollTo(0, 0)")
            box = page.locator("#journey").bounding_box()
            assert box["y"] < height and box["x"] > width / 2
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            page.goto(f"{web}/staff/conversations/{SENDER}")
            page.screenshot(path=str(DOCS_SHOTS / "conversation-page.png"))
        else:
            page.evaluate("window.scrollTo(0, 0)")
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_SHOTS / "conversation-page-phone.png"))
    finally:
        context.close()


def test_staff_pages_do_not_scroll_sideways_on_a_390_px_phone(web, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, web, "ada@clinic.test")
        page.goto(f"{web}/staff/conversations/{SENDER}")  # something in the audit log
        for path in ("/staff/handoffs", "/staff/conversations", f"/staff/conversations/{SENDER}", "/staff/audit",
                     "/staff/users"):
            page.goto(web + path)
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        # the audit log reads as sentences, not action codes and JSON
        page.goto(web + "/staff/audit")
        expect(page.locator("#audit tbody tr[data-action='view']").first).to_contain_text(
            f"Ada Admin opened conversation {SENDER}")
        assert "{" not in page.locator("#audit").inner_text()
    finally:
        context.close()


def test_queue_times_screenshot_and_circle_names_do_not_overlap(web, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Europe/Berlin")
    page = context.new_page()
    try:
        sign_in(page, web, "sam@clinic.test")
        page.goto(web + "/staff/handoffs")
        expect(page.locator("#queue tbody tr")).to_have_count(2)
        opened = page.locator("#queue time").first  # the queue's times too: local, UTC on hover
        expect(opened).to_have_attribute("data-local", "1")
        assert opened.get_attribute("title").endswith(" UTC") and not opened.inner_text().endswith("UTC")
        page.goto(web + "/staff/conversations")
        listed = page.locator("table.list tbody td time").first
        expect(listed).to_have_attribute("data-local", "1")
        page.goto(web + "/staff/handoffs")
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SHOTS / "handoff-queue.png"))
        page.goto(f"{web}/staff/conversations/{SENDER}")
        src = page.locator("#journey figure.circle img").get_attribute("src")
        page.goto(web + src)  # the picture itself, to measure its rendered names
        boxes = page.evaluate("""() => [...document.querySelectorAll('text')].map(t => {
            const b = t.getBBox(); return {name: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })""")
        names = [b for b in boxes if b["name"] not in ("Remembered",)]
        assert len(names) >= 10  # nine people and "me"
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                         or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
                assert apart, (a, b)
    finally:
        context.close()
