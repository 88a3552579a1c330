"""What every action needs to know about the conversation it runs in."""
from __future__ import annotations

from rasa_sdk import Tracker


def channel_of(tracker: Tracker) -> str:
    """The channel the person last wrote from ("rest", "socketio", "telegram", ...)."""
    return tracker.get_latest_input_channel() or "unknown"


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""
