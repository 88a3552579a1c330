"""Telegram, our own small channel on the Bot API (Rasa 3.6's calls Telegram when the server starts).

Environment: TELEGRAM_TOKEN (from @BotFather), TELEGRAM_SECRET_TOKEN (a secret you choose, 1-256
characters of A-Z a-z 0-9 _ -, given to Telegram with the webhook), TELEGRAM_WEBHOOK_URL (the public
webhook address, used by `python -m bot.channels.telegram set-webhook`); TELEGRAM_API_URL only for
tests (a local stand-in for https://api.telegram.org). Webhook: POST /webhooks/telegram/webhook.
Every request must carry `X-Telegram-Bot-Api-Secret-Token` equal to TELEGRAM_SECRET_TOKEN; others
get 403. Buttons are an inline keyboard (a tap sends the button's payload); payloads longer than
Telegram's 64 bytes become numbered options (a reply of "2" chooses the second). The crisis card is
not sent as JSON: the crisis reply's text carries the same resources. A conversation is stored as
`telegram:<chat id>` (bot/channels/common.py).
"""
from __future__ import annotations

import hmac
import logging
import sys
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import (
    CustomAsTextMixin,
    api_base,
    conversation_id,
    from_env,
    numbered_options,
    refusal,
    resolve_number,
    webhook_blueprint,
)
from bot.channels.limits import size_guard

logger = logging.getLogger(__name__)

ENV = {"token": "TELEGRAM_TOKEN", "secret_token": "TELEGRAM_SECRET_TOKEN", "webhook_url": "TELEGRAM_WEBHOOK_URL"}
DEFAULT_API = "https://api.telegram.org"
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit
TIMEOUT = 30.0


def bot_api_url(token: Text, method: Text) -> Text:
    return f"{api_base('TELEGRAM_API_URL') or DEFAULT_API}/bot{token}/{method}"


async def call(token: Text, method: Text, payload: Dict[Text, Any]) -> Dict[Text, Any]:
    """One Bot API call; a refusal by Telegram is logged and raised."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        reply = await client.post(bot_api_url(token, method), json=payload)
    if reply.status_code >= 400:
        logger.error("Telegram %s failed with HTTP %s: %s", method, reply.status_code, reply.text[:200])
        reply.raise_for_status()
    return reply.json() if reply.content else {}


class TelegramOutput(CustomAsTextMixin, OutputChannel):
    """Sends with sendMessage (buttons as an inline keyboard) and sendPhoto."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, token: Text) -> None:
        self.token = token
        super().__init__()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await call(self.token, "sendMessage", {"chat_id": recipient_id, "text": part})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await call(self.token, "sendPhoto", {"chat_id": recipient_id, "photo": image})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        data = [button.get("payload") or button.get("title") or "" for button in buttons]
        if any(len(d.encode()) > MAX_CALLBACK_DATA for d in data):
            await self.send_text_message(recipient_id, numbered_options(text, buttons))
            return
        keyboard = [[{"text": button.get("title", ""), "callback_data": d}] for button, d in
                    zip(buttons, data, strict=True)]
        await call(self.token, "sendMessage", {"chat_id": recipient_id, "text": text or "…",
                                               "reply_markup": {"inline_keyboard": keyboard}})

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


def parse_update(update: Dict[Text, Any]) -> tuple[Optional[Text], Optional[Text], Optional[Text]]:
    """(chat id, text, callback query id) of a message or a button tap; Nones for anything else."""
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        chat = ((callback.get("message") or {}).get("chat") or {}).get("id") or (callback.get("from") or {}).get("id")
        return (str(chat) if chat is not None else None), callback.get("data"), callback.get("id")
    message = update.get("message") or update.get("edited_message")
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        chat = (message.get("chat") or {}).get("id")
        return (str(chat) if chat is not None else None), message["text"], None
    return None, None, None


class TelegramChannel(InputChannel):
    """`telegram` channel configured from the environment; no Telegram calls at start-up."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        c = from_env(credentials, ENV)
        return cls(c["token"], c["secret_token"], c["webhook_url"])

    def __init__(self, token: Optional[Text], secret_token: Optional[Text], webhook_url: Optional[Text] = None) -> None:
        self.token, self.secret_token, self.webhook_url = token, secret_token, webhook_url

    def missing(self) -> List[Text]:
        return [ENV[key] for key in ("token", "secret_token") if not getattr(self, key)]

    def signed(self, request: Request) -> bool:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        return bool(given) and hmac.compare_digest(given.encode(), (self.secret_token or "").encode())

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.token or "")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)  # MAX_MESSAGE_CHARS, before NLU
        webhook = webhook_blueprint(self, "telegram_webhook")

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            refused = refusal(self, lambda: self.signed(request), "secret token")
            if refused:
                return refused
            try:
                update = request.json
            except Exception:  # noqa: BLE001 - a body that is not JSON is not an update
                update = None
            chat, text, callback_id = parse_update(update if isinstance(update, dict) else {})
            if callback_id:
                try:
                    await call(self.token, "answerCallbackQuery", {"callback_query_id": callback_id})
                except httpx.HTTPError:
                    logger.warning("could not answer a Telegram callback query")
            if not chat or not text:
                return response.text("")
            sender = conversation_id(self.name(), chat)
            text = await resolve_number(request, sender, text)
            try:
                await on_new_message(UserMessage(text, self.get_output_channel(), sender,
                                                 input_channel=self.name(), metadata=self.get_metadata(request)))
            except Exception:  # noqa: BLE001 - Telegram must get an answer, or it resends the update
                logger.exception("Exception when handling a Telegram message")
            return response.text("")

        return webhook


def set_webhook() -> Dict[Text, Any]:
    """Tells Telegram our webhook address and secret token (from the environment)."""
    settings = from_env(None, ENV)
    missing = [name for key, name in ENV.items() if not settings[key]]
    if missing:
        raise SystemExit(f"set {', '.join(missing)}")
    reply = httpx.post(bot_api_url(settings["token"], "setWebhook"), timeout=TIMEOUT, json={
        "url": settings["webhook_url"], "secret_token": settings["secret_token"],
        "allowed_updates": ["message", "edited_message", "callback_query"]})
    reply.raise_for_status()
    return reply.json()


if __name__ == "__main__":  # pragma: no cover - a set-up helper
    if sys.argv[1:] != ["set-webhook"]:
        raise SystemExit("usage: python -m bot.channels.telegram set-webhook")
    print(set_webhook())
