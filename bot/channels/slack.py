"""Slack, configured from the environment, on Rasa's Slack channel (which checks `X-Slack-Signature`).

Environment: SLACK_TOKEN (the bot token, `xoxb-...`), SLACK_SIGNING_SECRET (the app's signing
secret); SLACK_API_URL only for tests (a local stand-in for https://slack.com/api/).
Webhook: POST /webhooks/slack/webhook, for both "Event Subscriptions" and "Interactivity".
Every request must carry a valid `X-Slack-Signature` (HMAC-SHA256 of `v0:<timestamp>:<body>`, with a
timestamp less than five minutes old); others get 401. Up to five buttons are Slack buttons; more
become numbered options (a reply of "2" chooses the second). The crisis card is not sent as JSON:
the crisis reply's text carries the same resources. A conversation is stored as `slack:<user id>`
(with `conversation_granularity` channel or thread, `slack:<user>_<channel>[_<thread>]`; bot/channels/common.py);
replies outside a Slack request (staff messages) go to the user id, a direct message.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.common import (
    CustomAsTextMixin,
    api_base,
    app_id,
    conversation_id,
    from_env,
    not_configured,
    numbered_options,
    resolve_number,
)
from bot.channels.limits import size_guard

logger = logging.getLogger(__name__)

ENV = {"slack_token": "SLACK_TOKEN", "slack_signing_secret": "SLACK_SIGNING_SECRET"}
MAX_BUTTONS = 5  # Slack ignores an actions block with more (Rasa's SlackBot)


class SlackOutput(CustomAsTextMixin, SlackBot):
    """Rasa's SlackBot with a configurable API address and no custom JSON posted as a message."""

    def __init__(self, token: Text, slack_channel: Optional[Text] = None, thread_id: Optional[Text] = None,
                 proxy: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        base = api_base("SLACK_API_URL")
        if base:
            self.client = AsyncWebClient(token, base_url=base + "/", proxy=proxy)

    def recipient(self, conversation: Text) -> Text:
        """The Slack user of a stored id (`slack:U1` or `slack:U1_C2_T3`: `U1`; Slack ids hold no `_`)."""
        return app_id(self.name(), conversation).split("_")[0]

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # legacy; bot tokens post as the app
        await super()._post_message(channel, **kwargs)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        if len(buttons) > MAX_BUTTONS:
            await self.send_text_message(recipient_id, numbered_options(text, buttons))
        else:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class SlackChannel(SlackInput):
    """`slack` channel (same webhook path) configured from the environment; refuses unsigned requests."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        c = from_env(credentials, ENV)
        return cls(c["slack_token"], c.get("slack_channel"), c.get("proxy"),
                   c.get("slack_retry_reason_header", "x-slack-retry-reason"),
                   c.get("slack_retry_number_header", "x-slack-retry-num"),
                   c.get("errors_ignore_retry"), c.get("use_threads", False),
                   c["slack_signing_secret"] or "", c.get("conversation_granularity", "sender"))

    def _validate_credentials(self) -> None:
        """Rasa refuses to start without a signing secret; we start and answer 503 instead."""

    def missing(self) -> List[Text]:
        return [ENV[key] for key in ("slack_token", "slack_signing_secret") if not getattr(self, key)]

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)

    def _get_conversation_id(self, sender_id: Optional[Text], channel_id: Optional[Text],
                             thread_id: Optional[Text]) -> Optional[Text]:
        conversation = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return conversation_id(self.name(), conversation) if conversation else conversation

    async def process_message(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                              text: Text, sender_id: Optional[Text], metadata: Optional[Dict]) -> Any:
        if sender_id:
            text = await resolve_number(request, sender_id, text)
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)  # MAX_MESSAGE_CHARS, before NLU
        webhook = super().blueprint(on_new_message)

        @webhook.on_request
        async def guard(request: Request) -> Optional[HTTPResponse]:
            if not request.path.rstrip("/").endswith("/webhook"):
                return None
            if self.missing():
                return not_configured("slack", self.missing())
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Slack webhook request with a missing, wrong or old signature refused")
                return response.text("invalid signature", status=401)
            return None

        return webhook
