"""A thin client for the parts of Rasa's HTTP API that staff hand-offs use.

Staff messages and the hand-off state are appended to the person's conversation through the Rasa
server, which sends the messages on the person's own channel (`output_channel=latest`). Taking a
hand-off over tells the person who joined, ending it who left (`bot/handoff/presence.py`).

Every call carries a short-lived JWT signed with `RASA_API_TOKEN` in `Authorization: Bearer ...`;
the token itself never travels and never appears in a URL (Rasa is started by
`bot.deploy.rasa_launcher`, which gives Rasa the token as its JWT secret).
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from bot.channels.conversation_token import ROUTING_HEADER, routing_key
from bot.crisis.render_domain import HANDOFF_RESUME_MESSAGE
from bot.handoff import presence
from bot.handoff.state import HANDOFF_SLOT, TAKEN
from bot.settings import get_settings

JWT_LIFETIME_SECONDS = 120


def rasa_auth_headers(token: str, lifetime: int = JWT_LIFETIME_SECONDS) -> dict[str, str]:
    """`Authorization: Bearer <JWT>` for Rasa's HTTP API: an admin JWT signed with the API token,
    valid for `lifetime` seconds (Rasa's `--jwt-secret`, HS256)."""
    claims = {"user": {"username": "ipt-web", "role": "admin"}, "exp": int(time.time()) + lifetime}
    return {"Authorization": f"Bearer {jwt.encode(claims, token, algorithm='HS256')}"}


class RasaClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 30):
        settings = get_settings()
        self.base_url = (base_url or settings.rasa_api_url).rstrip("/")
        self.token = token if token is not None else settings.value("RASA_API_TOKEN") or ""
        self.timeout = timeout

    def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the conversation; bot messages among them are sent to the person."""
        url = f"{self.base_url}/conversations/{quote(sender_id, safe='')}/tracker/events"
        params = {"output_channel": "latest", "execute_side_effects": "true"}
        response = httpx.post(url, params=params, json=events, headers=rasa_auth_headers(self.token),
                              timeout=self.timeout)
        response.raise_for_status()

    def set_handoff_status(self, sender_id: str, status: str, staff: str | None = None) -> None:
        """Set the hand-off state; "taken" with the staff member's label also sends the person the
        line "<name> from the clinic has joined the conversation." (in the same request)."""
        if status == TAKEN and staff is not None:
            self.append_events(sender_id, presence.take_over_events(staff))
            return
        self.append_events(sender_id, [{"event": "slot", "name": HANDOFF_SLOT, "value": status}])

    def send_staff_message(self, sender_id: str, text: str, staff: str) -> dict[str, Any]:
        """Send a staff member's message to the person, marked as coming from staff: `from_staff` is
        the label (the staff side sees it), `staff_name` the display name the person sees."""
        message = presence.staff_message_event(text, staff)
        self.append_events(sender_id, [message])
        return message

    def send_staff_typing(self, sender_id: str, staff: str) -> None:
        """Tell the person's widget that `staff` is typing (socket.io only; nothing is stored): the Rasa
        server's `POST /webhooks/socketio/staff_typing/<id>` (`bot/channels/socketio.py`), routed by the
        conversation's key like the widget's own requests."""
        url = f"{self.base_url}/webhooks/socketio/staff_typing/{quote(sender_id, safe='')}"
        headers = {**rasa_auth_headers(self.token), ROUTING_HEADER: routing_key(sender_id)}
        response = httpx.post(url, json={"staff_name": presence.public_name(staff)}, headers=headers,
                              timeout=min(self.timeout, 3))
        response.raise_for_status()

    def resume_assistant(self, sender_id: str, joined_staff: str | None = None) -> dict[str, Any]:
        """End the hand-off: "<name> has left the conversation..." (`joined_staff`: the label of who
        had taken it, else None) and the gentle "I'm here again" message."""
        message = {"event": "bot", "text": HANDOFF_RESUME_MESSAGE["text"],
                   "data": {"buttons": HANDOFF_RESUME_MESSAGE["buttons"]}}
        self.append_events(sender_id, presence.end_events(joined_staff) + [message])
        return message
