"""Whether the tracker store failed during the turn being handled (a database outage).

Rasa wraps every tracker store in `FailSafeTrackerStore`: when the database is down it answers
from a blank conversation and keeps that turn in memory only. That keeps crisis replies working
without the database (the safety design), but the person's other messages would get answers out of
context, silently. `AppTrackerStore` records a failure here, and the REST channel
(`bot/channels/rest.py`) turns such a turn into a clear `503` unless it carried the crisis reply.

A channel calls `begin_turn()` before handing a message to Rasa and `end_turn()` afterwards; the
status is a mutable object in a context variable, so the tracker store (awaited inside the same
request, or in a task started from it) sees the same one.
"""
from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Optional


@dataclass
class TurnStatus:
    store_failed: bool = False
    error: str = ""


_CURRENT: ContextVar[Optional[TurnStatus]] = ContextVar("ipt_turn_status", default=None)


def begin_turn() -> tuple[TurnStatus, Token]:
    status = TurnStatus()
    return status, _CURRENT.set(status)


def end_turn(token: Token) -> None:
    _CURRENT.reset(token)


def note_store_failure(error: BaseException) -> None:
    """Called by the tracker store when reading or writing a conversation failed."""
    status = _CURRENT.get()
    if status is not None:
        status.store_failed = True
        status.error = status.error or f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
