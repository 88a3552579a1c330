"""Personal API tokens of the staff API: made on the dashboard, shown once, stored hashed, used as
`Authorization: Bearer`, acting with their user's role, revocable; the shared STAFF_API_TOKEN only while set.
And migration 0009 down and up on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select

from bot.crisis.handoff import HandoffRequest
from bot.store.db import session_scope
from bot.store.migrate import alembic_config, upgrade
from bot.store.repository import AppStore
from bot.store.staff_models import StaffApiToken
from bot.store.staff_repository import StaffStore
from bot.web import staff_api
from bot.web.app import app
from bot.web.dashboard import routes, security

PASSWORD = "a-long-test-password"


class FakeRasa:
    def __init__(self):
        self.calls = []

    def set_handoff_status(self, sender_id, status, staff=None):
        self.calls.append(("status", sender_id, status, staff))

    def send_staff_message(self, sender_id, text, staff):
        self.calls.append(("message", sender_id, text, staff))
        return {"event": "bot", "text": text}

    def resume_assistant(self, sender_id, joined_staff=None):
        self.calls.append(("resume", sender_id))
        return {"event": "bot", "text": "I'm here again."}


@pytest.fixture
def env(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("STAFF_SESSION_SECRET", "secret-for-tests")
    monkeypatch.delenv("STAFF_API_TOKEN", raising=False)
    security._secret.cache_clear()
    security.login_limiter.reset()
    store = StaffStore()
    for role in ("admin", "clinician", "reviewer"):
        store.create_user(f"{role}@clinic.test", f"{role.title()} Person", role, security.hash_password(PASSWORD))
    handoff_id = AppStore().open_handoff(HandoffRequest("rest", "person-1", "suicide", "US", "..."), [])
    fake = FakeRasa()
    app.dependency_overrides[routes.rasa_client] = lambda: fake
    app.dependency_overrides[staff_api.rasa] = lambda: fake
    yield type("Env", (), {"url": sqlite_url, "store": store, "handoff_id": handoff_id, "rasa": fake})
    app.dependency_overrides.clear()


def signed_in(role: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={"email": f"{role}@clinic.test", "password": PASSWORD,
                                                 "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/tokens").text).group(1)


def make_token(client: TestClient, name: str = "triage script") -> str:
    page = client.post("/staff/tokens", data={"name": name, "csrf_token": csrf_of(client)})
    assert page.status_code == 200 and "shown only this once" in page.text
    return re.search(r'id="new-token" type="text" readonly value="(ipt_[^"]+)"', page.text).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_and_never_stored_in_clear(env):
    client = signed_in("clinician")
    token = make_token(client)
    assert len(token) > 40
    listing = client.get("/staff/tokens").text
    assert "triage script" in listing and token not in listing  # shown once, never again
    with session_scope(env.url) as session:
        rows = session.execute(select(StaffApiToken)).scalars().all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in str(value) for r in rows for value in vars(r).values())
    TestClient(app).get("/staff/api/handoffs", headers=bearer(token))  # used once: last-used time written
    database = Path(env.url.removeprefix("sqlite:///")).read_bytes()
    assert token.encode() not in database and token[4:].encode() not in database
    assert all(token not in str(e) for e in env.store.audit_entries(per_page=1000)[0])


def test_a_token_acts_as_its_user_with_the_users_role(env):
    token = make_token(signed_in("clinician"))
    api = TestClient(app)
    assert api.get("/staff/api/handoffs", headers=bearer(token)).json()[0]["sender_id"] == "person-1"
    taken = api.post(f"/staff/api/handoffs/{env.handoff_id}/take", json={"staff": "Somebody Else"},
                     headers=bearer(token))
    assert taken.status_code == 200  # no CSRF: a bearer token is not a cookie a page could send
    assert env.rasa.calls[-1] == ("status", "person-1", "taken", "Clinician Person")  # the user's name, not the body's
    entry = next(e for e in env.store.audit_entries(per_page=100)[0] if e["action"] == "take_over")
    assert entry["user"] == "clinician@clinic.test" and entry["detail"]["api_token"] >= 1
    record = env.store.api_tokens()[0]
    assert record.last_used_at is not None and record.user_email == "clinician@clinic.test"


def test_a_revoked_token_is_refused(env):
    client = signed_in("clinician")
    token = make_token(client)
    api = TestClient(app)
    assert api.get("/staff/api/handoffs", headers=bearer(token)).status_code == 200
    token_id = env.store.api_tokens()[0].id
    revoked = client.post(f"/staff/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(client)},
                          follow_redirects=False)
    assert revoked.status_code == 303
    refused = api.get("/staff/api/handoffs", headers=bearer(token))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert api.post(f"/staff/api/handoffs/{env.handoff_id}/reply", json={"text": "hi"},
                    headers=bearer(token)).status_code == 401
    assert "api_token_revoke" in [e["action"] for e in env.store.audit_entries(per_page=100)[0]]
    assert env.rasa.calls == []


def test_a_clinician_token_cannot_do_admin_things_and_a_reviewer_token_cannot_reply(env):
    clinician = make_token(signed_in("clinician"))
    reviewer = make_token(signed_in("reviewer"))
    admin = make_token(signed_in("admin"))
    api = TestClient(app)
    assert api.get("/staff/api/audit", headers=bearer(clinician)).status_code == 403
    assert api.get("/staff/api/audit", headers=bearer(reviewer)).status_code == 403
    audit = api.get("/staff/api/audit?action=api_token_create", headers=bearer(admin))
    assert audit.status_code == 200 and audit.json()["total"] == 3
    # a token is no dashboard session: admin pages still want a signed-in browser
    assert api.get("/staff/users", headers=bearer(admin), follow_redirects=False).status_code == 303
    assert api.get("/staff/api/handoffs", headers=bearer(reviewer)).status_code == 200
    assert api.post(f"/staff/api/handoffs/{env.handoff_id}/reply", json={"text": "hi"},
                    headers=bearer(reviewer)).status_code == 403
    assert env.rasa.calls == []


def test_the_token_follows_the_users_role_and_dies_with_the_account(env):
    token = make_token(signed_in("clinician"))
    api = TestClient(app)
    user = env.store.user_by_email("clinician@clinic.test")[0]
    env.store.update_user(user.id, role="admin")
    assert api.get("/staff/api/audit", headers=bearer(token)).status_code == 200
    env.store.update_user(user.id, active=False)
    assert api.get("/staff/api/handoffs", headers=bearer(token)).status_code == 401


def test_only_the_owner_or_an_admin_can_revoke_a_token_and_each_sees_what_they_may(env):
    clinician = signed_in("clinician")
    make_token(clinician, "clinician's script")
    token_id = env.store.api_tokens()[0].id
    reviewer = signed_in("reviewer")
    assert reviewer.post(f"/staff/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(reviewer)},
                         follow_redirects=False).status_code == 404
    assert "clinician&#39;s script" not in reviewer.get("/staff/tokens").text
    admin = signed_in("admin")
    assert "clinician&#39;s script" in admin.get("/staff/tokens").text
    assert admin.post(f"/staff/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(admin)},
                      follow_redirects=False).status_code == 303
    assert env.store.api_tokens()[0].revoked_at is not None
    # without the form's CSRF token nothing is made
    assert clinician.post("/staff/tokens", data={"name": "x"}).status_code == 403


def test_the_shared_token_works_only_while_configured_and_never_for_admin_things(env, monkeypatch):
    api = TestClient(app)
    shared = bearer("shared-token-for-tests")
    assert api.get("/staff/api/handoffs", headers=shared).status_code == 401
    monkeypatch.setenv("STAFF_API_TOKEN", "shared-token-for-tests")
    assert api.get("/staff/api/handoffs", headers=shared).status_code == 200
    assert api.get("/staff/api/audit", headers=shared).status_code == 403
    assert api.get("/staff/api/handoffs", headers=bearer("ipt_not-a-token")).status_code == 401


def test_migration_0009_goes_down_and_up_again(db_url):
    def shape() -> tuple[set[str], set[str]]:
        engine = create_engine(db_url, future=True)
        try:
            found = inspect(engine)
            return set(found.get_table_names()), {c["name"] for c in found.get_columns("staff_user")}
        finally:
            engine.dispose()

    tables, columns = shape()
    assert "staff_api_token" in tables and "oidc_subject" in columns
    store = StaffStore(db_url)
    user = store.create_user("a@clinic.test", "A", "clinician", security.hash_password(PASSWORD))
    store.create_api_token(user.id, "before the downgrade")
    command.downgrade(alembic_config(db_url), "0008")
    tables, columns = shape()
    assert "staff_api_token" not in tables and "oidc_subject" not in columns
    upgrade(db_url)
    tables, columns = shape()
    assert "staff_api_token" in tables and "oidc_subject" in columns
    assert StaffStore(db_url).user_by_email("a@clinic.test") is not None


def test_the_command_line_makes_password_less_accounts_and_tokens(env, capsys):
    from bot.web.dashboard import users

    assert users.main(["create", "--role", "clinician", "--email", "sso@clinic.test", "--no-password"]) == 0
    stored = env.store.user_by_email("sso@clinic.test")[1]
    assert stored == security.NO_PASSWORD and security.check_password(stored, "") == (False, None)
    capsys.readouterr()
    assert users.main(["token", "--email", "sso@clinic.test", "--name", "pager"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("ipt_")
    assert TestClient(app).get("/staff/api/handoffs", headers=bearer(token)).status_code == 200
    assert users.main(["token", "--email", "nobody@clinic.test", "--name", "x"]) == 1


def test_the_audit_log_says_in_words_how_someone_signed_in_and_what_happened_to_tokens():
    from bot.web.dashboard.audit_text import audit_sentence

    names = {"sam@clinic.test": "Sam"}
    assert audit_sentence({"user": "sam@clinic.test", "action": "login", "detail": {"via": "oidc"}}, names) \
        == "Sam signed in through the identity provider"
    assert audit_sentence({"user": "x@clinic.test", "action": "login_failed",
                           "detail": {"reason": "no_such_user", "via": "oidc"}}) \
        == "A sign-in as x@clinic.test failed: no account has this e-mail address"
    assert audit_sentence({"user": "sam@clinic.test", "action": "api_token_revoke", "target": "sam@clinic.test",
                           "detail": {"token": 3, "name": "pager"}}, names) \
        == 'Sam revoked the API token "pager" of sam@clinic.test'
