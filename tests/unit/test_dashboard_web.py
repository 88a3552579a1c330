"""The staff dashboard through its HTTP interface: accounts, sessions, CSRF, roles, pages, hand-offs,
export and the audit log. Rasa's HTTP API is replaced by a recorder; transcripts are real Rasa events."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text, update

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.models import utcnow
from bot.store.repository import AppStore
from bot.store.staff_models import StaffSession
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web import staff_api
from bot.web.app import app
from bot.web.dashboard import routes, security, users
from bot.web.dashboard.export import redact

PASSWORD = "a-long-test-password"
XSS = "<script>alert('xss')</script><img src=x onerror=alert(1)>"


class FakeRasa:
    def __init__(self):
        self.calls = []

    def set_handoff_status(self, sender_id, status, staff=None):
        self.calls.append(("status", sender_id, status))

    def send_staff_message(self, sender_id, text, staff):
        self.calls.append(("message", sender_id, text, staff))
        return {"event": "bot", "text": text, "metadata": {"from_staff": staff}}

    def resume_assistant(self, sender_id, joined_staff=None):
        self.calls.append(("resume", sender_id))
        return {"event": "bot", "text": "I'm here again."}


def save(url: str, sender: str, events: list) -> None:
    base = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    asyncio.run(AppTrackerStore(url=url).save(DialogueStateTracker.from_events(sender, base + events)))


@pytest.fixture
def dash(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-tests")
    monkeypatch.setenv("STAFF_API_TOKEN", "token-for-tests")
    security._secret.cache_clear()
    security.login_limiter.reset()
    StaffStore._last_reconcile.clear()
    store = StaffStore()
    for role in ("admin", "clinician", "reviewer"):
        store.create_user(f"{role}@clinic.test", f"{role.title()} Person", role, security.hash_password(PASSWORD))
    save(sqlite_url, "calm-1", [UserUttered("hello there", {"name": "greet", "confidence": 0.97},
                                            input_channel="rest"),
                                ActionExecuted("utter_greet"), BotUttered("Hi, I'm the IPT assistant.")])
    save(sqlite_url, "crisis-1", [
        UserUttered("I want to end my life 100%_sure", {"name": "crisis", "confidence": 0.99,
                                                       "crisis_category": "suicide"}, input_channel="socketio"),
        ActionExecuted("utter_crisis_empathy"), BotUttered("I'm so sorry you feel this way."),
        UserUttered(XSS, {"name": "nlu_fallback", "confidence": 0.3}, input_channel="socketio"),
        BotUttered("We are with you.", metadata={"from_staff": "Dr <b>Who</b>"}),
    ])
    handoff_id = AppStore().open_handoff(HandoffRequest("socketio", "crisis-1", "suicide", "US", "I want to..."), [])
    fake = FakeRasa()
    app.dependency_overrides[routes.rasa_client] = lambda: fake
    app.dependency_overrides[staff_api.rasa] = lambda: fake
    yield type("Dash", (), {"url": sqlite_url, "store": store, "rasa": fake, "handoff_id": handoff_id})
    app.dependency_overrides.clear()


def login(email: str, password: str = PASSWORD, client: TestClient | None = None):
    client = client or TestClient(app)
    page = client.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={"email": email, "password": password, "csrf_token": csrf},
                           follow_redirects=False)
    return client, response


def signed_in(role: str) -> TestClient:
    client, response = login(f"{role}@clinic.test")
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str = "/staff/conversations") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def audit_actions(store: StaffStore) -> list[str]:
    return [e["action"] for e in store.audit_entries(per_page=1000)[0]]


# --- accounts, sessions, CSRF ------------------------------------------------------------------


def test_every_page_but_login_needs_a_session(dash):
    client = TestClient(app)
    paths = [r.path for r in app.routes if r.path.startswith("/staff/") and not r.path.startswith("/staff/api")
             and r.path not in ("/staff/login", "/staff/static")]
    assert len(paths) >= 15
    for path in paths:
        concrete = path.replace("{sender_id}", "crisis-1").replace("{handoff_id}", "1").replace("{user_id}", "1")
        for method in sorted(getattr(next(r for r in app.routes if r.path == path), "methods", {"GET"})):
            response = client.request(method, concrete, follow_redirects=False)
            assert response.status_code in (303, 401), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/staff/login")


def test_login_sets_a_secure_http_only_same_site_cookie_and_the_hash_is_argon2(dash, monkeypatch):
    monkeypatch.setenv("STAFF_COOKIE_SECURE", "true")
    _, response = login("admin@clinic.test", client=TestClient(app, base_url="https://testserver"))
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie and "path=/staff" in cookie
    assert dash.store.user_by_email("admin@clinic.test")[1].startswith("$argon2id$")
    assert "login" in audit_actions(dash.store)


def test_wrong_password_is_refused_and_five_failures_lock_the_account_for_that_address_only(dash):
    client, response = login("clinician@clinic.test", "wrong-password-123")
    assert response.status_code == 401 and "not right" in response.text
    for _ in range(4):
        login("clinician@clinic.test", "wrong-password-123", client)
    _, response = login("clinician@clinic.test")
    assert response.status_code == 401  # locked here, even with the right password; the same answer as a wrong one
    assert security.LOGIN_FAILED in response.text.replace("&#39;", "'").replace("&amp;", "&")
    assert audit_actions(dash.store).count("login_failed") == 6
    # a colleague at another address is not locked out by someone else's guesses
    assert login("clinician@clinic.test", client=TestClient(app, client=("203.0.113.9", 5000)))[1].status_code == 303


def test_login_is_rate_limited_per_address(dash):
    security.login_limiter.limit = 3
    try:
        client = TestClient(app)
        codes = [login(f"nobody{i}@clinic.test", client=client)[1].status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
    finally:
        security.login_limiter.limit = 10


def test_login_form_and_every_post_need_the_csrf_token(dash):
    client = TestClient(app)
    client.get("/staff/login")
    response = client.post("/staff/login", data={"email": "admin@clinic.test", "password": PASSWORD,
                                                 "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    client = signed_in("admin")
    for path, data in [("/staff/conversations/crisis-1/notes", {"text": "hi"}),
                       (f"/staff/handoffs/{dash.handoff_id}/reply", {"text": "hi"}),
                       ("/staff/logout", {}), ("/staff/users", {"email": "x@y.z", "name": "x", "role": "admin",
                                                                "password": PASSWORD})]:
        assert client.post(path, data=data, follow_redirects=False).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "wrong"}, follow_redirects=False).status_code == 403
    assert dash.rasa.calls == []


def test_idle_sessions_expire_and_logout_ends_the_session(dash):
    client = signed_in("clinician")
    assert client.get("/staff/conversations").status_code == 200
    with session_scope(dash.url) as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    assert client.get("/staff/conversations", follow_redirects=False).status_code == 303
    client = signed_in("clinician")
    csrf = csrf_of(client)
    assert client.post("/staff/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/staff/conversations", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_refused(dash):
    client = TestClient(app)
    client.cookies.set(security.SESSION_COOKIE, "made-up.0000", path="/staff")
    assert client.get("/staff/conversations", follow_redirects=False).status_code == 303


def test_reviewer_reads_but_cannot_export_reply_or_write(dash):
    client = signed_in("reviewer")
    page = client.get("/staff/conversations/crisis-1")
    assert page.status_code == 200 and "Send reply" not in page.text and "export?format" not in page.text
    csrf = csrf_of(client)
    assert client.get("/staff/conversations/crisis-1/export?format=json").status_code == 403
    assert client.get("/staff/export?format=csv").status_code == 403
    assert client.get("/staff/conversations/crisis-1/print").status_code == 403
    assert client.post(f"/staff/handoffs/{dash.handoff_id}/reply", data={"text": "x", "csrf_token": csrf}).status_code \
        == 403
    assert client.post(f"/staff/api/handoffs/{dash.handoff_id}/reply", json={"text": "x"},
                       headers={"X-CSRF-Token": csrf}).status_code == 403
    assert client.post("/staff/conversations/crisis-1/notes", data={"text": "x", "csrf_token": csrf}).status_code == 403
    assert client.get("/staff/audit").status_code == 403 and client.get("/staff/users").status_code == 403
    assert dash.rasa.calls == []


def test_admin_creates_users_in_the_ui_and_the_cli(dash, monkeypatch):
    client = signed_in("admin")
    csrf = csrf_of(client, "/staff/users")
    response = client.post("/staff/users", data={"email": "new@clinic.test", "name": "New One", "role": "clinician",
                                                 "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 200 and "new@clinic.test" in response.text
    assert "short" not in response.text
    assert client.post("/staff/users", data={"email": "weak@clinic.test", "name": "W", "role": "clinician",
                                             "password": "short", "csrf_token": csrf}).text.count("12 characters") >= 1
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    assert users.main(["create", "--role", "reviewer", "--email", "cli@clinic.test"]) == 0
    assert users.main(["create", "--role", "reviewer", "--email", "cli@clinic.test"]) == 1
    assert login("cli@clinic.test")[1].status_code == 303
    assert {"user_create"} <= set(audit_actions(dash.store))


# --- conversations ---------------------------------------------------------------------------


def test_list_shows_conversations_newest_first_with_filters_and_search(dash):
    client = signed_in("clinician")
    page = client.get("/staff/conversations")
    assert page.status_code == 200
    assert page.text.index("crisis-1") < page.text.index("calm-1")  # crisis-1 was saved last
    assert "crisis: suicide" in page.text and "hand-off requested" in page.text
    crisis = client.get("/staff/conversations?crisis=1").text
    assert "crisis-1" in crisis and "calm-1" not in crisis
    assert "calm-1" in client.get("/staff/conversations?q=HELLO").text
    assert "crisis-1" not in client.get("/staff/conversations?q=hello").text
    assert "crisis-1" in client.get("/staff/conversations?q=100%25_sure").text  # % and _ match literally
    assert "No conversations" in client.get("/staff/conversations?q=1%25_x").text
    assert "calm-1" not in client.get("/staff/conversations?handoff=open").text
    assert "calm-1" in client.get("/staff/conversations?channel=rest").text
    assert "No conversations" in client.get("/staff/conversations?from=2001-01-01&to=2001-01-02").text
    assert "No conversations" in client.get("/staff/conversations?phase=middle").text


def test_text_written_by_people_is_escaped_everywhere(dash):
    client = signed_in("admin")
    csrf = csrf_of(client)
    client.post("/staff/conversations/crisis-1/notes", data={"text": XSS, "csrf_token": csrf})
    client.post("/staff/conversations/crisis-1/review", data={"status": "follow_up", "tags": "<b>x</b>",
                                                             "csrf_token": csrf})
    for path in ("/staff/conversations", "/staff/conversations/crisis-1", "/staff/conversations/crisis-1/print",
                 "/staff/audit"):
        body = client.get(path).text
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>" not in body, path
    view = client.get("/staff/conversations/crisis-1").text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in view
    assert "Dr &lt;b&gt;Who&lt;/b&gt;" in view
    assert "script-src 'self'" in client.get("/staff/conversations").headers["content-security-policy"]


def test_conversation_view_transcript_nlu_journey_notes_review(dash):
    client = signed_in("clinician")
    view = client.get("/staff/conversations/crisis-1")
    assert "Crisis message" in view.text and "category: suicide" in view.text
    assert "from-staff" in view.text and "from-person" in view.text and "from-assistant" in view.text
    assert "confidence 0.99" in view.text and "show-nlu" not in view.text
    assert 'class="transcript show-nlu"' in client.get("/staff/conversations/crisis-1?nlu=1").text
    assert "No journey data yet" in view.text
    csrf = csrf_of(client)
    client.post("/staff/conversations/crisis-1/notes", data={"text": "Called back.", "csrf_token": csrf})
    waiting = client.post("/staff/conversations/crisis-1/review", data={"status": "reviewed", "csrf_token": csrf})
    assert waiting.status_code == 409  # its hand-off still waits: it cannot be marked reviewed
    client.post("/staff/conversations/crisis-1/review", data={"status": "follow_up", "tags": "urgent, callback",
                                                             "csrf_token": csrf})
    view = client.get("/staff/conversations/crisis-1").text
    assert "Called back." in view and "urgent" in view and "callback" in view
    assert "calm-1" not in client.get("/staff/conversations?review=follow_up").text
    assert "crisis-1" in client.get("/staff/conversations?review=follow_up").text
    assert client.get("/staff/conversations/nope").status_code == 404
    actions = audit_actions(dash.store)
    assert {"view", "note", "review"} <= set(actions)


def test_handoff_take_reply_close_through_the_shared_logic(dash):
    client = signed_in("clinician")
    queue = client.get("/staff/handoffs").text
    assert "waiting" in queue and "crisis-1" in queue
    poll = client.get("/staff/handoffs/poll").json()
    assert poll["waiting"] == 1 and poll["open"] == 1
    csrf = csrf_of(client)
    hid = dash.handoff_id
    assert client.post(f"/staff/handoffs/{hid}/take", data={"csrf_token": csrf}).status_code == 200
    assert AppStore().get_handoff(hid).taken_by == "Clinician Person"
    page = client.post(f"/staff/handoffs/{hid}/reply", data={"text": "Hi, I'm Sam from the clinic.",
                                                              "csrf_token": csrf})
    assert "Your reply was sent" in page.text
    assert ("message", "crisis-1", "Hi, I'm Sam from the clinic.", "Clinician Person") in dash.rasa.calls
    assert client.post(f"/staff/handoffs/{hid}/close", data={"csrf_token": csrf}).status_code == 200
    assert AppStore().get_handoff(hid).status == "closed"
    assert client.post(f"/staff/handoffs/{hid}/reply", data={"text": "late", "csrf_token": csrf}).status_code == 409
    assert client.get("/staff/handoffs/poll").json()["open"] == 0
    entries = dash.store.audit_entries(per_page=100)[0]
    done = [(e["action"], e["user"], e["target"]) for e in entries]
    for action in ("take_over", "reply", "close_handoff"):
        assert (action, "clinician@clinic.test", "crisis-1") in done


def test_staff_api_keeps_the_bearer_token_and_accepts_a_session(dash):
    api = TestClient(app)
    assert api.get("/staff/api/handoffs").status_code == 401
    token = {"Authorization": "Bearer token-for-tests"}
    assert api.get("/staff/api/handoffs", headers=token).json()[0]["sender_id"] == "crisis-1"
    assert api.post(f"/staff/api/handoffs/{dash.handoff_id}/take", json={"staff": "Alex"}, headers=token).json() \
        == {"status": "taken"}
    client = signed_in("clinician")
    assert client.get("/staff/api/handoffs?status=all").status_code == 200
    assert client.post(f"/staff/api/handoffs/{dash.handoff_id}/reply", json={"text": "hi"}).status_code == 403
    csrf = csrf_of(client)
    reply = client.post(f"/staff/api/handoffs/{dash.handoff_id}/reply", json={"text": "hi"},
                        headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 200 and dash.rasa.calls[-1] == ("message", "crisis-1", "hi", "Clinician Person")
    users_of = {(e["action"], e["user"]) for e in dash.store.audit_entries(per_page=100)[0]}
    assert ("take_over", "api-token") in users_of and ("reply", "clinician@clinic.test") in users_of


# --- export ----------------------------------------------------------------------------------


def test_export_json_csv_print_and_redaction(dash):
    AppStore().touch_person("socketio", "crisis-1")
    AppStore().set_display_name("socketio", "crisis-1", "Morgan")
    save(dash.url, "pii-1", [UserUttered("I'm Morgan, call me on +1 555 123 4567 or morgan@example.org",
                                         {"name": "inform", "confidence": 0.9}, input_channel="rest")])
    client = signed_in("clinician")
    doc = client.get("/staff/conversations/pii-1/export?format=json").json()
    assert doc["conversations"][0]["messages"][0]["text"].startswith("I'm Morgan")
    red = client.get("/staff/conversations/pii-1/export?format=json&redact=1")
    assert "attachment" in red.headers["content-disposition"]
    text_ = red.json()["conversations"][0]["messages"][0]["text"]
    assert "Morgan" not in text_ and "555" not in text_ and "example.org" not in text_
    assert red.json()["conversations"][0]["conversation"].startswith("conversation-")
    csv_text = client.get("/staff/conversations/crisis-1/export?format=csv").text
    assert csv_text.splitlines()[0].startswith("conversation,channel,at,from")
    assert "'=cmd" not in csv_text  # nothing to neutralise here, but the column exists
    many = client.get("/staff/export?format=json&crisis=1").json()
    assert [c["conversation"] for c in many["conversations"]] == ["crisis-1"]
    assert "We are with you." in client.get("/staff/conversations/crisis-1/print").text
    exports = [e for e in dash.store.audit_entries(action="export")[0]]
    assert len(exports) == 5 and all(e["user"] == "clinician@clinic.test" for e in exports)


def test_redaction_patterns_and_csv_formula_guard():
    out = redact("Hi, my name is Alex Smith; my sister Ana lives at 12 Baker Street, www.x.org, @ana_b, 07700 900123")
    for leaked in ("Alex", "Ana", "Baker", "x.org", "@ana_b", "900123"):
        assert leaked not in out
    assert redact("i am sad and my friend is away") == "i am sad and my friend is away"
    from bot.web.dashboard.export import to_csv

    csv_text = to_csv([{"conversation": "c", "channel": "rest", "messages": [
        {"at": None, "from": "person", "staff": None, "text": "=HYPERLINK(\"x\")", "intent": None,
         "confidence": None, "crisis_category": None}]}])
    assert "'=HYPERLINK" in csv_text


# --- audit log -------------------------------------------------------------------------------


def test_admin_reads_and_filters_the_audit_log_which_cannot_be_edited(dash):
    client = signed_in("clinician")
    client.get("/staff/conversations/calm-1")
    admin = signed_in("admin")
    page = admin.get("/staff/audit?user=clinician@clinic.test&action=view")
    assert page.status_code == 200 and "calm-1" in page.text and "1 entry" in page.text
    assert "login" in admin.get("/staff/audit?action=login").text
    with pytest.raises(Exception, match="append-only"):
        with session_scope(dash.url) as session:
            session.execute(text("UPDATE staff_audit SET action = 'x'"))
    with pytest.raises(Exception, match="append-only"):
        with session_scope(dash.url) as session:
            session.execute(text("DELETE FROM staff_audit"))
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/staff/audit")
                and getattr(r, "methods", set()) - {"GET", "HEAD"}]


def test_json_detail_survives(dash):
    dash.store.audit("export", None, "x", {"a": 1}, email="cli")
    assert dash.store.audit_entries(target="x")[0][0]["detail"] == {"a": 1}
    assert json.loads(json.dumps({"ok": True}))


def test_the_conversation_page_shows_flags_for_review_and_a_person_who_says_they_are_safe(dash):
    store = AppStore()
    store.flag_for_review("rest", "crisis-1", "risk_while_taken", "i still want to die")
    store.flag_for_review("rest", "crisis-1", "safety_check_no", "no, I'm safe")
    store.mark_person_safe("crisis-1")
    view = signed_in("clinician").get("/staff/conversations/crisis-1").text
    assert "Flagged for review (2)" in view
    assert "Risk message while staff held the chat" in view and "i still want to die" in view
    assert "No, I&#39;m safe" in view or "No, I'm safe" in view
