"""Web hardening (issue 14): CORS from an allow-list, security headers on every answer, no API description in
production, forwarded headers only from a trusted proxy, the sign-in lock-out, private files, no telemetry,
and the notification's dashboard link. Through the real app (FastAPI's TestClient) and the real runner."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from bot import PROJECT_ROOT
from bot.crisis.handoff import HandoffRequest
from bot.crisis.notifier import email_message
from bot.deploy import nginx
from bot.deploy.prod import ProductionStack
from bot.runner import PRIVATE_UMASK, Service, Stack, cors_origins
from bot.settings import secret
from bot.store.repository import AppStore
from bot.web.app import app
from bot.web.dashboard import security
from tests.unit.test_dashboard_web import dash, login, signed_in  # noqa: F401 - the dashboard fixture

EVIL = "https://evil.example"
CLINIC = "https://clinic.example"


@pytest.fixture
def client(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("IPT_ENV", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.setenv("PUBLIC_RASA_URL", "https://rasa.clinic.example")
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://web.clinic.example")
    return TestClient(app)


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


# --- CORS ------------------------------------------------------------------------------------------


def test_no_cross_origin_access_by_default(client):
    for path in ("/healthz", "/", "/static/widget/ipt-widget.js"):
        response = client.get(path, headers={"Origin": EVIL})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers, path
    preflight = client.options("/healthz", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_allowed_origins_are_the_only_ones_answered_and_never_with_credentials(client, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", f" {CLINIC}/ , *")  # '*' is ignored, not "everyone"
    allowed = client.get("/healthz", headers={"Origin": CLINIC})
    assert allowed.headers["access-control-allow-origin"] == CLINIC
    assert "access-control-allow-credentials" not in allowed.headers
    preflight = client.options("/healthz", headers={"Origin": CLINIC, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == CLINIC
    assert "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": EVIL}).headers
    # the staff dashboard and API are same-origin only, whatever the list says
    for path in ("/staff/login", "/staff/api/handoffs"):
        assert "access-control-allow-origin" not in client.get(path, headers={"Origin": CLINIC}).headers


def test_the_rasa_server_is_started_with_the_allow_list_not_a_wildcard(monkeypatch):
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://web.clinic.example/")
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{CLINIC},*")
    stack = Stack(model="models/m.tar.gz", web_port=8123)
    env = stack.environment()
    rasa = next(s for s in stack.build(env) if s.name == "rasa server").command
    origins = rasa[rasa.index("--cors") + 1:rasa.index("--interface")]
    assert origins == ["https://web.clinic.example", CLINIC, "http://localhost:8123", "http://127.0.0.1:8123"]
    production = ProductionStack(model="m", rasa_ports=[1], action_ports=[2], web_internal_port=3, web_port=8123)
    for service in production.build(production.environment()):
        if "--cors" in service.command:
            assert "*" not in service.command
    monkeypatch.delenv("ALLOWED_ORIGINS")
    monkeypatch.delenv("PUBLIC_WEB_URL")
    assert cors_origins() == []  # `python -m bot.runner --cors-origins` prints nothing: no cross-origin caller
    printed = subprocess.run([sys.executable, "-m", "bot.runner", "--cors-origins"], capture_output=True, text=True,
                             cwd=PROJECT_ROOT, env={**os.environ, "PUBLIC_WEB_URL": "https://w.example"})
    assert printed.stdout.split() == ["https://w.example"]


def test_no_deploy_file_allows_every_origin_or_trusts_every_forwarder():
    files = [PROJECT_ROOT / "deploy" / "docker-compose.yml", PROJECT_ROOT / "deploy" / "Dockerfile",
             PROJECT_ROOT / "bot" / "runner.py", PROJECT_ROOT / "bot" / "deploy" / "prod.py",
             *sorted((PROJECT_ROOT / "deploy" / "k8s").glob("*.yaml"))]
    for path in files:
        text = path.read_text()
        assert not re.search(r"""--cors["', ]+\*(?!\w)""", text), path  # (`*cors_origins(...)` is a list)
        assert not re.search(r"""--forwarded-allow-ips["', ]+\*(?!\w)""", text), path
        assert "--proxy-headers" not in text, path  # the app decides, from TRUSTED_PROXIES


# --- security headers, API description -------------------------------------------------------------


