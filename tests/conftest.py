"""Shared fixtures: fresh migrated databases on SQLite and on the local PostgreSQL server, and a
real running assistant (Rasa, the action server and the web app) for integration and browser tests.

The assistant runs on free ports against a temporary SQLite database, with the model `make test`
trained (MODEL_PATH). Logs go to test-artifacts/logs/.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot import PROJECT_ROOT
from bot.runner import Stack
from bot.settings import get_settings
from bot.store.migrate import upgrade
from bot.store.repository import AppStore

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def settings_follow_the_environment(monkeypatch):
    """get_settings() reads the environment once per process; here every monkeypatch.setenv / delenv
    (and the start of each test) clears that cache, so the code under test sees the test's values."""
    for name in ("setenv", "delenv"):
        def changed(*args, _change=getattr(monkeypatch, name), **kwargs):
            _change(*args, **kwargs)
            get_settings.cache_clear()
        setattr(monkeypatch, name, changed)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


def _postgres_unavailable(reason: str):
    message = f"PostgreSQL is needed for this test and is not reachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the production-profile tests for real)")
    pytest.skip(message)


@contextmanager
def temporary_postgres_database():
    """A new, migrated PostgreSQL database; yields (url, admin engine); dropped afterwards."""
    name = f"ipt_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "not available"
        _postgres_unavailable(str(error).splitlines()[0])
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url, admin
    finally:
        from bot.store.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url():
    """A new PostgreSQL database for the test, dropped afterwards."""
    with temporary_postgres_database() as (url, _admin):
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


# --- a running assistant ----------------------------------------------------------------

STAFF_TOKEN = "staff-token-for-tests"
RASA_TOKEN = "rasa-token-for-tests"
CONVERSATION_TOKEN_SECRET = "conversation-token-secret-for-tests-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def model_path() -> str:
    path = os.environ.get("MODEL_PATH") or subprocess.check_output(
        ["scripts/model_path.sh"], cwd=PROJECT_ROOT, text=True).strip()
    if not (PROJECT_ROOT / path).exists():
        pytest.fail(f"No trained model at {path}: run `make train` (make test does it).")
    return path


class Assistant:
    """What a person and a staff member can do with the running assistant."""

    def __init__(self, stack: Stack, db_url: str):
        self.stack, self.db_url = stack, db_url
        self.rasa = f"http://127.0.0.1:{stack.rasa_port}"
        self.web = f"http://127.0.0.1:{stack.web_port}"
        self.store = AppStore(db_url)

    @staticmethod
    def new_sender() -> str:
        return uuid.uuid4().hex

    def say(self, sender: str, text: str) -> list[dict]:
        response = httpx.post(f"{self.rasa}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    def staff(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
        return httpx.request(method, f"{self.web}/staff/api{path}", headers=headers, timeout=60, **kwargs)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages if m.get("text"))


@pytest.fixture(scope="session")
def assistant(tmp_path_factory) -> Assistant:
    tmp = tmp_path_factory.mktemp("assistant")
    db_url = f"sqlite:///{tmp / 'assistant.db'}"
    upgrade(db_url)
    stack = Stack(
        model=model_path(), rasa_port=free_port(), actions_port=free_port(), web_port=free_port(),
        log_dir=Path(PROJECT_ROOT / "test-artifacts" / "logs"),
        extra_env={
            "DATABASE_URL": db_url, "HANDOFF_SPOOL": str(tmp / "spool.jsonl"),
            "STAFF_API_TOKEN": STAFF_TOKEN, "RASA_API_TOKEN": RASA_TOKEN,
            "NOTIFIER_INTERVAL": "0.5", "CRISIS_LOCALE": "US",
            # the tests name their own conversations over REST and socket.io (a token that is sent is still
            # checked: tests/integration/test_conversation_tokens.py); the widget gets tokens from the web app
            "REQUIRE_CONVERSATION_TOKEN": "false", "CONVERSATION_TOKEN_SECRET": CONVERSATION_TOKEN_SECRET,
        },
    )
    stack.start()
    yield Assistant(stack, db_url)
    stack.stop()


def wait_for(predicate, timeout: float = 30.0):
    """Poll `predicate` until it returns something truthy (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()
