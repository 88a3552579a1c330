"""Keeps what people write, and dumps of their conversations, out of every log record.

`install()` is called once in every process we start: the Rasa server (on import of the tracker
store, bot/store/tracker_store.py, which endpoints.yml names), the action server (bot/action_server.py)
and the web app (bot/web/app.py). It replaces the log record factory, so every record of every logger
(ours, rasa, rasa_sdk, structlog's output through the standard library, sanic, uvicorn) at every level
is cleaned when it is made, before any handler or formatter sees it, whichever handlers are added later.

What is removed from a record's message (and from its traceback text):
- a tracker or request dump (a `{...}` holding "events" with "sender_id", "latest_message" or
  "tracker"): cut, with a note of how many characters went;
- values of keys that hold message text or what was extracted from it, however written: JSON
  (`"text": "..."`, Rasa's structlog JSON lines such as `"parse_data_text"`, `"slot_values"`,
  `"rasa_events"`), Python reprs (`'text': '...'`, `UserUttered(text: ..., ...)`,
  `SlotSet(key: name, value: ...)`), `key=value` pairs (`text=...`, `parse_data_text=...`) and
  Rasa's "Current slot values" lines;
- a conversation id given as `sender_id` (or `sender`, `conversation_id`, Rasa's "conversation ID '...'")
  is replaced by `conv-` and a
  short keyed hash (bot.store.erasure.pseudonym), so one conversation's lines can still be followed;
- anything left longer than MAX_CHARS is cut.

Set LOG_MESSAGE_TEXT=allow only on a developer's machine to see the raw records; never in production.
"""
from __future__ import annotations

import json
import logging
import re
import traceback
from typing import Any, Callable, Optional

from bot.settings import get_settings

REDACTED = "[redacted]"
MAX_CHARS = 2000
ALLOW_ENV = "LOG_MESSAGE_TEXT"

# Keys whose values are (or contain) what the person wrote, or slots and events derived from it.
SENSITIVE_KEYS = frozenset({
    "text", "message", "messages", "value", "values", "slot_values", "slots", "events", "rasa_events",
    "prediction_events", "entities", "latest_message", "tracker", "parse_data", "metadata", "user_message",
    "input", "answer", "note", "excerpt", "body", "data", "buttons", "title",
})
SENSITIVE_SUFFIXES = ("_text", "_message", "_entities", "_events", "_slots", "_values")
ID_KEYS = frozenset({"sender_id", "sender", "conversation_id"})
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_QUOTED_KEY_VALUE = re.compile(rf"([\"'])({_KEY})\1(\s*:\s*)({_QUOTED})")
_KEY_EQUALS = re.compile(rf"(?<![\w.])({_KEY})=({_QUOTED}|.*?)(?=\s+{_KEY}=|\s*$|,\s*{_KEY}=|\)\s*$)", re.DOTALL)
_ID_EQUALS = re.compile(r"(?<![\w.])(sender_id|sender|conversation_id)=(?!conv-)([^&\s'\",;)]+)", re.IGNORECASE)
_REPR_FIELD = re.compile(r"\b(text|value|data|metadata): (.*?)(?=, [a-z_]+: |\)(?:,|\]|\s|$))", re.DOTALL)
_SLOT_LINE = re.compile(r"(\n\t[\w-]+: ).*")
_QUOTED_MESSAGE = re.compile(r"\b((?:user )?(?:message|input|utterance|text)s? )(?![\"'][{\[])(" + _QUOTED + ")",
                             re.IGNORECASE)
_NAMED_ID = re.compile(r"\b(conversation(?: id)?|sender(?:[ _]id)?|for id) (['\"])([^'\"]{1,300})\2", re.IGNORECASE)
_BARE_ID = re.compile(r"\b(conversation|sender)( )(?!conv-)([^\s'\",;()]*\d[^\s'\",;()]*)", re.IGNORECASE)
_DUMP_MARKERS = (("events", "sender_id"), ("events", "latest_message"), ("latest_message", "slots"),
                 ("tracker",))

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_installed: Optional[Callable[..., logging.LogRecord]] = None  # the factory we replaced


def _sensitive(key: str) -> bool:
    key = key.lower()
    return key in SENSITIVE_KEYS or key.endswith(SENSITIVE_SUFFIXES)


def _conversation(value: str) -> str:
    try:
        from bot.store.erasure import pseudonym

        return "conv-" + pseudonym(value).removeprefix("erased-")[:16]
    except Exception:  # noqa: BLE001 - logging must never fail for want of the key
        return "[conversation]"


