"""The database goes down: crisis resources are still sent, and the hand-off is recorded later.

Runs its own assistant on a fresh PostgreSQL database, then stops that database from accepting
connections (and drops the open ones), which is what an outage looks like to the servers.
"""
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot import PROJECT_ROOT
from bot.runner import Stack
from bot.store.repository import AppStore
from tests.conftest import RASA_TOKEN, STAFF_TOKEN, free_port, model_path, temporary_postgres_database, texts

pytestmark = pytest.mark.integration


def set_accepting(admin, url: str, accepting: bool) -> None:
    name = url.rsplit("/", 1)[1]
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(accepting).lower()}'))
        if not accepting:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})


@pytest.fixture(scope="module")
def postgres_assistant(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pg-assistant")
    with temporary_postgres_database() as (url, admin):
        stack = Stack(
            model=model_path(), rasa_port=free_port(), actions_port=free_port(), web_port=free_port(),
            log_dir=Path(PROJECT_ROOT / "test-artifacts" / "logs-postgres"),
            extra_env={"DATABASE_URL": url, "HANDOFF_SPOOL": str(tmp / "spool.jsonl"),
                       "STAFF_API_TOKEN": STAFF_TOKEN, "RASA_API_TOKEN": RASA_TOKEN,
                       "NOTIFIER_INTERVAL": "0.5",
                       # this test names its own conversation over REST (tokens are tested elsewhere)
                       "REQUIRE_CONVERSATION_TOKEN": "false"},
        )
        stack.start()
        try:
            yield stack, url, admin, tmp / "spool.jsonl"
        finally:
            stack.stop()
            set_accepting(admin, url, True)


def test_crisis_with_the_database_down_still_gets_resources_and_is_recorded_later(postgres_assistant):
    stack, url, admin, spool = postgres_assistant
    sender = "dbdown" + str(int(time.time()))
    webhook = f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook"
    assert "automated" in texts(httpx.post(webhook, json={"sender": sender, "message": "hi"}, timeout=60).json())

    set_accepting(admin, url, False)
    try:
        replies = httpx.post(webhook, json={"sender": sender, "message": "i want to end my life"}, timeout=60).json()
        assert "988" in texts(replies)
        assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies)
        deadline = time.monotonic() + 20
        while not (spool.exists() and spool.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "i want to end my life" in spool.read_text(), "the hand-off must wait in the spool"
    finally:
        set_accepting(admin, url, True)

    store = AppStore(url)
    deadline = time.monotonic() + 30
    recorded = []
    while not recorded and time.monotonic() < deadline:
        recorded = [h for h in store.list_handoffs("requested") if h.sender_id == sender]
        time.sleep(0.5)
    assert recorded and recorded[0].message == "i want to end my life"
    assert spool.read_text().strip() == ""
    # and the servers carry on without a restart
    again = httpx.post(webhook, json={"sender": sender + "b", "message": "hello"}, timeout=60).json()
    assert "automated" in texts(again)
