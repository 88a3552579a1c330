"""Facebook Messenger, configured from the environment, on Rasa's Messenger parser and sender.

Environment: FB_VERIFY (a verify token you choose), FB_SECRET (the Meta app secret),
FB_PAGE_ACCESS_TOKEN (the page's token); FB_GRAPH_API_URL only for tests (a local stand-in for
https://graph.facebook.com). Webhook: GET (verification) and POST /webhooks/facebook/webhook.
Every POST must carry a valid `X-Hub-Signature-256` (or, without it, `X-Hub-Signature`): HMAC of the
body with the app secret; others get 403 (Rasa's channel answers 200 "not validated").
Buttons become quick replies (titles up to 20 characters), else numbered options with number
quick replies; a reply of "2" chooses the second. The crisis card is not sent as JSON: the crisis
reply's text carries the same resources. Sends run in a thread (fbmessenger uses `requests`). A
conversation is stored as `facebook:<page-scoped id>` (bot/channels/common.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from fbmessenger import MessengerClient
from fbmessenger.attachments import Image
from fbmessenger.elements import Text as FBText
from fbmessenger.quick_replies import QuickReplies, QuickReply
from fbmessenger.sender_actions import SenderAction
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import (
    CustomAsTextMixin,
    api_base,
    conversation_id,
    from_env,
    not_configured,
    numbered_options,
    refusal,
    resolve_number,
    webhook_blueprint,
)
from bot.channels.limits import size_guard

logger = logging.getLogger(__name__)

ENV = {"verify": "FB_VERIFY", "secret": "FB_SECRET", "page-access-token": "FB_PAGE_ACCESS_TOKEN"}
MAX_QUICK_REPLIES, MAX_TITLE = 10, 20  # fbmessenger's (and Messenger's) limits


class GraphClient(MessengerClient):
    """fbmessenger's client, whose Graph API address can come from FB_GRAPH_API_URL."""

    def __init__(self, page_access_token: Optional[Text], **kwargs: Any) -> None:
        super().__init__(page_access_token, **kwargs)
        base = api_base("FB_GRAPH_API_URL")
        if base:
            self.graph_url = f"{base}/v{self.api_version}"


def hub_signature_valid(secret: Text, body: bytes, headers: Any) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` if sent, else `X-Hub-Signature: sha1=<hex>`."""
    for header, method in (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1")):
        value = headers.get(header)
        if value:
            prefix = f"{method}="
            expected = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
            return value.startswith(prefix) and hmac.compare_digest(value[len(prefix):], expected)
    return False


class MessengerOutput(CustomAsTextMixin, MessengerBot):
    """Rasa's MessengerBot with quick replies for buttons, and sends off the event loop."""

    def send(self, recipient_id: Text, element: Any) -> None:
        self.messenger_client.send(element.to_dict(), recipient_id, "RESPONSE")

    async def _send(self, recipient_id: Text, element: Any) -> None:
        await asyncio.to_thread(self.send, recipient_id, element)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self._send(recipient_id, FBText(text=part))

    async def send_action(self, recipient_id: Text, sender_action: Text) -> None:
        await asyncio.to_thread(self.messenger_client.send_action, SenderAction(sender_action).to_dict(),
                                recipient_id)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        if len(buttons) > MAX_QUICK_REPLIES:
            await self.send_text_message(recipient_id, numbered_options(text, buttons))
            return
        if all(len(button.get("title", "")) <= MAX_TITLE for button in buttons):
            titles = [button.get("title", "") for button in buttons]
        else:
            text, titles = numbered_options(text, buttons), [str(n) for n in range(1, len(buttons) + 1)]
        chips = [QuickReply(title=title, payload=button.get("payload") or button.get("title"))
                 for title, button in zip(titles, buttons, strict=True)]
        await self._send(recipient_id, FBText(text=text, quick_replies=QuickReplies(quick_replies=chips)))

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, Image(url=image))


class ChannelMessenger(Messenger):
    """Rasa's webhook parser, with our client, our output channel and numbered replies."""

    def __init__(self, page_access_token: Text, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 request: Request) -> None:
        super().__init__(page_access_token, on_new_message)
        self.client = GraphClient(page_access_token)
        self.request = request

    async def _handle_user_message(self, text: Text, sender_id: Text, metadata: Optional[Dict[Text, Any]]) -> None:
        conversation = conversation_id(self.name(), sender_id)
        text = await resolve_number(self.request, conversation, text)
        out_channel = MessengerOutput(self.client)
        await out_channel.send_action(sender_id, sender_action="mark_seen")
        await out_channel.send_action(sender_id, sender_action="typing_on")
        try:
            await self.on_new_message(UserMessage(text, out_channel, conversation, input_channel=self.name(),
                                                  metadata=metadata))
        except Exception:  # noqa: BLE001 - Messenger must get an answer; the error is logged
            logger.exception("Exception when handling a Messenger message")
        finally:
            await out_channel.send_action(sender_id, sender_action="typing_off")


class MessengerChannel(FacebookInput):
    """`facebook` channel (same webhook path) configured from the environment; refuses unsigned posts."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        c = from_env(credentials, ENV)
        return cls(c["verify"], c["secret"], c["page-access-token"])

    def missing(self) -> List[Text]:
        settings = {"verify": self.fb_verify, "secret": self.fb_secret, "page-access-token": self.fb_access_token}
        return [ENV[key] for key, value in settings.items() if not value]

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(GraphClient(self.fb_access_token))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)  # MAX_MESSAGE_CHARS, before NLU
        webhook = webhook_blueprint(self, "fb_webhook")

        @webhook.route("/webhook", methods=["GET"])
        async def verification(request: Request) -> HTTPResponse:
            if self.missing():
                return not_configured("facebook", self.missing())
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(token, self.fb_verify):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger webhook verification with a wrong verify token refused")
            return response.text("invalid verify token", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            refused = refusal(self, lambda: hub_signature_valid(self.fb_secret, request.body, request.headers))
            if refused:
                return refused
            payload = request.json or {}
            if payload.get("object") not in (None, "page"):
                return response.text("success")
            messenger = ChannelMessenger(self.fb_access_token, on_new_message, request)
            try:
                await messenger.handle(payload, self.get_metadata(request))
            except (KeyError, TypeError):
                logger.warning("Messenger webhook request without the expected fields ignored")
            return response.text("success")

        return webhook
