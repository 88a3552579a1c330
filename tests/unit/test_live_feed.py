"""The dashboard's live feed: one poll of a real database for all subscribers, fanned out to each with
what is new for it, and the Server-Sent Events stream a browser reads (a real uvicorn server)."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
import uvicorn
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot.crisis.handoff import HandoffRequest
from bot.store.db import get_engine
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web.app import app
from bot.web.dashboard import security
from bot.web.dashboard.live import LiveFeed
from tests.conftest import free_port

XSS = "<img src=x onerror=alert(1)> still here"


def save(url: str, sender: str, events: list) -> None:
    """Append events to the conversation, as Rasa's tracker store does after a turn."""
    store = AppTrackerStore(url=url)
    tracker = asyncio.run(store.retrieve(sender))
    if tracker is None:
        base = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        tracker = DialogueStateTracker.from_events(sender, base)
    for e in events:
        tracker.update(e)
    asyncio.run(store.save(tracker))


def turn(text: str, reply: str) -> list:
    return [UserUttered(text, {"name": "greet", "confidence": 0.9}, input_channel="rest"),
            ActionExecuted("utter_x"), BotUttered(reply), ActionExecuted("action_listen")]


@pytest.fixture
def db(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for i in range(3):
        save(sqlite_url, f"c{i}", turn(f"hello {i}", f"hi {i}"))
    return sqlite_url


def drain(subscriber) -> list:
    items = []
    while not subscriber.inbox.empty():
        items.append(subscriber.inbox.get_nowait())
    return items


def test_each_subscriber_gets_only_what_is_new_for_it(db):
    feed = LiveFeed(lambda: StaffStore(db))
    fresh = feed.subscribe("c0", after=2, start=False)  # has both lines
    behind = feed.subscribe("c0", after=1, start=False)  # has only the first
    other = feed.subscribe("c1", after=2, start=False)
    badge = feed.subscribe(None, start=False)
    asyncio.run(feed.poll_once())
    assert [k for k, _ in drain(fresh)] == ["queue"]
    got = drain(behind)
    assert [(k, p[0], p[1]["text"]) for k, p in got if k == "line"] == [("line", 1, "hi 0")]
    assert [k for k, _ in drain(other)] == ["queue"] and [k for k, _ in drain(badge)] == ["queue"]

    save(db, "c0", turn("a new message", "a reply"))
    asyncio.run(feed.poll_once())
    lines = [(p[0], p[1]["from"], p[1]["text"]) for k, p in drain(fresh) if k == "line"]
    assert lines == [(2, "person", "a new message"), (3, "assistant", "a reply")]
    assert [p[0] for k, p in drain(behind) if k == "line"] == [2, 3]
    assert drain(other) == [] and drain(badge) == []  # nothing new for them, not even the queue

    AppStore(db).open_handoff(HandoffRequest("rest", "c1", "suicide", "US", "help"), [])
    asyncio.run(feed.poll_once())
    queue = [p for k, p in drain(badge) if k == "queue"]
    assert len(queue) == 1 and queue[0]["waiting"] == 1 and queue[0]["open"] == 1 and queue[0]["alerts"]
    assert [k for k, _ in drain(other)] == ["queue"]


def test_one_poll_costs_the_same_queries_for_one_page_or_a_hundred(db):
    engine = get_engine(db)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries_for(pages: int) -> int:
        feed = LiveFeed(lambda: StaffStore(db))
        for i in range(pages):
            feed.subscribe(f"c{i % 3}", after=2, start=False)
        statements.clear()
        asyncio.run(feed.poll_once())
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    event.listen(engine, "before_cursor_execute", count)
    try:
        one, hundred = queries_for(1), queries_for(100)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert one == hundred and one <= 4


def test_an_erased_conversation_tells_its_pages_to_reload(db):
    feed = LiveFeed(lambda: StaffStore(db))
    page = feed.subscribe("c2", after=2, start=False)
    AppTrackerStore(url=db).erase("c2")
    asyncio.run(feed.poll_once())
    assert ("reset", {"count": 0}) in drain(page)


def test_the_poller_runs_while_someone_listens_and_stops_after(db):
    feed = LiveFeed(lambda: StaffStore(db), interval=0.05)

    async def scenario():
        page = feed.subscribe("c0", after=0)
        kinds = {(await asyncio.wait_for(page.inbox.get(), 5))[0] for _ in range(3)}
        assert kinds == {"line", "queue"}
        feed.unsubscribe(page)
        await asyncio.sleep(0.3)
        assert feed._task.done()
        polls = feed.polls
        await asyncio.sleep(0.2)
        assert feed.polls == polls

    asyncio.run(scenario())


# --- the stream over HTTP -------------------------------------------------------------------------


@pytest.fixture
def server(db, monkeypatch):
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-tests")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    security._secret.cache_clear()
    store = StaffStore(db)
    user = store.create_user("sam@clinic.test", "Sam", "clinician", security.hash_password("a-long-password-1"))
    store.create_session(user.id, "live-token", "csrf")
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield type("Server", (), {"url": f"http://127.0.0.1:{port}", "cookie": security.sign("live-token")})
    uv.should_exit = True
    thread.join(5)


def read_events(lines, wanted: str, limit: float = 5.0) -> list[dict]:
    """Read the stream's lines until an event of kind `wanted` arrives; returns every event read."""
    events, current = [], {}
    deadline = time.monotonic() + limit
    for raw in lines:
        if raw == "":
            if current:
                events.append(current)
                if current.get("event") == wanted:
                    return events
            current = {}
        elif not raw.startswith(":"):
            key, _, value = raw.partition(": ")
            current[key] = value
        if time.monotonic() > deadline:
            break
    return events


def test_the_stream_sends_new_lines_escaped_resumes_from_last_event_id_and_needs_a_session(server, db):
    assert httpx.get(server.url + "/staff/live").status_code == 401
    cookies = {security.SESSION_COOKIE: server.cookie}
    with httpx.stream("GET", server.url + "/staff/live?conversation=c0&after=2", cookies=cookies, timeout=10) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        lines = r.iter_lines()
        first = read_events(lines, "queue")
        assert first[0].get("retry") == "3000"
        save(db, "c0", [UserUttered(XSS, {"name": "greet", "confidence": 0.9}, input_channel="rest")])
        started = time.monotonic()
        got = read_events(lines, "line")
        assert time.monotonic() - started < 3
    line = got[-1]
    data = json.loads(line["data"])
    assert line["id"] == "3" and data["index"] == 2 and data["from"] == "person"
    assert "&lt;img src=x" in data["html"] and "<img" not in data["html"] and 'data-index="2"' in data["html"]

    # A reconnecting browser sends the last id it saw: it gets the lines after it, not the page's old `after`.
    with httpx.stream("GET", server.url + "/staff/live?conversation=c0&after=0", cookies=cookies, timeout=10,
                      headers={"Last-Event-ID": "2"}) as r:
        got = [e for e in read_events(r.iter_lines(), "line") if e.get("event") == "line"]
    assert json.loads(got[0]["data"])["index"] == 2


def test_a_page_too_far_behind_is_marked_so_its_stream_ends_and_reconnects(db):
    from bot.web.dashboard import live

    feed = LiveFeed(lambda: StaffStore(db))
    page = feed.subscribe("c0", after=0, start=False)
    for i in range(live.INBOX_LIMIT + 5):
        page.put("line", (i, {}))
    assert page.overflowed and page.inbox.qsize() == live.INBOX_LIMIT
    asyncio.run(feed.poll_once())
    assert page.inbox.qsize() == live.INBOX_LIMIT  # no more is queued for it
