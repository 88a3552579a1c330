"""The guided journey in the web app: the public closeness-circle picture, the journey on the staff
dashboard's conversation page, the phase and focus filters, and what a deletion leaves (nothing).

Real app, real database (SQLite, and PostgreSQL where marked with `db_url`), real Rasa events.
"""
from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from html import unescape
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event, func, select

from bot.crisis.handoff import HandoffRequest
from bot.journey.service import image_url
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.store.db import get_engine, session_scope
from bot.store.journey_repository import JourneyStore
from bot.store.models import JourneyCheckin, JourneyPerson
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web.app import app
from bot.web.dashboard import routes, security

PASSWORD = "a-long-test-password"
XSS_NAME = "<script>alert(1)</script>"
XSS = "<script>alert('xss')</script><img src=x onerror=alert(1)>"


def save_events(url: str, sender: str, words: str) -> None:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered(words, {"name": "journey_start", "confidence": 0.97}, input_channel="rest"),
              ActionExecuted("action_journey"), BotUttered("Let's start.")]
    asyncio.run(AppTrackerStore(url=url).save(DialogueStateTracker.from_events(sender, events)))


def middle_journey(sender: str) -> JourneyState:
    """A journey three weeks into the middle phase, with an inventory, focus, goals and check-ins."""
    return JourneyState(
        sender_id=sender, display_name="Robin", phase="middle", week=3, weeks_planned=12,
        focus="role_dispute", second_focus="grief", dispute_stage="impasse",
        formulation=f"Arguments with Sam about money; {XSS}", goals=["Talk to Sam calmly", "Call Ana weekly"],
        ending={"ending_helped": "Talking it through", "ending_signs": "Not sleeping",
                "ending_plan": "Call Ana when it starts"},
        people=[
            PersonEntry(name="Sam", relationship="partner", closeness="inner", contact="daily",
                        good="we laugh", hard="arguments about money", change="fewer fights", supported="sometimes"),
            PersonEntry(name="Ana", relationship="sister", closeness="middle", contact="weekly",
                        good="she listens", hard="lives far away", change="see her more", supported="yes"),
            PersonEntry(name=XSS_NAME, relationship=XSS, closeness="outer", supported="no"),
            PersonEntry(name="Grandad", relationship="grandfather", closeness="inner", good="his stories",
                        deceased=True),
        ],
        checkins=[
            CheckinEntry(kind="initial", mood=3, phq9=[2, 2, 1, 2, 1, 2, 1, 1, 0], phq9_total=12,
                         at=datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)),
            CheckinEntry(kind="weekly", week=1, mood=4, at=datetime(2024, 3, 8, 9, 30, tzinfo=timezone.utc)),
            CheckinEntry(kind="weekly", week=2, mood=6, at=datetime(2024, 3, 15, 9, 30, tzinfo=timezone.utc)),
        ])


