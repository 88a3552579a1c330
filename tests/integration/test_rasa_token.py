"""Against a real Rasa 3.6 server started the way `make run`, compose and Kubernetes start it
(`python -m bot.deploy.rasa_launcher run ...`): the API token is not in the process's arguments,
a `?token=` URL is refused, and a JWT signed with the token in `Authorization: Bearer` is accepted.

No model is needed (the server answers 409 "no agent" once a request got past authentication), so
this runs in about 15 seconds without MODEL_PATH."""
import os
import subprocess
import sys
import time

import httpx
import jwt
import pytest

from bot import PROJECT_ROOT
from bot.crisis.rasa_client import rasa_auth_headers
from tests.conftest import free_port

TOKEN = "integration-rasa-token-0123456789abcdef"
NOT_AUTHENTICATED, AUTHENTICATED_NO_MODEL = 401, 409


@pytest.fixture(scope="module")
def rasa(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rasa-token")
    (tmp / "models").mkdir()
    (tmp / "endpoints.yml").write_text("")
    port = free_port()
    env = {**os.environ, "RASA_API_TOKEN": TOKEN, "RASA_TELEMETRY_ENABLED": "false",
           "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.deploy.rasa_launcher", "run", "--enable-api",
         "--model", str(tmp / "models"), "--endpoints", str(tmp / "endpoints.yml"),
         "--interface", "127.0.0.1", "--port", str(port)],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, "the launcher exited"
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("Rasa did not start")
    yield process, url
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_the_token_is_not_in_the_rasa_process_arguments(rasa):
    process, _ = rasa
    cmdline = open(f"/proc/{process.pid}/cmdline", "rb").read().decode()
    assert "bot.deploy.rasa_launcher" in cmdline  # the process we mean
    assert TOKEN not in cmdline and "--auth-token" not in cmdline and "--jwt-secret" not in cmdline


def test_token_in_a_url_is_refused(rasa):
    _, url = rasa
    assert httpx.get(f"{url}/conversations/p1/tracker", params={"token": TOKEN}).status_code == NOT_AUTHENTICATED
    assert httpx.get(f"{url}/conversations/p1/tracker").status_code == NOT_AUTHENTICATED


def test_signed_bearer_jwt_is_accepted(rasa):
    _, url = rasa
    answer = httpx.get(f"{url}/conversations/p1/tracker", headers=rasa_auth_headers(TOKEN))
    assert answer.status_code == AUTHENTICATED_NO_MODEL, answer.text


@pytest.mark.parametrize("claims, key", [
    ({"user": {"username": "x", "role": "admin"}, "exp": 4102444800}, "not-the-token-0123456789abcdef0123"),
    ({"user": {"username": "x", "role": "admin"}, "exp": 1000000000}, TOKEN),  # expired
    ({"user": {"username": "x", "role": "user"}, "exp": 4102444800}, TOKEN),  # not admin, other conversation
])
def test_wrong_expired_or_unprivileged_jwt_is_refused(rasa, claims, key):
    _, url = rasa
    headers = {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="HS256")}
    assert httpx.get(f"{url}/conversations/p1/tracker", headers=headers).status_code in (401, 403)
