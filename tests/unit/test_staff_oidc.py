"""Staff sign-in through an OpenID Connect provider, end to end: the web app and a small provider stand-in
(discovery, /authorize, /token, /jwks with a real RSA key, via authlib.jose) both run on 127.0.0.1, and an
httpx client plays the browser, following redirects and keeping cookies.

The stand-in checks what a real provider checks (client secret, redirect URI, the PKCE S256 challenge, a
code used once) and can be told to lie: another nonce, state or audience, a forged signature, another
subject. Every lie must end on a refusal page with no session."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
import warnings
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from bot.store.staff_repository import StaffStore
from bot.web.app import app
from bot.web.dashboard import oidc, security
from tests.conftest import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose is deprecated in favour of joserfc (which the app uses)
    from authlib.jose import JsonWebKey, jwt

CLIENT_ID, CLIENT_SECRET = "ipt-dashboard", "client-secret-for-tests"
PASSWORD = "a-long-test-password"


class Provider:
    """A minimal OpenID provider: signs in whoever `person` says, and lies as `lie` says."""

    def __init__(self) -> None:
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "stand-in-1"})
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.person: dict = {"sub": "idp-user-1", "email": "clinician@clinic.test", "email_verified": True}
        self.lie: dict = {}
        self.public_client = False  # True: no client secret, PKCE only (client_id in the form)
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery), Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]), Route("/jwks", self.jwks)])

    async def discovery(self, _request: Request):
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]})

    async def jwks(self, _request: Request):
        return JSONResponse({"keys": [self.key.as_dict(is_private=False)]})

    async def authorize(self, request: Request):
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" or "openid" not in q.get("scope", ""):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE required"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q.get("nonce"), "challenge": q["code_challenge"],
                            "redirect_uri": q["redirect_uri"]}
        state = self.lie.get("state", q.get("state"))
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': state})}", status_code=302)

    async def token(self, request: Request):
        form = await request.form()
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.public_client:
            if request.headers.get("authorization") or form.get("client_id") != CLIENT_ID:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        elif request.headers.get("authorization") != f"Basic {basic}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  "name": "Someone", **self.person}
        claims.update({k: v for k, v in self.lie.items() if k in ("nonce", "aud", "iss", "exp", "sub")})
        key = self.lie.get("sign_with", self.key)
        id_token = jwt.encode({"alg": "RS256", "kid": "stand-in-1"}, claims, key).decode()
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})


def serve(asgi_app, port: int):
    server = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return server, thread


@pytest.fixture
def provider():
    stand_in = Provider()
    server, thread = serve(stand_in.app, stand_in.port)
    yield stand_in
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def web(sqlite_url, provider, monkeypatch):
    """The web app on 127.0.0.1 with the stand-in as its identity provider, and three staff accounts."""
    for name, value in {"DATABASE_URL": sqlite_url, "STAFF_SESSION_SECRET": "secret-for-tests",
                        "NOTIFIER_ENABLED": "false", "STAFF_OIDC_ISSUER": provider.issuer,
                        "STAFF_OIDC_CLIENT_ID": CLIENT_ID, "STAFF_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                        "STAFF_OIDC_PROVIDER_NAME": "Clinic ID"}.items():
        monkeypatch.setenv(name, value)
    security._secret.cache_clear()
    oidc.clear_cache()
    store = StaffStore()
    for role in ("admin", "clinician", "reviewer"):
        store.create_user(f"{role}@clinic.test", f"{role.title()} Person", role, security.hash_password(PASSWORD))
    port = free_port()
    server, thread = serve(app, port)
    yield type("Web", (), {"url": f"http://127.0.0.1:{port}", "store": store})
    server.should_exit = True
    thread.join(5)
    oidc.clear_cache()


def sign_in(web, next_path: str = "/staff/handoffs") -> tuple[httpx.Client, httpx.Response]:
    """Click "Sign in with Clinic ID" and follow the browser's way through the provider and back."""
    browser = httpx.Client(base_url=web.url, follow_redirects=True, timeout=20)
    page = browser.get(f"/staff/login?next={next_path}")
    button = re.search(r'href="(/staff/login/oidc\?next=[^"]+)"', page.text)
    assert button and "Sign in with Clinic ID" in page.text
    return browser, browser.get(button.group(1).replace("&amp;", "&"))


def signed_in_as(browser: httpx.Client) -> str | None:
    page = browser.get("/staff/conversations", follow_redirects=False)
    if page.status_code != 200:
        return None
    return re.search(r'<div class="me">\s*<span>([^<]+)', page.text).group(1).strip()


def login_actions(store: StaffStore) -> list[tuple[str, str | None, dict | None]]:
    return [(e["action"], e["user"], e["detail"]) for e in store.audit_entries(per_page=100)[0]
            if e["action"].startswith("login")]


