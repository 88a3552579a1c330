"""The runner's supervision: one dead service stops the others; a stop request stops them all."""
import sys

from bot.runner import Service, Stack
from bot.settings import secret

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys, time; time.sleep(0.5); sys.exit(3)"]


def stack_of(*commands) -> Stack:
    stack = Stack(model="unused")
    stack.services = [Service(f"service {i}", command, "http://127.0.0.1:9/") for i, command in enumerate(commands)]
    for service in stack.services:
        service.start(dict(), None)
    return stack


def test_when_one_service_dies_the_others_are_stopped(capsys):
    stack = stack_of(SLEEPER, CRASHER, SLEEPER)
    assert stack.supervise(lambda: False, poll=0.1) == 1
    assert all(service.process.poll() is not None for service in stack.services)
    assert "service 1 stopped unexpectedly (exit code 3)" in capsys.readouterr().err


def test_a_stop_request_stops_everything_cleanly():
    stack = stack_of(SLEEPER, SLEEPER)
    assert stack.supervise(lambda: True) == 0
    assert all(service.process.poll() is not None for service in stack.services)


def test_secrets_are_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.secret_file.VAR", tmp_path)
    monkeypatch.delenv("ACTION_SERVER_SECRET", raising=False)
    first = secret("ACTION_SERVER_SECRET")
    assert len(first) >= 40 and first == secret("ACTION_SERVER_SECRET")
    assert (tmp_path / "action_server_secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("ACTION_SERVER_SECRET", "from-env")
    assert secret("ACTION_SERVER_SECRET") == "from-env"


def test_the_deprecated_shared_staff_token_is_not_made_only_passed_on(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.secret_file.VAR", tmp_path)
    monkeypatch.delenv("STAFF_API_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ipt.db'}")
    env = Stack(model="models/m.tar.gz").environment()
    assert "STAFF_API_TOKEN" not in env and not (tmp_path / "staff_api_token").exists()
    assert env["RASA_API_TOKEN"] and env["ACTION_SERVER_SECRET"]  # these are still made
    monkeypatch.setenv("STAFF_API_TOKEN", "set-by-the-operator")
    assert Stack(model="models/m.tar.gz").environment()["STAFF_API_TOKEN"] == "set-by-the-operator"