def test_the_demo_page_has_a_strict_csp_and_no_inline_script_or_style(client):
    response = client.get("/")
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    # the widget talks to the Rasa server (REST and socket.io) and shows the journey pictures of the web app
    assert {"https://rasa.clinic.example", "wss://rasa.clinic.example"} <= set(csp["connect-src"])
    assert "https://web.clinic.example" in csp["img-src"]
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):  # the moved styles are served
        assert client.get(href).status_code == 200


def test_every_answer_has_the_headers_and_staff_answers_are_never_stored_or_framed(client, dash):  # noqa: F811
    public = ["/healthz", "/static/widget/ipt-widget.js", "/journey/circle/" + "x" * 20 + ".svg", "/nowhere"]
    for path in public:
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "default-src" in response.headers["content-security-policy"], path
    staff_client = signed_in("clinician")
    staff = ["/staff/login", "/staff/static/staff.css", "/staff/static/staff.js", "/staff/api/handoffs",
             "/staff/handoffs/poll", "/staff/conversations", f"/staff/handoffs/{dash.handoff_id}", "/staff/missing"]
    for path in staff:
        for who in (client, staff_client):
            response = who.get(path, follow_redirects=False)
            assert response.headers["cache-control"] == "no-store", (path, response.status_code)
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
            assert response.headers["x-frame-options"] == "DENY", path
            assert response.headers["x-content-type-options"] == "nosniff", path


def test_the_api_description_is_not_served_in_production(client, monkeypatch):
    assert client.get("/docs").status_code == 404
    monkeypatch.setenv("IPT_ENV", "production")
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 404, path
    assert "/staff/" not in client.get("/openapi.json").text
    monkeypatch.setenv("IPT_ENV", "development")
    assert "/staff/api/handoffs" in client.get("/openapi.json").text  # off only in production


def test_nginx_sets_the_forwarded_address_itself_and_hsts_over_tls():
    for path, config in nginx.RENDERED.items():
        rendered = nginx.render_config(config())
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in rendered
        assert "proxy_add_x_forwarded_for" not in rendered
        assert "add_header Strict-Transport-Security $hsts always;" in rendered
        assert re.search(r'"~https"\s+"max-age=\d{8,}; includeSubDomains";', rendered)
        assert path.read_text() == rendered  # the committed files are the rendered ones


# --- the client's address, the sign-in lock-out ------------------------------------------------------


def attempts(peer: str, forwarded: list[str]) -> list[int]:
    """Failed sign-ins from the direct peer `peer`, each claiming another X-Forwarded-For address."""
    codes = []
    for address in forwarded:
        peer_client = TestClient(app, client=(peer, 4000), headers={"X-Forwarded-For": address})
        codes.append(login("nobody@clinic.test", "wrong-password-123", peer_client)[1].status_code)
    return codes


def test_forwarded_addresses_count_only_from_a_trusted_proxy(dash, monkeypatch):  # noqa: F811
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)  # default: 127.0.0.1
    security.login_limiter.limit = 3
    try:
        # a client that makes up a new X-Forwarded-For each time is still one address
        assert attempts("198.51.100.7", [f"10.9.9.{i}" for i in range(4)]) == [401, 401, 401, 429]
        # from the proxy on loopback, the address it forwards is the client's
        security.login_limiter.reset()
        assert attempts("127.0.0.1", [f"10.9.9.{i}" for i in range(4)]) == [401] * 4
        addresses = {e["ip"] for e in dash.store.audit_entries(per_page=1000)[0]}
        assert {"198.51.100.7", "10.9.9.3"} <= addresses and "127.0.0.1" not in addresses
        # "*" never means "trust everybody"; a proxy named by its network or its host name counts
        monkeypatch.setenv("TRUSTED_PROXIES", "*")
        security.login_limiter.reset()
        assert attempts("198.51.100.7", [f"10.8.8.{i}" for i in range(4)])[-1] == 429
        monkeypatch.setenv("TRUSTED_PROXIES", "198.51.100.0/24")
        security.login_limiter.reset()
        assert attempts("198.51.100.7", [f"10.7.7.{i}" for i in range(4)]) == [401] * 4
        monkeypatch.setenv("TRUSTED_PROXIES", "localhost")
        security.login_limiter.reset()
        assert attempts("127.0.0.1", [f"10.6.6.{i}" for i in range(4)]) == [401] * 4
    finally:
        security.login_limiter.limit = 10


