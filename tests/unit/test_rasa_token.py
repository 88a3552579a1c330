"""The Rasa API token travels by environment and in an Authorization header only (issue 14):
never in a started process's arguments, never in a URL."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest

from bot.crisis.rasa_client import RasaClient, rasa_auth_headers
from bot.deploy.prod import ProductionStack
from bot.deploy.rasa_launcher import rasa_arguments
from bot.runner import Stack

TOKEN = "unit-test-rasa-token-0123456789abcdef"


def test_launcher_gives_rasa_the_token_as_jwt_secret_in_process():
    args = rasa_arguments(["run", "--enable-api", "--port", "5005"], {"RASA_API_TOKEN": TOKEN})
    assert args[:5] == ["rasa", "run", "--enable-api", "--port", "5005"]
    assert args[args.index("--jwt-secret") + 1] == TOKEN
    assert args[args.index("--jwt-method") + 1] == "HS256"
    assert "--auth-token" not in args  # Rasa's plain token is only accepted as ?token= in a URL


@pytest.mark.parametrize("flag", ["--auth-token", "--jwt-secret", "--auth-token=x"])
def test_launcher_refuses_a_secret_on_its_command_line(flag):
    with pytest.raises(SystemExit, match="must not be given"):
        rasa_arguments(["run", flag, "x"], {"RASA_API_TOKEN": TOKEN})


def test_launcher_refuses_to_start_an_open_api_without_a_token():
    with pytest.raises(SystemExit, match="RASA_API_TOKEN is not set"):
        rasa_arguments(["run", "--enable-api"], {})


@pytest.mark.parametrize("stack", [
    Stack(model="models/m.tar.gz"),
    ProductionStack(model="models/m.tar.gz", rasa_ports=[5101, 5102], action_ports=[5201]),
])
def test_no_started_process_has_the_token_in_its_arguments(stack):
    env = {"RASA_API_TOKEN": TOKEN, "STAFF_API_TOKEN": "s", "ACTION_SERVER_SECRET": "a"}
    services = stack.build(env)
    rasa = [s for s in services if s.name.startswith("rasa server")]
    assert rasa and all("bot.deploy.rasa_launcher" in s.command for s in rasa)
    for service in services:
        assert not any(TOKEN in part for part in service.command), service.name
        assert "--auth-token" not in service.command


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, dict(self.headers)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_rasa_client_sends_a_signed_bearer_jwt_and_no_token_in_the_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        RasaClient(base_url=f"http://127.0.0.1:{server.server_address[1]}", token=TOKEN).append_events(
            "person-1", [{"event": "slot", "name": "handoff_status", "value": "open"}])
    finally:
        server.shutdown()
        server.server_close()
    (path, headers), = server.received
    assert TOKEN not in path and "token" not in parse_qs(urlparse(path).query)
    scheme, _, value = headers["Authorization"].partition(" ")
    assert scheme == "Bearer" and TOKEN not in value
    claims = jwt.decode(value, TOKEN, algorithms=["HS256"])  # fails on a wrong signature
    assert claims["user"]["role"] == "admin" and claims["exp"] > 0
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(value, "another-secret-0123456789abcdef012345", algorithms=["HS256"])


def test_bearer_jwt_is_short_lived():
    value = rasa_auth_headers(TOKEN)["Authorization"].split(" ", 1)[1]
    claims = jwt.decode(value, TOKEN, algorithms=["HS256"])
    assert 0 < claims["exp"] - time.time() <= 180
    assert json.dumps(claims).count(TOKEN) == 0


@pytest.mark.parametrize("path", ["deploy/docker-compose.yml", "deploy/k8s/rasa.yaml", "deploy/Dockerfile"])
def test_deployments_start_rasa_through_the_launcher_without_a_secret_argument(path):
    from bot import PROJECT_ROOT

    text = (PROJECT_ROOT / path).read_text()
    assert "bot.deploy.rasa_launcher run" in text
    assert "--auth-token" not in text and "--jwt-secret" not in text and "rasa run " not in text
