"""The log filter (bot/logging_filter.py) with real loggers: no message text, no tracker dump, at any level."""
from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys

import pytest

from bot import PROJECT_ROOT, logging_filter

WORDS = "my sister Marisol never calls"
SENDER = "+15557654321"


@pytest.fixture
def captured(monkeypatch, tmp_path):
    """Install the filter, attach a handler to the root logger afterwards (as Rasa does), log at DEBUG."""
    monkeypatch.setenv("ERASURE_KEY", "test-key")
    monkeypatch.delenv(logging_filter.ALLOW_ENV, raising=False)
    assert logging_filter.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging_filter.uninstall()


def tracker_dump() -> dict:
    return {"next_action": "action_journey_people", "sender_id": SENDER, "version": "3.6.21",
            "tracker": {"sender_id": SENDER, "slots": {"display_name": "Marisol"},
                        "latest_message": {"text": WORDS, "intent": {"name": "inform"}},
                        "events": [{"event": "user", "text": WORDS}]}}


def test_rasa_sdk_error_with_a_tracker_dump_keeps_only_the_sentence(captured):
    logging.getLogger("rasa_sdk.executor").error("Failed to run action. Request: %s", json.dumps(tracker_dump()))
    logging.getLogger("rasa.core.actions.action").error(
        "Failed to run custom action 'action_journey_people'. Error: %s", repr(tracker_dump()))
    out = captured.getvalue()
    assert "Failed to run action. Request: [conversation data removed" in out
    assert "Failed to run custom action 'action_journey_people'. Error: [conversation data removed" in out
    assert "Marisol" not in out and SENDER not in out


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL])
def test_message_text_is_redacted_at_every_level(captured, level):
    logging.getLogger("rasa.core.processor").log(
        level, "Received user message '%s' with intent '{'name': 'inform'}' and entities '[%s]'",
        WORDS, {"entity": "person", "value": "Marisol"})
    logging.getLogger("rasa_sdk.forms").log(level, "Validating user input '%s'", {"text": WORDS, "intent": {}})
    logging.getLogger("rasa.core.processor").log(level, "UserUttered(text: %s, intent: inform)", WORDS)
    logging.getLogger("rasa.core.processor").log(level, "Current slot values: \n\tdisplay_name: Marisol\n\tx: 1")
    logging.getLogger("bot.anything").log(level, 'text="%s" then {"text": "%s"}', WORDS, WORDS)
    out = captured.getvalue()
    assert "Marisol" not in out and "never calls" not in out
    assert out.count("[redacted]") >= 6
    assert "Received user message '[redacted]' with intent" in out  # the rest stays useful


def test_conversation_ids_in_rasa_lines_become_a_keyed_hash(captured):
    logging.getLogger("rasa.core.tracker_store").debug("Could not find tracker for conversation ID '%s'.", SENDER)
    logging.getLogger("rasa.core.tracker_store").debug("Tracker with sender_id '%s' stored to database", SENDER)
    logging.getLogger("rasa.core.lock_store").debug("Acquired lock for conversation '%s'.", SENDER)
    logging.getLogger("bot.crisis.handoff").critical("DATABASE DOWN: crisis hand-off for conversation %s (%s)",
                                                     SENDER, "suicide")
    out = captured.getvalue()
    assert SENDER not in out and "5557654321" not in out
    assert out.count("'conv-") == 3 and out.count("conversation conv-") == 1
    assert len(set(re.findall(r"conv-[0-9a-f]+", out))) == 1 and "DATABASE DOWN" in out


def test_structlog_lines_of_rasa_are_cleaned(captured):
    structlog = pytest.importorskip("structlog")
    structlog.configure(processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
                        logger_factory=structlog.stdlib.LoggerFactory(), cache_logger_on_first_use=False)
    try:
        structlog.get_logger("rasa.core.processor").debug(
            "processor.message.parse", parse_data_text=WORDS, parse_data_intent={"name": "inform"},
            parse_data_entities=[{"value": "Marisol"}], sender_id=SENDER)
        structlog.get_logger("rasa.core.processor").debug("processor.slots.log", slot_values="\tname: Marisol")
    finally:
        structlog.reset_defaults()
    out = captured.getvalue()
    assert "processor.message.parse" in out and '"parse_data_intent": {"name": "inform"}' in out
    assert "Marisol" not in out and "never calls" not in out and SENDER not in out
    assert '"sender_id": "conv-' in out


