"""Exports of conversations as JSON and CSV, with optional redaction of names and contact details.

Redaction is pattern-based and has limits (README, "Staff dashboard"): it removes e-mail addresses,
phone numbers, web addresses, @handles, street addresses with a number, the person's stored display
name, and capitalised names after "my name is", "I'm", "call me" or a relationship word ("my sister
Ana"). It cannot find a name written in lower case or without such a cue, nor details in other
languages. The conversation id is replaced by a stable pseudonym, because on phone-based channels
it is the phone number.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, timezone
from typing import Any

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


def redact(text: str | None, names: list[str] | None = None) -> str:
    if not text:
        return text or ""
    out = EMAIL.sub(REDACTED, text)
    out = URL.sub(REDACTED, out)
    out = PHONE.sub(REDACTED, out)
    out = HANDLE.sub(REDACTED, out)
    out = STREET.sub(REDACTED, out)
    for cue in NAME_CUES:
        # The cue words match in any case; the name must start with a capital letter.
        out = cue.sub(_name_sub, out)
    for name in names or []:
        if name and len(name) > 1:
            out = re.sub(rf"\b{re.escape(name)}\b", REDACTED, out, flags=re.IGNORECASE)
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
                          notes: list[dict[str, Any]], redacted: bool) -> dict[str, Any]:
    names = [summary.get("display_name")] if summary.get("display_name") else []
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
