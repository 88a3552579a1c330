"""Where a conversation stands in the crisis hand-off, read from its events alone.

The state must be known in the Rasa server even when the action server and the database are down,
so it is derived from the transcript: the crisis resources response opens a hand-off ("requested");
staff mark it "taken" or "closed" by appending a `handoff_status` slot event through Rasa's HTTP API.
A person who answers the safety question with "No, I'm safe" while it waits moves it to "safe": the
assistant goes on with them while the hand-off stays in the staff queue.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

CRISIS_RESOURCES_RESPONSE = "utter_crisis_resources"
HANDOFF_SLOT = "handoff_status"
REQUESTED, TAKEN, CLOSED, SAFE = "requested", "taken", "closed", "safe"
STATES = (REQUESTED, TAKEN, CLOSED, SAFE)


def _as_pair(event: Any) -> tuple[Optional[str], Any]:
    """(kind, detail) of a Rasa event object or its dict form, for the events we care about."""
    if isinstance(event, dict):
        kind = event.get("event")
        if kind == "action":
            return "action", event.get("name")
        if kind == "slot" and event.get("name") == HANDOFF_SLOT:
            return "slot", event.get("value")
        return None, None
    kind = getattr(event, "type_name", None)
    if kind == "action":
        return "action", getattr(event, "action_name", None)
    if kind == "slot" and getattr(event, "key", None) == HANDOFF_SLOT:
        return "slot", getattr(event, "value", None)
    return None, None


def handoff_state(events: Iterable[Any]) -> Optional[str]:
    """The latest hand-off state (requested, taken, closed, safe) or None if there never was one."""
    state: Optional[str] = None
    for event in events:
        kind, detail = _as_pair(event)
        if kind == "action" and detail == CRISIS_RESOURCES_RESPONSE:
            state = REQUESTED
        elif kind == "slot" and detail in STATES:
            state = detail
    return state
