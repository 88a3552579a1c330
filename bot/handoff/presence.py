"""What the person sees of clinic staff in a live hand-off: who joined, who wrote, who left.

Staff messages and the join / leave lines are bot events appended to the person's conversation
(`bot/crisis/rasa_client.py`); their `metadata` says what they are:

- a staff message: `{"from_staff": <label for the staff side>, "staff_name": <public name or None>}`;
- a join / leave line: `{"staff_presence": "joined" | "left" | "ended", "staff_name": ...}`
  ("ended": the hand-off closed before anyone joined).

The channels turn that into what each can show: the widget (socket.io) gets the text with a
`custom` payload (`widget_payload`), messaging apps get plain text with the name in front of a
staff message (`for_messaging_app`). The person only ever sees a staff member's display name,
never an e-mail address (the dashboard's label falls back to the e-mail when a user has no name).

While the staff member who holds a hand-off types a reply, the widget shows "<name> from the clinic is
typing…": not a conversation event (nothing is stored), but a socket.io event `ipt_staff_typing` with
`typing_payload` sent to the person's room (`bot/channels/socketio.py`); the dashboard sends at most one
every TYPING_INTERVAL seconds while typing goes on, the widget hides the line after TYPING_SHOWN seconds
without one, or when the reply arrives.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from bot.handoff.state import CLOSED, HANDOFF_SLOT, TAKEN

JOINED, LEFT, ENDED = "joined", "left", "ended"
STAFF_MESSAGE, STAFF_PRESENCE, STAFF_TYPING = "staff_message", "staff_presence", "staff_typing"
TYPING_EVENT = "ipt_staff_typing"  # the socket.io event name
TYPING_INTERVAL, TYPING_SHOWN = 3, 6  # seconds
FROM_STAFF, STAFF_NAME = "from_staff", "staff_name"
TEAM = "Clinic team"  # the staff API's default name: not a person's name
MAX_NAME = 60

_EMAIL = re.compile(r"\S+@\S+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def public_name(label: Optional[str]) -> Optional[str]:
    """The name the person may see: the staff member's display name, or None (no name, the team's
    default, or anything that looks like an e-mail address)."""
    name = " ".join(_CONTROL.sub(" ", label or "").split())
    if not name or name.casefold() == TEAM.casefold() or _EMAIL.search(name):
        return None
    return name[:MAX_NAME].rstrip()


def speaker(name: Optional[str]) -> str:
    """Who a staff message is from, as the person reads it: "Sam from the clinic"."""
    return f"{name} from the clinic" if name else "Someone from the clinic"


def joined_line(name: Optional[str]) -> str:
    return f"{speaker(name)} has joined the conversation."


def left_line(name: Optional[str]) -> str:
    who = name or "The person from the clinic"
    return f"{who} has left the conversation. You're chatting with the automated assistant again."


def ended_line() -> str:
    return "You're chatting with the automated assistant again."


def typing_line(name: Optional[str]) -> str:
    return f"{speaker(name)} is typing…"


def typing_payload(name: Optional[str]) -> dict[str, Any]:
    """What the widget gets while staff type: `{"type": "staff_typing", "staff_name": ..., "text": ...}`."""
    name = public_name(name)
    return {"type": STAFF_TYPING, "staff_name": name, "text": typing_line(name)}


def presence_event(kind: str, name: Optional[str]) -> dict[str, Any]:
    """The bot event of a join / leave line (`kind`: JOINED, LEFT or ENDED)."""
    text = {JOINED: joined_line, LEFT: left_line}.get(kind, lambda _n: ended_line())(name)
    return {"event": "bot", "text": text, "metadata": {STAFF_PRESENCE: kind, STAFF_NAME: name}}


def take_over_events(staff: str) -> list[dict[str, Any]]:
    """Staff take the conversation: the assistant falls silent and the person is told who joined."""
    return [{"event": "slot", "name": HANDOFF_SLOT, "value": TAKEN}, presence_event(JOINED, public_name(staff))]


def staff_message_event(text: str, staff: str) -> dict[str, Any]:
    """A staff member's message; `staff` is the dashboard's label (kept for the staff side)."""
    return {"event": "bot", "text": text, "metadata": {FROM_STAFF: staff, STAFF_NAME: public_name(staff)}}


def end_events(joined_staff: Optional[str]) -> list[dict[str, Any]]:
    """The hand-off ends: the slot, then "<name> has left" if someone had joined, else a line that
    the assistant is back. `joined_staff` is the label of who took it over, or None."""
    line = presence_event(LEFT, public_name(joined_staff)) if joined_staff else presence_event(ENDED, None)
    return [{"event": "slot", "name": HANDOFF_SLOT, "value": CLOSED}, line]


def _kind(message: dict[str, Any]) -> Optional[str]:
    if message.get(STAFF_PRESENCE) in (JOINED, LEFT, ENDED):
        return STAFF_PRESENCE
    if message.get(FROM_STAFF):
        return STAFF_MESSAGE
    return None


def _name_of(message: dict[str, Any]) -> Optional[str]:
    # a staff message stored before `staff_name` existed has only the label
    return public_name(message[STAFF_NAME] if STAFF_NAME in message else message.get(FROM_STAFF))


def widget_payload(message: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The widget's `custom` payload for an outgoing message (Rasa's message dict, where the event's
    metadata sits at the top level), or None for an assistant message.

    `{"type": "staff_message", "staff_name": "Sam" | None, "text": ...}` or
    `{"type": "staff_presence", "event": "joined" | "left" | "ended", "staff_name": ..., "text": ...}`.
    """
    kind = _kind(message)
    if kind is None or not isinstance(message.get("text"), str):
        return None
    name = _name_of(message)
    if kind == STAFF_MESSAGE:
        return {"type": STAFF_MESSAGE, "staff_name": name, "text": message["text"]}
    return {"type": STAFF_PRESENCE, "event": message[STAFF_PRESENCE], "staff_name": name, "text": message["text"]}


def prefix(name: Optional[str]) -> str:
    return f"{name} (clinic): " if name else f"{TEAM}: "


def for_messaging_app(message: dict[str, Any]) -> dict[str, Any]:
    """The message for a text-only app: a staff message gets its writer's name in front of it
    ("Sam (clinic): ..."); everything else (join / leave lines too) is unchanged."""
    if _kind(message) != STAFF_MESSAGE or not isinstance(message.get("text"), str):
        return message
    return {**message, "text": prefix(_name_of(message)) + message["text"]}