def test_signing_in_through_the_provider_opens_a_session_like_a_password_does(web, provider):
    browser, landing = sign_in(web)
    assert landing.status_code == 200 and landing.url.path == oidc.CALLBACK_PATH
    assert 'http-equiv="refresh" content="0;url=/staff/handoffs"' in landing.text
    cookie = landing.headers["set-cookie"].lower()
    assert "ipt_staff_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert browser.get("/staff/handoffs", follow_redirects=False).status_code == 200
    assert signed_in_as(browser) == "Clinician Person"
    asked = provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32
    assert ("login", "clinician@clinic.test", {"via": "oidc"}) in login_actions(web.store)
    user = web.store.user_by_email("clinician@clinic.test")[0]
    assert user.oidc_subject == "idp-user-1" and user.last_login_at is not None
    # the same person again, in a new browser: the bound subject matches
    again, _ = sign_in(web)
    assert signed_in_as(again) == "Clinician Person"


def test_a_wrong_nonce_is_refused(web, provider):
    provider.lie = {"nonce": "a-nonce-of-another-sign-in"}
    browser, page = sign_in(web)
    assert page.status_code == 403 and "could not be verified" in page.text
    assert signed_in_as(browser) is None
    assert login_actions(web.store)[0][2]["reason"].startswith("oidc_id_token")


def test_a_wrong_state_is_refused_before_the_code_is_used(web, provider):
    provider.lie = {"state": "state-of-someone-else"}
    browser, page = sign_in(web)
    assert page.status_code == 403 and "did not start here" in page.text
    assert signed_in_as(browser) is None
    assert len(provider.codes) == 1  # never exchanged
    assert login_actions(web.store)[0][2] == {"reason": "oidc_state", "via": "oidc"}


def test_an_id_token_for_another_audience_is_refused(web, provider):
    provider.lie = {"aud": "another-application"}
    browser, page = sign_in(web)
    assert page.status_code == 403 and signed_in_as(browser) is None
    assert "InvalidClaimError" in login_actions(web.store)[0][2]["reason"]


def test_an_id_token_signed_with_a_key_the_provider_does_not_publish_is_refused(web, provider):
    provider.lie = {"sign_with": JsonWebKey.generate_key("RSA", 2048, is_private=True)}
    browser, page = sign_in(web)
    assert page.status_code == 403 and signed_in_as(browser) is None


def test_an_unknown_e_mail_is_refused_with_a_clear_page_and_no_account_is_made(web, provider):
    provider.person = {"sub": "idp-stranger", "email": "stranger@clinic.test", "email_verified": True}
    browser, page = sign_in(web)
    assert page.status_code == 403
    assert "There is no active staff account for stranger@clinic.test" in page.text
    assert "An admin must add you" in page.text
    assert signed_in_as(browser) is None
    assert web.store.user_by_email("stranger@clinic.test") is None
    assert len(web.store.list_users()) == 3
    failed = [a for a in login_actions(web.store) if a[0] == "login_failed"]
    assert failed[0][2] == {"reason": "no_such_user", "via": "oidc"}


def test_a_deactivated_account_or_an_unverified_address_is_refused(web, provider):
    user = web.store.user_by_email("clinician@clinic.test")[0]
    web.store.update_user(user.id, active=False)
    browser, page = sign_in(web)
    assert page.status_code == 403 and signed_in_as(browser) is None
    web.store.update_user(user.id, active=True)
    provider.person = {**provider.person, "email_verified": False}
    browser, page = sign_in(web)
    assert page.status_code == 403 and "not verified" in page.text and signed_in_as(browser) is None


def test_another_subject_with_the_same_e_mail_is_refused_once_the_account_is_bound(web, provider):
    sign_in(web)
    provider.person = {**provider.person, "sub": "idp-someone-else"}
    browser, page = sign_in(web)
    assert page.status_code == 403 and "belongs to another person" in page.text
    assert signed_in_as(browser) is None


def test_e_mail_domains_outside_the_allowed_list_are_refused(web, provider, monkeypatch):
    monkeypatch.setenv("STAFF_OIDC_ALLOWED_DOMAINS", "other-clinic.example")
    browser, page = sign_in(web)
    assert page.status_code == 403 and "domain" in page.text and signed_in_as(browser) is None
    monkeypatch.setenv("STAFF_OIDC_ALLOWED_DOMAINS", "other-clinic.example, clinic.test")
    browser, _ = sign_in(web)
    assert signed_in_as(browser) == "Clinician Person"


def test_with_a_role_mapping_the_role_follows_the_provider_and_no_mapped_value_is_refused(web, provider, monkeypatch):
    monkeypatch.setenv("STAFF_OIDC_ROLE_CLAIM", "groups")
    monkeypatch.setenv("STAFF_OIDC_ROLES", "ipt-admins=admin,ipt-staff=clinician")
    provider.person = {"sub": "idp-r", "email": "reviewer@clinic.test", "groups": ["everyone", "ipt-staff"]}
    browser, _ = sign_in(web)
    assert signed_in_as(browser) == "Reviewer Person"
    assert web.store.user_by_email("reviewer@clinic.test")[0].role == "clinician"
    provider.person = {**provider.person, "groups": ["everyone"]}
    browser, page = sign_in(web)
    assert page.status_code == 403 and "no role" in page.text and signed_in_as(browser) is None