def test_unknown_wrong_and_locked_accounts_get_the_same_answer(dash):  # noqa: F811
    def answer(email: str, password: str) -> tuple[int, str]:
        response = login(email, password, TestClient(app, client=("192.0.2.44", 1)))[1]
        main = re.search(r"<main.*?</main>", response.text, re.S)
        text = re.sub(r'value="[^"]*"', "", main.group(0) if main else response.text)
        return response.status_code, text

    for _ in range(5):
        login("reviewer@clinic.test", "wrong-password-123", TestClient(app, client=("192.0.2.44", 1)))
    unknown = answer("nobody@clinic.test", "wrong-password-123")
    wrong = answer("admin@clinic.test", "wrong-password-123")
    locked = answer("reviewer@clinic.test", "a-long-test-password")  # the right password, while locked
    assert unknown[0] == wrong[0] == locked[0] == 401
    assert re.sub(r"(nobody|admin|reviewer)@clinic.test", "", unknown[1]) == \
        re.sub(r"(nobody|admin|reviewer)@clinic.test", "", wrong[1]) == \
        re.sub(r"(nobody|admin|reviewer)@clinic.test", "", locked[1])
    reasons = [e["detail"]["reason"] for e in dash.store.audit_entries(per_page=1000)[0]
               if e["action"] == "login_failed"]
    assert {"no_such_user", "wrong_password", "locked"} <= set(reasons)  # the audit log tells admins; the page not


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_lock_out_grows_with_failures_per_account_and_address_and_spares_other_addresses(monkeypatch):
    monkeypatch.setenv("STAFF_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("STAFF_LOCKOUT_MINUTES", "15")
    monkeypatch.setenv("STAFF_ADDRESS_FAILURES", "10")
    monkeypatch.setenv("STAFF_LOCKOUT_ADDRESSES", "3")
    clock = Clock()
    guard = security.LoginGuard(10, 300.0, clock)
    for _ in range(5):
        assert not guard.failed("Sam@clinic.test", "198.51.100.1")
    assert guard.account_locked("sam@clinic.test", "198.51.100.1")
    assert not guard.account_locked("sam@clinic.test", "203.0.113.2")  # the colleague's own address
    clock.now += 15 * 60 + 1
    assert not guard.account_locked("sam@clinic.test", "198.51.100.1")
    guard.failed("sam@clinic.test", "198.51.100.1")  # one more: twice as long this time
    clock.now += 15 * 60 + 1
    assert guard.account_locked("sam@clinic.test", "198.51.100.1")
    clock.now += 15 * 60
    assert not guard.account_locked("sam@clinic.test", "198.51.100.1")
    # per address, whatever the account: 10 failures, then 1 min, then 2 ...
    for i in range(9):
        guard.failed(f"user{i}@clinic.test", "192.0.2.9")
    assert guard.address_wait("192.0.2.9") == 0
    guard.failed("user9@clinic.test", "192.0.2.9")
    assert 59 <= guard.address_wait("192.0.2.9") <= 60
    clock.now += 61
    guard.failed("user10@clinic.test", "192.0.2.9")
    assert 119 <= guard.address_wait("192.0.2.9") <= 120
    assert guard.address_wait("203.0.113.2") == 0
    # the whole account locks only when the guesses come from several addresses
    spread = [guard.failed("kim@clinic.test", f"10.0.0.{n}") for n in range(3) for _ in range(5)]
    assert spread[:-1] == [False] * 14 and spread[-1] is True
    assert not any(guard.failed("lee@clinic.test", "10.1.1.1") for _ in range(50))
    # forgotten a day after the last failure; a success clears its own account and address
    clock.now += 24 * 3600 + 1
    assert not guard.account_locked("lee@clinic.test", "10.1.1.1") and guard.address_wait("10.1.1.1") == 0
    for _ in range(4):
        guard.failed("ana@clinic.test", "10.2.2.2")
    guard.succeeded("ana@clinic.test", "10.2.2.2")
    guard.failed("ana@clinic.test", "10.2.2.2")
    assert not guard.account_locked("ana@clinic.test", "10.2.2.2")


# --- private files, no telemetry ---------------------------------------------------------------------


def test_secrets_are_created_private_at_open_even_with_a_permissive_umask(tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setattr("bot.secret_file.VAR", var)
    monkeypatch.delenv("STAFF_SESSION_SECRET", raising=False)
    modes = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *args, **kwargs):
        modes.append((Path(path).name, flags & os.O_CREAT, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    old = os.umask(0)
    try:
        made = secret("STAFF_SESSION_SECRET")
    finally:
        os.umask(old)
    assert len(made) >= 40
    assert stat.S_IMODE((var / "staff_session_secret").stat().st_mode) == 0o600
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert ("staff_session_secret", os.O_CREAT, 0o600) in modes  # created with its mode, not chmod-ed afterwards


def test_every_started_process_makes_private_files_and_sends_no_telemetry(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.secret_file.VAR", tmp_path / "var")
    database = tmp_path / "var" / "ipt.db"
    (tmp_path / "var").mkdir(mode=0o755)
    database.write_text("")
    database.chmod(0o644)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    stack = Stack(model="models/m.tar.gz")
    env = stack.environment()
    assert env["RASA_TELEMETRY_ENABLED"] == "false" and env["TRUSTED_PROXIES"] == "127.0.0.1"
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    web_app = next(s for s in stack.build(env) if s.name == "web app").command
    assert "--no-proxy-headers" in web_app
    made = tmp_path / "made-by-a-service"
    script = (f"import os; open({str(made)!r}, 'w').write(os.environ['RASA_TELEMETRY_ENABLED']); "
              f"os.mkdir({str(made)!r} + '.d')")
    service = Service("writer", [sys.executable, "-c", script], "http://127.0.0.1:9/")
    service.start(env, None)
    assert service.process.wait(timeout=30) == 0
    assert made.read_text() == "false"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600 and PRIVATE_UMASK == 0o077
    assert stat.S_IMODE(Path(f"{made}.d").stat().st_mode) == 0o700


def test_compose_and_kubernetes_start_every_process_without_telemetry_and_behind_the_proxy_only():
    compose = yaml.safe_load((PROJECT_ROOT / "deploy" / "docker-compose.yml").read_text())
    ours = {name: s for name, s in compose["services"].items() if "ipt-assistant" in str(s.get("image", ""))}
    assert {"migrate", "rasa-1", "actions-1", "web"} <= set(ours)
    for name, service in ours.items():
        assert service["environment"]["RASA_TELEMETRY_ENABLED"] == "false", name
        assert service["environment"]["IPT_ENV"] == "production", name
    assert compose["services"]["web"]["environment"]["TRUSTED_PROXIES"] == "proxy"
    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "k8s" / "config.yaml").read_text())
    assert config["data"]["RASA_TELEMETRY_ENABLED"] == "false" and config["data"]["IPT_ENV"] == "production"
    containers = []
    for path in sorted((PROJECT_ROOT / "deploy" / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            spec = (document or {}).get("spec", {})
            pod = spec.get("template", {}).get("spec", {})
            containers += [(path.name, c) for c in pod.get("containers", []) if c.get("image") == "ipt-assistant"]
    assert len(containers) >= 4
    for name, container in containers:
        assert {"configMapRef": {"name": "ipt-config"}} in container.get("envFrom", []), name
    web_env = next(c for n, c in containers if c["name"] == "web")["env"]
    assert {"name": "TRUSTED_PROXIES", "value": "proxy-peers.ipt.svc.cluster.local"} in web_env
    assert "RASA_TELEMETRY_ENABLED=false" in (PROJECT_ROOT / "deploy" / "Dockerfile").read_text()
    assert "export RASA_TELEMETRY_ENABLED := false" in (PROJECT_ROOT / "Makefile").read_text()


# --- the notification's dashboard link ------------------------------------------------------------------


def test_the_notification_link_opens_the_hand_off_on_its_conversation_page(dash, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://web.clinic.example")
    store = AppStore(dash.url)
    handoff_id = store.open_handoff(HandoffRequest("rest", "link-1", "suicide", "US", "text"), ["email"])
    [item] = [i for i in store.claim_due_outbox(datetime.now(timezone.utc) + timedelta(seconds=5), limit=50)
              if i.payload.get("handoff_id") == handoff_id]
    link = re.search(r"Open the hand-off: (\S+)", email_message(item, "staff@clinic.test").get_content()).group(1)
    assert link.startswith("https://web.clinic.example/")
    path = link[len("https://web.clinic.example"):]
    client = signed_in("reviewer")
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/conversations/link-1#handoff"
    assert client.get(path).status_code in (200, 404)  # reaches the conversation route (no transcript saved here)
    assert TestClient(app).get(path, follow_redirects=False).headers["location"].startswith("/staff/login")
    assert client.get(path.replace(str(handoff_id), "999999"), follow_redirects=False).status_code == 404
