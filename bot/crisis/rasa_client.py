"""A thin client for the parts of Rasa's HTTP API that staff hand-offs use.

Staff messages and the hand-off state go into the person's conversation through the Rasa server,
which sends them on the person's own channel (`output_channel=latest`).
"""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx

from bot.crisis.handoff_state import HANDOFF_SLOT


class RasaClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 30):
        self.base_url = (base_url or os.environ.get("RASA_URL", "http://127.0.0.1:5005")).rstrip("/")
        self.token = token if token is not None else os.environ.get("RASA_API_TOKEN", "")
        self.timeout = timeout

    def _post(self, sender_id: str, path: str, body: Any) -> Any:
        url = f"{self.base_url}/conversations/{quote(sender_id, safe='')}/{path}"
        params = {"output_channel": "latest", "token": self.token}
        response = httpx.post(url, params=params, json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def set_slot(self, sender_id: str, name: str, value: Any) -> None:
        self._post(sender_id, "tracker/events", {"event": "slot", "name": name, "value": value})

    def run_action(self, sender_id: str, action: str) -> list[dict[str, Any]]:
        """Run an action or response in the conversation; returns the messages it sent."""
        return self._post(sender_id, "execute", {"name": action}).get("messages", [])

    def set_handoff_status(self, sender_id: str, status: str) -> None:
        self.set_slot(sender_id, HANDOFF_SLOT, status)

    def send_staff_message(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        self.set_slot(sender_id, "staff_message", text)
        return self.run_action(sender_id, "utter_staff_message")

    def resume_assistant(self, sender_id: str) -> list[dict[str, Any]]:
        self.set_handoff_status(sender_id, "closed")
        return self.run_action(sender_id, "utter_handoff_resume")