def _scrub_structure(value: Any) -> Any:
    """A parsed JSON value with every sensitive key's value replaced."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in ID_KEYS and isinstance(item, str):
                out[key] = _conversation(item)
            elif isinstance(key, str) and _sensitive(key) and item not in (None, "", [], {}):
                out[key] = REDACTED
            else:
                out[key] = _scrub_structure(item)
        return out
    if isinstance(value, list):
        return [_scrub_structure(item) for item in value]
    return value


def _looks_like_dump(text: str) -> bool:
    lowered = text.lower()
    return any(all(f"\"{m}\"" in lowered or f"'{m}'" in lowered for m in markers) for markers in _DUMP_MARKERS)


def _cut_dump(text: str) -> str:
    start = text.find("{")
    if start < 0 or not _looks_like_dump(text[start:]):
        return text
    return text[:start] + f"[conversation data removed: {len(text) - start} characters]"


def _key_value(match: re.Match) -> str:
    quote, key, colon, value = match.groups()
    if key.lower() in ID_KEYS:
        return f"{quote}{key}{quote}{colon}\"{_conversation(value[1:-1])}\""
    if _sensitive(key):
        return f"{quote}{key}{quote}{colon}\"{REDACTED}\""
    return match.group(0)


def _key_equals(match: re.Match) -> str:
    key, value = match.groups()
    if key.lower() in ID_KEYS:
        if value.startswith("conv-"):
            return match.group(0)
        return f"{key}={_conversation(value.strip(chr(34) + chr(39)))}"
    if _sensitive(key) and value.strip():
        return f"{key}={REDACTED}"
    return match.group(0)


def scrub(text: str) -> str:
    """The message with every piece of conversation content taken out."""
    if not text:
        return text
    stripped = _ANSI.sub("", text).strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):  # a structlog JSON line (Rasa 3.6 logs so when not on a terminal)
            return _cap(json.dumps(_scrub_structure(parsed), ensure_ascii=False, default=str))
    out = _cut_dump(_ANSI.sub("", text))
    out = _QUOTED_KEY_VALUE.sub(_key_value, out)
    out = _REPR_FIELD.sub(lambda m: f"{m.group(1)}: {REDACTED}", out)
    out = _ID_EQUALS.sub(lambda m: f"{m.group(1)}={_conversation(m.group(2))}", out)
    out = _KEY_EQUALS.sub(_key_equals, out)
    out = _SLOT_LINE.sub(lambda m: m.group(1) + REDACTED, out)
    out = _QUOTED_MESSAGE.sub(lambda m: m.group(1) + f"'{REDACTED}'", out)
    out = _NAMED_ID.sub(lambda m: f"{m.group(1)} {m.group(2)}{_conversation(m.group(3))}{m.group(2)}", out)
    out = _BARE_ID.sub(lambda m: f"{m.group(1)} {_conversation(m.group(3))}", out)
    return _cap(out)


def _cap(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS] + f" ... [{len(text) - MAX_CHARS} characters cut]"


def clean_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message now and clean it. A record with nothing to clean is left as it was
    (formatters such as uvicorn's access log read `args`); otherwise only the cleaned text is kept,
    except that an access-log record keeps its arguments, each cleaned."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string: keep only the template
        message, record.args = str(record.msg), None
    cleaned = scrub(message)
    if cleaned != message:
        if record.name.endswith(".access") and isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = scrub(text)
        record.exc_info = None  # the formatter prints exc_text; the exception's own text would leak
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


class ConversationTextFilter(logging.Filter):
    """The same cleaning as a handler filter, for logging configuration files (dictConfig)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_conversation_text_cleaned", False):
            clean_record(record)
            record._conversation_text_cleaned = True
        return True


def allowed_raw() -> bool:
    try:
        return get_settings().log_message_text == "allow"
    except ValueError:  # some setting cannot be read: start-up stops naming it (bot/settings.py); until then, clean
        return False


def install(factory: Optional[Callable[..., logging.LogRecord]] = None) -> bool:
    """Clean every log record of this process from now on; idempotent. False when LOG_MESSAGE_TEXT=allow."""
    global _installed
    if _installed is not None:
        return True
    if allowed_raw():
        return False
    previous = factory or logging.getLogRecordFactory()

    def cleaning_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        clean_record(record)
        record._conversation_text_cleaned = True
        return record

    logging.setLogRecordFactory(cleaning_factory)
    _installed = previous
    return True


def uninstall() -> None:
    """Put the record factory back as it was (tests)."""
    global _installed
    if _installed is not None:
        logging.setLogRecordFactory(_installed)
        _installed = None
