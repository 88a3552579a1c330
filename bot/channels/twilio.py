"""Twilio (SMS and WhatsApp) with request-signature validation, which Rasa 3.6's channel lacks.

Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER (SMS, `+15551234567`) and/or
TWILIO_WHATSAPP_NUMBER (`whatsapp:+15551234567`); TWILIO_WEBHOOK_URL, the public address Twilio
calls (the signature covers it; behind a proxy the server cannot see it); TWILIO_API_BASE_URL only
for tests (a local stand-in for api.twilio.com). Webhook: POST /webhooks/twilio/webhook.
Every request must carry a valid `X-Twilio-Signature`; others get 403. Buttons become numbered
options; a reply of "2" chooses the second. A conversation is stored as `twilio:<From>`
(`twilio:+15551234567`, `twilio:whatsapp:+15551234567`; bot/channels/common.py).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.common import (
    TextOnlyOutputMixin,
    api_base,
    conversation_id,
    from_env,
    refusal,
    resolve_number,
    webhook_blueprint,
)
from bot.channels.limits import size_guard

logger = logging.getLogger(__name__)

ENV = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_number": "TWILIO_NUMBER",
    "whatsapp_number": "TWILIO_WHATSAPP_NUMBER",
    "webhook_url": "TWILIO_WEBHOOK_URL",
}


class TwilioTextOutput(TextOnlyOutputMixin, TwilioOutput):
    """Replies from the number the person wrote to (SMS or WhatsApp)."""

    def __init__(self, account_sid: Optional[Text], auth_token: Optional[Text], sms_number: Optional[Text],
                 whatsapp_number: Optional[Text] = None) -> None:
        super().__init__(account_sid, auth_token, sms_number)
        self.sms_number, self.whatsapp_number = sms_number, whatsapp_number
        base = api_base("TWILIO_API_BASE_URL")
        if base:
            self.api.base_url = base

    def _from(self, recipient_id: Text) -> Optional[Text]:
        if recipient_id.startswith("whatsapp:"):
            return self.whatsapp_number or self.sms_number
        return self.sms_number or self.whatsapp_number

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        self.twilio_number = self._from(recipient_id)
        await super().send_text_message(recipient_id, text, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        self.twilio_number = self._from(recipient_id)
        await super().send_image_url(recipient_id, image, **kwargs)


class TwilioChannel(TwilioInput):
    """`twilio` channel (same webhook path) configured from the environment, with signatures checked."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        c = from_env(credentials, ENV)
        return cls(c["account_sid"], c["auth_token"], c["twilio_number"], debug_mode=False,
                   whatsapp_number=c["whatsapp_number"], webhook_url=c["webhook_url"])

    def __init__(self, account_sid: Optional[Text], auth_token: Optional[Text], twilio_number: Optional[Text],
                 debug_mode: bool = False, whatsapp_number: Optional[Text] = None,
                 webhook_url: Optional[Text] = None) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode)
        self.whatsapp_number, self.webhook_url = whatsapp_number, webhook_url

    def missing(self) -> list[Text]:
        missing = [ENV[k] for k in ("account_sid", "auth_token") if not getattr(self, k)]
        if not (self.twilio_number or self.whatsapp_number):
            missing.append("TWILIO_NUMBER or TWILIO_WHATSAPP_NUMBER")
        return missing

    def signed(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        params = {key: values[0] for key, values in request.form.items()}
        url = self.webhook_url or request.url
        return RequestValidator(self.auth_token).validate(url, params, signature)

    def get_output_channel(self) -> OutputChannel:
        return TwilioTextOutput(self.account_sid, self.auth_token, self.twilio_number, self.whatsapp_number)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)  # MAX_MESSAGE_CHARS, before NLU
        webhook = webhook_blueprint(self, "twilio_webhook")

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            refused = refusal(self, lambda: self.signed(request))
            if refused:
                return refused
            number = request.form.get("From")
            text = request.form.get("Body")
            if not number or text is None:
                return response.text("", status=204)
            sender = conversation_id(self.name(), number)
            text = await resolve_number(request, sender, text.replace("¡", "@"))
            try:
                await on_new_message(UserMessage(text, self.get_output_channel(), sender,
                                                 input_channel=self.name(), metadata=self.get_metadata(request)))
            except Exception:  # noqa: BLE001 - Twilio must get an answer; the error is logged
                logger.exception("Exception when handling a Twilio message")
            return response.text("", status=204)

        return webhook
