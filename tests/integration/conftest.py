"""A real running assistant for the integration tests: Rasa, the action server and the web app.

They run on free ports against a temporary SQLite database, with the model `make test` trained
(MODEL_PATH). Logs go to test-artifacts/logs/.
"""
from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from bot import PROJECT_ROOT
from bot.runner import Stack
from bot.store.migrate import upgrade
from bot.store.repository import AppStore

STAFF_TOKEN = "staff-token-for-tests"
RASA_TOKEN = "rasa-token-for-tests"


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
        },
    )
    stack.start()
    yield Assistant(stack, db_url)
    stack.stop()
