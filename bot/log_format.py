"""LOG_FORMAT=json: one JSON object per log line, for a log collector (Loki, Elasticsearch, CloudWatch ...).

`configure()` is called once in each process we start: the web app (bot/web/app.py, under uvicorn), the
action server (bot/action_server.py) and, for our plug-ins' loggers only (`bot.*`), the Rasa server
(bot/channels/rest.py; Rasa's own lines keep Rasa's format). With LOG_FORMAT=text (the default) it does
nothing.

A line holds `time` (UTC, ISO 8601), `level`, `logger`, `message`, `process`, and `exception` when
there is one; never a record's `extra` attributes or arguments. The message is the one
bot/logging_filter.py already cleaned when the record was made, and every JSON handler carries that
filter's `ConversationTextFilter` too, so what people write never reaches the output, whichever
order things were set up in (unless LOG_MESSAGE_TEXT=allow on a developer's machine).
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Iterable, Optional

from bot import logging_filter
from bot.settings import get_settings

# Loggers whose handlers the servers set up themselves (uvicorn's dictConfig, sanic's when enabled).
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error", "sanic.access")
PLUGIN_LOGGERS = ("bot", "actions")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON with fixed keys (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def json_handler(stream: Optional[IO[str]] = None) -> logging.Handler:
    """A stream handler (stderr by default) writing JSON lines, with the conversation-text filter in front."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    if not logging_filter.allowed_raw():
        handler.addFilter(logging_filter.ConversationTextFilter())
    handler._ipt_json = True  # type: ignore[attr-defined]  # ours: configure() is idempotent
    return handler


def _to_json(handler: logging.Handler) -> None:
    handler.setFormatter(JsonFormatter())
    if not logging_filter.allowed_raw() and not any(
            isinstance(f, logging_filter.ConversationTextFilter) for f in handler.filters):
        handler.addFilter(logging_filter.ConversationTextFilter())


def json_enabled() -> bool:
    try:
        return get_settings().log_format == "json"
    except ValueError:  # an unreadable setting stops start-up elsewhere, naming it
        return False


def configure(only: Optional[Iterable[str]] = None, stream: Optional[IO[str]] = None) -> bool:
    """Switch this process's logs to JSON lines when LOG_FORMAT=json; False (nothing done) otherwise.

    Without `only`: every handler of the root logger and of the servers' loggers writes JSON, and the root
    logger gets a JSON handler at INFO if it has none. With `only` (logger names, e.g. PLUGIN_LOGGERS in the
    Rasa server): those loggers get their own JSON handler and stop passing records up to Rasa's handlers.
    """
    if not json_enabled():
        return False
    logging_filter.install()
    if only is not None:
        for name in only:
            logger = logging.getLogger(name)
            if not any(getattr(h, "_ipt_json", False) for h in logger.handlers):
                logger.addHandler(json_handler(stream))
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.INFO)
            logger.propagate = False
        return True
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(json_handler(stream))
        if root.level in (logging.NOTSET, logging.WARNING):
            root.setLevel(logging.INFO)
    for logger in [root] + [logging.getLogger(name) for name in SERVER_LOGGERS]:
        for handler in logger.handlers:
            _to_json(handler)
    return True
