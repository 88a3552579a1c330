"""A request for a crisis hand-off: who, on which channel, which category, and the message that raised it.

Plain data with no imports of ours, so both the hand-off's opening (`bot/crisis/handoff.py`) and the
store (`bot/store/repository.py`) can use it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True)
class HandoffRequest:
    channel: str
    sender_id: str
    category: str
    locale: str
    message: str
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", (self.message or "")[:MAX_MESSAGE_CHARS])
