"""LOG_FORMAT=json (bot/log_format.py) with real loggers: every line parses as JSON and carries no message text."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bot import log_format, logging_filter
from bot.settings import Settings, SettingsError

WORDS = "my sister Marisol never calls"
SENDER = "+15557654321"


@pytest.fixture
def json_mode(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("ERASURE_KEY", "test-key")
    monkeypatch.delenv(logging_filter.ALLOW_ENV, raising=False)
    yield
    logging_filter.uninstall()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def plugin_logger(stream: io.StringIO, name: str) -> logging.Logger:
    assert log_format.configure(only=[name], stream=stream)
    return logging.getLogger(name)


def test_plugin_lines_are_json_without_message_text(json_mode):
    stream = io.StringIO()
    logger = plugin_logger(stream, "bot.test_json_plugin")
    logger.info("parsed %s", json.dumps({"text": WORDS, "intent": {"name": "greet"}, "sender_id": SENDER}))
    logger.warning("Received user message text=%s sender_id=%s", WORDS, SENDER)
    try:
        raise ValueError(f"could not read 'text': '{WORDS}'")
    except ValueError:
        logger.exception("Handling failed for conversation '%s'", SENDER)
    found = lines(stream)
    assert [line["level"] for line in found] == ["info", "warning", "error"]
    assert {"time", "level", "logger", "message", "process"} <= set(found[0])
    assert found[0]["logger"] == "bot.test_json_plugin" and "greet" in found[0]["message"]
    assert "ValueError" in found[2]["exception"]
    output = stream.getvalue()
    assert WORDS not in output and "Marisol" not in output and SENDER not in output
    assert "conv-" in output  # the conversation can still be followed, under a keyed hash


def test_the_json_handler_cleans_even_without_the_record_factory(json_mode):
    """The handler's own filter stands in front of the JSON output, whatever was installed first."""
    stream = io.StringIO()
    logger = plugin_logger(stream, "bot.test_json_handler_filter")
    logging_filter.uninstall()  # records are no longer cleaned when made
    logger.info('slot values {"text": "%s", "journey_step": "people"}', WORDS)
    [line] = lines(stream)
    assert WORDS not in line["message"] and "journey_step" in line["message"]


def test_extra_attributes_never_reach_the_line(json_mode):
    stream = io.StringIO()
    logger = plugin_logger(stream, "bot.test_json_extra")
    logger.info("turn handled", extra={"user_text": WORDS, "sender_id": SENDER})
    [line] = lines(stream)
    assert line["message"] == "turn handled" and WORDS not in stream.getvalue() and SENDER not in stream.getvalue()


def test_a_process_switches_its_existing_handlers_to_json(json_mode):
    """As in the web app under uvicorn and the action server after basicConfig: the root's handlers turn JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        assert log_format.configure()
        logging.getLogger("bot.test_json_root").warning("The person wrote text=%s", WORDS)
    finally:
        root.removeHandler(handler)
    [line] = lines(stream)
    assert line["logger"] == "bot.test_json_root" and WORDS not in line["message"]


def test_text_mode_changes_nothing(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    stream = io.StringIO()
    assert log_format.configure(only=["bot.test_text_mode"], stream=stream) is False
    assert logging.getLogger("bot.test_text_mode").handlers == []


def test_the_setting_takes_text_or_json_only():
    assert Settings.from_environ({"LOG_FORMAT": " JSON "}).log_format == "json"
    assert Settings.from_environ({}).log_format == "text"
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_environ({"LOG_FORMAT": "xml"})
