"""Exports of conversations as JSON and CSV, with optional redaction of names and contact details.

Redaction is pattern-based and has limits (docs/staff/dashboard.md, "Export"): it removes e-mail addresses,
phone numbers (but not the crisis lines' and emergency numbers of bot/crisis/resources.yml, which the
assistant itself sent), web addresses, @handles, street addresses with a number, every name the person
gave (their own name and the people of their journey, in any case, from the person and journey tables),
and capitalised names after "my name is", "I'm", "call me" or a relationship word ("my sister Ana").
It applies to staff notes as to messages. It cannot find a name the person never gave to the journey
written in lower case or without such a cue, nor details in other languages. The conversation id is
replaced by a stable pseudonym, because on phone-based channels it is the phone number.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Optional

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s().-]*\d){6,}")
HANDLE = re.compile(r"(?<![\w])@\w{2,}")
STREET = re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|"
                    r"Boulevard|Blvd|Way|Court|Ct|Place|Pl)\b\.?")
RELATIONS = (r"mother|mom|mum|father|dad|wife|husband|partner|boyfriend|girlfriend|friend|sister|brother|son|"
             r"daughter|boss|manager|colleague|coworker|therapist|doctor|aunt|uncle|grandma|grandmother|grandpa|"
             r"grandfather|cousin|neighbou?r|roommate|flatmate|ex|fiance|fiancee|teacher|child|kid|baby")
NAME = r"[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?"
NAME_CUES = [
    re.compile(rf"(\b(?i:my name is|my name's|name's|call me|i am called|i'm called|this is|i am|i'm|im)\s+)({NAME})"),
    re.compile(rf"(\b(?i:(?:my|our|his|her|their)\s+(?:{RELATIONS})s?),?\s+)({NAME})"),
]


def _name_sub(match: re.Match) -> str:
    return match.group(1) + REDACTED


@lru_cache(maxsize=1)
def crisis_numbers() -> frozenset[str]:
    """The digits of every crisis line, text line and emergency number the assistant gives out."""
    from bot.crisis.resources import all_locales

    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key in ("phone", "sms", "emergency") and value is not None:
            for part in re.split(r"\bor\b|/|,", str(value)):
                digits = re.sub(r"\D", "", part)
                if digits:
                    found.add(digits)

    walk(all_locales())
    return frozenset(found)


def _phone_sub(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    for known in crisis_numbers():
        if digits == known or (len(digits) >= 7 and known.endswith(digits)):
            return match.group(0)  # a crisis line the assistant gave: the reader needs it as it was
    return REDACTED


def name_patterns(names: Iterable[str | None]) -> list[str]:
    """The names to redact: each as given, and each capitalised part of three letters or more."""
    found: list[str] = []
    for name in names:
        name = (name or "").strip()
        if len(name) < 2:
            continue
        found.append(name)
        found += [part for part in re.split(r"[\s,]+", name) if len(part) >= 3 and part[:1].isupper()]
    return sorted(dict.fromkeys(found), key=len, reverse=True)  # longest first: "Ana Lopez" before "Ana"


def person_names(sender_id: str, url: Optional[str] = None) -> list[str]:
    """Every name the person gave: their own (person and journey tables) and the people of their journey."""
    from sqlalchemy import select

    from bot.store.db import session_scope
    from bot.store.journey_repository import JourneyStore
    from bot.store.models import Person

    state = JourneyStore(url).load(sender_id)
    names = [state.display_name] + [p.name for p in state.people]
    draft_name = (state.draft or {}).get("name") if isinstance(state.draft, dict) else None
    if isinstance(draft_name, str):
        names.append(draft_name)  # someone being added right now
    with session_scope(url) as session:
        names += list(session.execute(select(Person.display_name).where(Person.sender_id == sender_id)).scalars())
    return [n for n in dict.fromkeys(names) if n]


def redact(text: str | None, names: list[str] | None = None) -> str:
    if not text:
        return text or ""
    out = EMAIL.sub(REDACTED, text)
    out = URL.sub(REDACTED, out)
    out = PHONE.sub(_phone_sub, out)
    out = HANDLE.sub(REDACTED, out)
    out = STREET.sub(REDACTED, out)
    for cue in NAME_CUES:
        # The cue words match in any case; the name must start with a capital letter.
        out = cue.sub(_name_sub, out)
    for name in name_patterns(names or []):
        out = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", REDACTED, out, flags=re.IGNORECASE)
    return out


def pseudonym(sender_id: str) -> str:
    return "conversation-" + hashlib.sha256(sender_id.encode()).hexdigest()[:12]


def iso(timestamp: float | datetime | None) -> str | None:
    if timestamp is None:
        return None
    if isinstance(timestamp, datetime):
        value = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)
        return value.isoformat()
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def conversation_document(summary: dict[str, Any], transcript: list[dict[str, Any]],
                          notes: list[dict[str, Any]], redacted: bool, names: Optional[list[str]] = None,
                          url: Optional[str] = None) -> dict[str, Any]:
    """One conversation for export. Redacted: the names the person gave (`names`, else read from the
    database at `url`, default DATABASE_URL) and contact details go from messages and staff notes."""
    if redacted and names is None:
        names = person_names(summary["sender_id"], url)
    names = list(names or []) + ([summary["display_name"]] if summary.get("display_name") else [])
    clean = (lambda t: redact(t, names)) if redacted else (lambda t: t)
    return {
        "conversation": pseudonym(summary["sender_id"]) if redacted else summary["sender_id"],
        "channel": summary.get("channel"),
        "first_message_at": iso(summary.get("first_at")),
        "last_message_at": iso(summary.get("last_at")),
        "crisis": summary.get("has_crisis", False),
        "crisis_categories": summary.get("crisis_categories", []),
        "review_status": summary.get("review_status"),
        "tags": summary.get("tags", []),
        "journey_phase": summary.get("phase"),
        "journey_focus": summary.get("focus"),
        "handoffs": [{"id": h["id"], "status": h["status"], "category": h["category"],
                      "created_at": iso(h["created_at"]), "taken_by": h["taken_by"],
                      "closed_at": iso(h["closed_at"])} for h in summary.get("handoffs", [])],
        "messages": [{"at": iso(line["timestamp"]), "from": line["from"], "staff": line.get("staff"),
                      "text": clean(line["text"]), "intent": line.get("intent"),
                      "confidence": line.get("confidence"), "crisis_category": line.get("crisis_category")}
                     for line in transcript],
        "notes": [{"at": iso(n["created_at"]), "author": n["author"], "text": clean(n["text"])} for n in notes],
    }


CSV_COLUMNS = ["conversation", "channel", "at", "from", "staff", "text", "intent", "confidence", "crisis_category"]


def to_csv(documents: list[dict[str, Any]]) -> str:
    """One row per message. Cells that a spreadsheet would run as a formula are prefixed with '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for doc in documents:
        for message in doc["messages"]:
            row = [doc["conversation"], doc["channel"], message["at"], message["from"], message["staff"],
                   message["text"], message["intent"], message["confidence"], message["crisis_category"]]
            writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