@pytest.fixture
def web(sqlite_url, monkeypatch):
    """The app on a fresh SQLite database: a clinician, and conversation `j-1` with a middle-phase journey."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-tests")
    monkeypatch.setenv("STAFF_API_TOKEN", "token-for-tests")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    security._secret.cache_clear()
    security.login_limiter.reset()
    StaffStore._last_reconcile.clear()
    StaffStore().create_user("clinician@clinic.test", "Clinician Person", "clinician",
                             security.hash_password(PASSWORD))
    save_events(sqlite_url, "j-1", "I'd like to start the journey")
    save_events(sqlite_url, "plain-1", "hello")
    state = JourneyStore(sqlite_url).save(middle_journey("j-1"))
    yield type("Web", (), {"url": sqlite_url, "token": state.image_token})
    app.dependency_overrides.clear()


def signed_in() -> TestClient:
    client = TestClient(app)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").text).group(1)
    response = client.post("/staff/login", data={"email": "clinician@clinic.test", "password": PASSWORD,
                                                 "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


class QueryCounter:
    """Counts the SQL statements sent to one database."""

    def __init__(self, url: str):
        self.engine, self.count = get_engine(url), 0
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


# --- the public picture ----------------------------------------------------------------------


def test_circle_is_served_as_a_locked_down_svg_with_names_escaped(web):
    response = TestClient(app).get(f"/journey/circle/{web.token}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "style-src 'unsafe-inline'" in csp
    body = response.text
    assert "<script" not in body and "onerror" not in body.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # in the description (the label is shortened)
    root = ElementTree.fromstring(body)  # well-formed, so nothing leaked out of a text node
    svg = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg}svg" and root.findall(f".//{svg}script") == []
    labels = [t.text for t in root.iter(f"{svg}text")]
    assert "Sam" in labels and "Ana" in labels and any(label.startswith("<script>") for label in labels)
    assert "Inner circle: Sam." in root.find(f"{svg}desc").text


def test_the_address_the_assistant_sends_is_the_one_served(web, monkeypatch):
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://assistant.example.org/")
    url = image_url(web.token)
    assert url.startswith("https://assistant.example.org/journey/circle/")
    assert TestClient(app).get(urlsplit(url).path).status_code == 200


def test_unknown_and_malformed_tokens_are_404_and_malformed_ones_never_reach_the_database(web):
    client = TestClient(app)
    counter = QueryCounter(web.url)
    try:
        for token in ("a" * 65, "abc$def" * 4, "short", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "a.b" * 8, "x y" * 8,
                      "' OR '1'='1' --" * 2):
            response = client.get(f"/journey/circle/{token}.svg")
            assert response.status_code == 404, token
        assert counter.count == 0
        unknown = "A" * 32
        response = client.get(f"/journey/circle/{unknown}.svg")
        assert response.status_code == 404 and "svg" not in response.headers["content-type"]
        assert counter.count > 0  # a well-formed token is looked up
    finally:
        counter.close()
    assert client.get(f"/journey/circle/{web.token[:-1]}.svg").status_code == 404
    assert client.get(f"/journey/circle/{web.token}.png").status_code == 404
    assert client.get(f"/journey/circle/{web.token}").status_code == 404


def test_demo_page_lets_the_widget_show_same_origin_images(web):
    page = TestClient(app).get("/")
    assert page.status_code == 200 and "ipt-widget.js" in page.text
    csp = page.headers.get("content-security-policy")
    if csp:  # none today; if one is added it must keep the journey picture visible in the widget
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
        sources = directives.get("img-src", directives.get("default-src", ""))
        assert "'self'" in sources.split() or "*" in sources.split(), csp


# --- the dashboard ---------------------------------------------------------------------------


def test_conversation_page_shows_the_journey(web):
    client = signed_in()
    response = client.get("/staff/conversations/j-1")
    assert response.status_code == 200
    page = response.text
    section = page[page.index('id="journey"'):]
    assert "Middle phase" in section and "week 3 of 12" in section
    assert "Role dispute" in section and "Second focus" in section and "Grief" in section and "impasse" in section
    assert "Talk to Sam calmly" in section and "Call Ana weekly" in section
    assert "Arguments with Sam about money" in section
    assert "Call Ana when it starts" in section and "Not sleeping" in section
    # The inventory, as an accessible table.
    inventory = section[section.index('id="journey-inventory"'):section.index("</table>")]
    assert "<caption>" in inventory
    for header in ("Name", "Relationship", "Circle", "Contact", "What's good", "What's hard", "Would change",
                   "What each expects", "Feels supported"):
        assert f'<th scope="col">{header}</th>' in unescape(inventory), header
    assert '<th scope="row">Sam</th>' in inventory
    assert '<th scope="row">Grandad (died)</th>' in inventory  # someone who has died is shown so
    for value in ("partner", "inner", "daily", "we laugh", "arguments about money", "fewer fights", "sometimes"):
        assert f"<td>{value}</td>" in inventory, value
    # Check-ins: when, kind, week, mood, PHQ-9 total.
    checkins = section[section.index('id="journey-checkins"'):]
    checkins = checkins[:checkins.index("</table>")]
    assert "<caption>" in checkins and '<th scope="col">PHQ-9 total</th>' in checkins
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", checkins, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    assert cells == [["initial", "", "3", "12"], ["weekly", "1", "4", ""], ["weekly", "2", "6", ""]]
    assert "2024-03-01 09:30:00 UTC" in rows[0]
    # The picture, from the public route on the same origin, described in words.
    img = re.search(r'<img src="([^"]+)"[^>]*alt="([^"]+)"', section)
    assert img and img.group(1) == f"/journey/circle/{web.token}.svg"
    alt = unescape(img.group(2))
    assert "Inner circle: Sam." in alt and "Middle circle: Ana." in alt and XSS_NAME in alt
    assert "img-src 'self'" in response.headers["content-security-policy"]
    assert client.get(img.group(1)).headers["content-type"].startswith("image/svg+xml")


def test_journey_text_is_escaped_on_the_dashboard(web):
    page = signed_in().get("/staff/conversations/j-1").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the name
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_conversation_without_a_journey_says_so(web):
    page = signed_in().get("/staff/conversations/plain-1").text
    assert "No journey data yet" in page and 'id="journey-inventory"' not in page and "/journey/circle/" not in page


def test_phase_and_focus_filters_on_the_list(web):
    client = signed_in()
    middle = client.get("/staff/conversations?phase=middle").text
    assert "/staff/conversations/j-1" in middle and "/staff/conversations/plain-1" not in middle
    assert "journey: middle, role dispute" in middle
    dispute = client.get("/staff/conversations?focus=role_dispute").text
    assert "/staff/conversations/j-1" in dispute and "/staff/conversations/plain-1" not in dispute
    assert "No conversations" in client.get("/staff/conversations?focus=grief").text  # grief is only the second
    assert "No conversations" in client.get("/staff/conversations?phase=initial").text
    everything = client.get("/staff/conversations").text
    assert "find nothing" not in everything and "/staff/conversations/plain-1" in everything
    assert '<option value="completed"' in everything and '<option value="interpersonal_deficits"' in everything
    exported = client.get("/staff/conversations/j-1/export?format=json").json()["conversations"][0]
    assert exported["journey_phase"] == "middle" and exported["journey_focus"] == "role_dispute"


def test_after_deletion_the_dashboard_shows_no_journey(web):
    client = signed_in()
    assert "week 3 of 12" in client.get("/staff/conversations/j-1").text
    # The person asks for deletion, but a crisis hand-off keeps the conversation on the dashboard.
    AppStore(web.url).open_handoff(HandoffRequest("rest", "j-1", "suicide", "US", "help"), [])
    assert AppStore(web.url).delete_person_data("j-1") > 0
    page = client.get("/staff/conversations/j-1")
    assert page.status_code == 200
    assert "No journey data yet" in page.text and "week 3 of 12" not in page.text and "Sam" not in page.text
    assert web.token not in page.text
    assert "/staff/conversations/j-1" not in client.get("/staff/conversations?phase=middle").text
    assert TestClient(app).get(f"/journey/circle/{web.token}.svg").status_code == 404
    assert routes.journey("j-1", web.url) is None
    with session_scope(web.url) as session:
        assert session.execute(select(func.count()).select_from(JourneyPerson)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(JourneyCheckin)).scalar_one() == 0


# --- the store, on SQLite and PostgreSQL ---------------------------------------------------------


def test_journey_summary_for_the_dashboard(db_url):
    JourneyStore(db_url).save(middle_journey("j-1"))
    summary = routes.journey("j-1", db_url)
    assert summary["phase"] == "middle" and summary["week"] == 3 and summary["weeks_planned"] == 12
    assert [p["name"] for p in summary["inventory"]] == ["Sam", "Ana", XSS_NAME, "Grandad"]
    assert [p["deceased"] for p in summary["inventory"]] == [False, False, False, True]
    assert [c["phq9"] for c in summary["checkins"]] == [12, None, None]
    assert summary["circle_alt"].startswith("Closeness circle. Inner circle: Sam.")
    assert summary["circle_alt"].endswith("Remembered, who have died: Grandad.")
    assert routes.journey("nobody", db_url) is None