def test_tracebacks_lose_the_words_in_exception_messages(captured):
    try:
        raise ValueError(f"could not read {{'text': '{WORDS}'}}")
    except ValueError:
        logging.getLogger("rasa_sdk.endpoint").exception("action failed")
    out = captured.getvalue()
    assert "action failed" in out and "Traceback" in out and "ValueError" in out
    assert "Marisol" not in out


def test_uvicorns_access_log_still_formats(captured):
    from uvicorn.logging import AccessFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    access = logging.getLogger("uvicorn.access")
    level, disabled = access.level, access.disabled  # another test's uvicorn may have changed them
    access.setLevel(logging.INFO)
    access.disabled = False
    access.addHandler(handler)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/x?sender={SENDER}&a=1", "1.1", 200)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
        access.disabled = disabled
    lines = stream.getvalue().splitlines()
    assert lines[0] == '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200 OK'
    assert lines[1].startswith('127.0.0.1:5000 - "GET /x?sender=conv-') and SENDER not in lines[1]
    assert lines[1].endswith('&a=1 HTTP/1.1" 200 OK')  # only the id is replaced


def test_long_records_are_cut(captured):
    logging.getLogger("rasa").warning("x" * 10_000)
    line = captured.getvalue()
    assert len(line) < logging_filter.MAX_CHARS + 200 and "characters cut" in line


def test_allow_switch_leaves_records_alone(monkeypatch):
    monkeypatch.setenv(logging_filter.ALLOW_ENV, "allow")
    assert logging_filter.install() is False
    record = logging.getLogger("rasa").makeRecord("rasa", logging.INFO, __file__, 1, "text=%s", (WORDS,), None)
    assert WORDS in record.getMessage()


def test_the_rasa_servers_tracker_store_installs_it(tmp_path, monkeypatch):
    from bot.store.tracker_store import AppTrackerStore

    monkeypatch.delenv(logging_filter.ALLOW_ENV, raising=False)
    try:
        AppTrackerStore(url=f"sqlite:///{tmp_path / 'x.db'}")
        record = logging.getLogger("rasa").makeRecord("rasa", logging.INFO, __file__, 1, "text=%s", (WORDS,), None)
        assert record.getMessage() == "text=[redacted]"
    finally:
        logging_filter.uninstall()


def test_the_web_app_process_installs_it():
    code = ("import logging, bot.web.app; logging.basicConfig(level=logging.DEBUG); "
            f"logging.getLogger('uvicorn.error').info('text=%s', {WORDS!r})")
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "ERASURE_KEY": "k", "HOME": "/tmp"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "text=[redacted]" in run.stderr and "Marisol" not in run.stderr


def test_the_action_server_installs_it_before_it_starts():
    """`main` installs the filter right after configuring logging: a refused start (no secret) shows it."""
    code = ("import logging, sys; from bot import action_server; "
            "rc = action_server.main(['--actions', 'actions', '--port', '0']); "
            f"logging.getLogger('rasa_sdk.executor').error('Failed: %s', {repr(tracker_dump())!r}); "
            "sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=180, env={"PATH": "/usr/bin:/bin", "ERASURE_KEY": "k", "HOME": "/tmp"})
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Failed: [conversation data removed" in run.stderr and "Marisol" not in run.stderr


@pytest.mark.parametrize("line", [
    "Loading model models/ipt-e128f0660065.tar.gz...",
    "Action server on http://127.0.0.1:5055 (secret required)",
    "Refused a POST /webhook without the action server secret.",
    "Action action_journey_people failed: KeyError at actions/journey.py:88 run",
    "Recorded 2 crisis hand-off(s) that had waited for the database.",
    "Erased a person's data and conversation at their request.",
])
def test_ordinary_lines_are_left_as_they_are(line):
    assert logging_filter.scrub(line) == line