def test_password_sign_in_can_be_turned_off(web, monkeypatch):
    browser = httpx.Client(base_url=web.url, timeout=20)
    page = browser.get("/staff/login")  # passwords on: both ways are offered
    assert 'type="password"' in page.text and "Sign in with Clinic ID" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    monkeypatch.setenv("STAFF_PASSWORD_LOGIN", "false")
    refused = browser.post("/staff/login", data={"email": "admin@clinic.test", "password": PASSWORD,
                                                 "csrf_token": csrf})
    assert refused.status_code == 403 and "turned off" in refused.text
    assert signed_in_as(browser) is None
    page = browser.get("/staff/login")
    assert "Sign in with Clinic ID" in page.text and 'type="password"' not in page.text


def test_start_up_refuses_settings_that_cannot_work(monkeypatch):
    for name in ("STAFF_OIDC_ISSUER", "STAFF_OIDC_CLIENT_ID", "STAFF_OIDC_ROLES", "STAFF_OIDC_ROLE_CLAIM"):
        monkeypatch.delenv(name, raising=False)
    oidc.check_settings()  # passwords only: fine
    monkeypatch.setenv("STAFF_PASSWORD_LOGIN", "false")
    with pytest.raises(ValueError, match="nobody could sign in"):
        oidc.check_settings()
    monkeypatch.setenv("STAFF_OIDC_ISSUER", "https://id.clinic.example")
    with pytest.raises(ValueError, match="STAFF_OIDC_CLIENT_ID"):
        oidc.check_settings()
    monkeypatch.setenv("STAFF_OIDC_CLIENT_ID", "ipt")
    monkeypatch.setenv("STAFF_OIDC_ROLE_CLAIM", "groups")
    monkeypatch.setenv("STAFF_OIDC_ROLES", "ipt-admins=superuser")
    with pytest.raises(ValueError, match="unknown roles"):
        oidc.check_settings()


def test_the_client_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret_file = tmp_path / "oidc_secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("STAFF_OIDC_ISSUER", "https://id.clinic.example/")
    monkeypatch.setenv("STAFF_OIDC_CLIENT_SECRET", "from-the-environment")
    monkeypatch.setenv("STAFF_OIDC_CLIENT_SECRET_FILE", str(secret_file))
    config = oidc.settings()
    assert config.client_secret == "from-a-file" and config.issuer == "https://id.clinic.example"


def test_an_oidc_only_account_has_no_password_that_matches():
    assert security.check_password(security.NO_PASSWORD, "not-a-real-password-used-for-timing") == (False, None)
    assert security.check_password("", "not-a-real-password-used-for-timing") == (False, None)


def test_an_admin_adds_a_password_less_account_that_then_signs_in_through_the_provider(web, provider):
    admin = httpx.Client(base_url=web.url, timeout=20)
    page = admin.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert admin.post("/staff/login", data={"email": "admin@clinic.test", "password": PASSWORD,
                                            "csrf_token": csrf}).status_code == 303
    users_page = admin.get("/staff/users").text
    assert "leave empty to sign in through the identity provider only" in users_page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', users_page).group(1)
    added = admin.post("/staff/users", data={"email": "new@clinic.test", "name": "New Colleague", "role": "reviewer",
                                             "password": "", "csrf_token": csrf})
    assert added.status_code == 303 and "done=created" in added.headers["location"]
    assert web.store.user_by_email("new@clinic.test")[1] == security.NO_PASSWORD
    provider.person = {"sub": "idp-new", "email": "New@Clinic.test", "email_verified": True}
    browser, _ = sign_in(web)
    assert signed_in_as(browser) == "New Colleague"


def test_an_unreachable_provider_gets_a_plain_page_not_an_error(web, monkeypatch):
    monkeypatch.setenv("STAFF_OIDC_ISSUER", f"http://127.0.0.1:{free_port()}")  # nobody listens there
    oidc.clear_cache()
    browser = httpx.Client(base_url=web.url, timeout=20)
    page = browser.get("/staff/login/oidc?next=/staff/handoffs")
    assert page.status_code == 503 and "cannot be reached" in page.text
    assert 'type="password"' in page.text  # the password form is still there


def test_a_public_client_without_a_secret_signs_in_with_pkce_alone(web, provider, monkeypatch):
    monkeypatch.delenv("STAFF_OIDC_CLIENT_SECRET")
    provider.public_client = True
    browser, _ = sign_in(web)
    assert signed_in_as(browser) == "Clinician Person"
