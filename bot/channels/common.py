"""What our messaging-app channels share.

- Credentials come from environment variables (credentials.yml names only the channel), so the
  file can list every channel: a channel whose variables are unset loads, and its webhook answers
  503 "not configured" instead of stopping the Rasa server (Rasa's own `${VAR}` in credentials.yml
  fails to start when a variable is unset).
- Text-only apps get buttons as numbered options; the person can answer with the number, which
  is mapped back to the button's payload from the conversation's last bot message (in the tracker
  store, so it works across restarts and servers).
- The crisis card's `custom` payload is not sent as JSON text: the same resources are already in
  the crisis reply's text.
- A clinic staff member's message is sent with their name in front: "Sam (clinic): ...".
- Conversation ids are namespaced by channel: the person the app calls `+15551234567` is stored as
  `twilio:+15551234567` (`telegram:12345`, `slack:U123`, `facebook:<PSID>`), an id the REST and
  socket.io channels never issue nor accept (bot/channels/limits.py refuses any `:`), so knowing a
  phone number or chat id never opens that person's conversation on the web channels. The output
  channels take the prefix off again (`app_id`), so replies, staff messages included, reach the app's own
  id. Conversations stored before the prefix (a bare `+1555...`) stay readable in the dashboard and
  their hand-offs still get staff replies (an id without the prefix is sent as it is); the person's
  next message starts a new, prefixed conversation (no data migration: see docs/operators/channels.md).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request

from bot.handoff import presence
from bot.settings import get_settings

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


MESSAGING_CHANNELS = ("twilio", "telegram", "slack", "facebook")  # the prefixes of their conversation ids


def conversation_id(channel: Text, app_id: Text) -> Text:
    """The stored conversation id of a messaging app's user or chat: `<channel>:<the app's id>`."""
    return f"{channel}:{app_id}"


def app_id(channel: Text, conversation: Text) -> Text:
    """The app's own id of a stored conversation id (an id without the channel's prefix is returned as it is)."""
    prefix = f"{channel}:"
    return conversation[len(prefix):] if conversation.startswith(prefix) else conversation


def messaging_channel_of(conversation: object) -> Optional[Text]:
    """The messaging channel whose prefix `conversation` carries (case-insensitively), else None."""
    if not isinstance(conversation, str):
        return None
    head, sep, _ = conversation.partition(":")
    return head.lower() if sep and head.lower() in MESSAGING_CHANNELS else None


def from_env(credentials: Optional[Dict[Text, Any]], names: Dict[Text, Text]) -> Dict[Text, Any]:
    """`credentials` with each missing key filled from its environment variable."""
    merged = dict(credentials or {})
    for key, env_name in names.items():
        if not merged.get(key):
            merged[key] = get_settings().value(env_name) or None
    return merged


def not_configured(channel: Text, missing: List[Text]) -> response.HTTPResponse:
    logger.warning("%s webhook called but the channel is not configured (set %s)", channel, ", ".join(missing))
    return response.json({"error": f"the {channel} channel is not configured"}, status=503)


def webhook_blueprint(channel: Any, blueprint_name: Text) -> Blueprint:
    """A channel's blueprint with its health route, which says whether the channel is configured.

    `channel` has `name()` and `missing()` (the unset environment variables).
    """
    webhook = Blueprint(blueprint_name, __name__)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> response.HTTPResponse:
        return response.json({"status": "ok" if not channel.missing() else "not configured"})

    return webhook


def refusal(
    channel: Any, is_signed: Callable[[], bool], what: Text = "signature"
) -> Optional[response.HTTPResponse]:
    """503 when the channel is not configured, 403 when the request is not signed, else None."""
    if channel.missing():
        return not_configured(channel.name(), channel.missing())
    if not is_signed():
        logger.warning("%s webhook request with a missing or wrong %s refused", channel.name(), what)
        return response.text(f"invalid {what}", status=403)
    return None


def numbered_options(text: Text, buttons: List[Dict[Text, Any]]) -> Text:
    lines = [text.strip()] if text and text.strip() else []
    lines += [f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, start=1)]
    lines.append("Reply with a number, or in your own words.")
    return "\n".join(lines)


class CustomAsTextMixin:
    """For apps that cannot show our custom payloads: never JSON as text. The crisis card is left
    out (the crisis reply's text carries the same lines and numbers); a payload's `text` is sent.
    A clinic staff member's message gets their name in front ("Sam (clinic): ..."); the hand-off's
    join / leave lines are plain text already (`bot/handoff/presence.py`)."""

    def recipient(self, conversation: Text) -> Text:
        """The app's id to send to for a stored conversation id (`twilio:+1555...` -> `+1555...`)."""
        return app_id(self.name(), conversation)  # type: ignore[attr-defined]

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(  # type: ignore[misc]
            self.recipient(recipient_id), presence.for_messaging_app(message))

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        if not isinstance(json_message, dict) or json_message.get("type") == "crisis":
            return
        if isinstance(json_message.get("text"), str):
            await self.send_text_message(recipient_id, json_message["text"])


class TextOnlyOutputMixin(CustomAsTextMixin):
    """For channels without buttons: numbered options; no crisis JSON (its text is sent too)."""

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, numbered_options(text, buttons))

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)


async def last_buttons(request: Request, sender_id: Text) -> List[Dict[Text, Any]]:
    """The buttons of the conversation's last bot message (empty when it had none)."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return []
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - a lookup failure just means "no numbered options"
        logger.exception("could not read the tracker of a conversation")
        return []
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if getattr(event, "type_name", None) == "user":
            return []
        if getattr(event, "type_name", None) == "bot":
            buttons = (event.data or {}).get("buttons") or (event.data or {}).get("quick_replies")
            if buttons:
                return buttons
    return []


async def resolve_number(request: Request, sender_id: Text, text: Optional[Text]) -> Optional[Text]:
    """A bare number that answers numbered options becomes that option's payload."""
    match = NUMBER.match(text or "")
    if not match:
        return text
    buttons = await last_buttons(request, sender_id)
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        return buttons[index].get("payload") or buttons[index].get("title") or text
    return text


def api_base(env_name: Text) -> Optional[Text]:
    """A platform API base URL from the environment (a local stand-in in tests), else None."""
    value = get_settings().value(env_name)
    return value.rstrip("/") if value else None
