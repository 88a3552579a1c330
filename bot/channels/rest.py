"""Rasa's REST channel (`/webhooks/rest/webhook`), failing clearly when a turn could not be stored.

Rasa 3.6's `RestInput` answers `200` with whatever it collected even when handling the message
failed, and during a database outage Rasa answers from a blank conversation that is never stored.
Here:

- a turn during which the tracker store failed (see `bot/store/turn_status.py`) or that raised
  answers `503 {"error": ..., "retry": true}` with `Retry-After`, so the client (our widget does)
  sends the message again once the database is back, and the answer has the conversation's context;
- except a turn whose replies carry the crisis card: those are always delivered (`200`, header
  `X-IPT-Degraded: store-unavailable`), because crisis help must not depend on the database.

Conversation ids are server-issued (bot/channels/conversation_token.py): the sender is the subject of
the `Authorization: Bearer <token>` the web app issued; a body `sender` is ignored. Without a valid
token the answer is `401 {"error": ...}`; with REQUIRE_CONVERSATION_TOKEN=false a request without a
token may still name its sender as below.

Before NLU (bot/channels/limits.py): a missing, over-long or other-channel-shaped sender id is
refused with `400 {"error": ...}` (no shared `default` conversation); a client-set `input_channel`
is ignored (always `rest`); a message over MAX_MESSAGE_CHARS gets a kind reply and is kept, unparsed.

`GET /webhooks/rest/metrics` serves this Rasa server's Prometheus metrics (bot/metrics.py: turn latency,
safety-triage tiers) to a `METRICS_TOKEN` bearer or a direct request from this machine.

Everything else (path, body, `metadata`, `stream=true`) is Rasa's.
"""
from __future__ import annotations

import logging
import time
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot import log_format, metrics
from bot.channels import conversation_token
from bot.channels.limits import check_message_text, check_sender_id, size_guard
from bot.store.turn_status import begin_turn, end_turn

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
NO_TOKEN = ("a valid conversation token is required: the web app issues one (POST /chat/session), "
            "send it as 'Authorization: Bearer <token>'")
UNAVAILABLE = "The assistant cannot store the conversation right now; please send the message again shortly."
log_format.configure(only=log_format.PLUGIN_LOGGERS)  # LOG_FORMAT=json: our plug-ins' lines in the Rasa server


def carries_crisis_reply(messages: list[dict[str, Any]]) -> bool:
    return any(isinstance(m.get("custom"), dict) and m["custom"].get("type") == "crisis" for m in messages)


class RestChannel(RestInput):
    """`rest` channel (same name and path as Rasa's) that answers 503 when a turn failed."""

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # never the client's word for it

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/metrics", methods=["GET"])
        async def prometheus(request: Request) -> HTTPResponse:
            """This Rasa server's metrics (bot/metrics.py): METRICS_TOKEN bearer, or straight from this machine."""
            allowed = metrics.access(request.headers.get("Authorization"), request.ip,
                                     metrics.forwarded(request.headers))
            if allowed != metrics.OK:
                return response.json({"error": "metrics need the METRICS_TOKEN bearer"}, status=allowed,
                                     headers={"WWW-Authenticate": "Bearer"})
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            if not isinstance(request.json, dict):
                return response.json({"error": "expected a JSON object with sender and message"}, status=400)
            token = conversation_token.bearer(request.headers.get("Authorization"))
            if token is not None or conversation_token.required():
                sender_id = conversation_token.subject(token)  # the body's sender never counts
                if sender_id is None:
                    return response.json({"error": NO_TOKEN}, status=401, headers={"WWW-Authenticate": "Bearer"})
            else:
                sender_id = await self._extract_sender(request)
                problem = check_sender_id(sender_id)
                if problem:
                    return response.json({"error": problem}, status=400)
            text = self._extract_message(request)
            problem = check_message_text(text)  # missing, not a string, NUL: 400, never a 503 to retry
            if problem:
                return response.json({"error": problem}, status=400)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender_id, input_channel, metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            started = time.perf_counter()
            status, token = begin_turn()
            failure = ""
            try:
                await on_new_message(
                    UserMessage(text, collector, sender_id, input_channel=input_channel, metadata=metadata))
            except CancelledError:
                failure = "timeout"
                logger.error("A REST message timed out before it was handled.")
            except Exception as error:  # noqa: BLE001 - any failure becomes a clear 503
                failure = "error"
                logger.exception("Handling a REST message failed: %s", type(error).__name__)
            finally:
                end_turn(token)
            messages = collector.messages
            if status.store_failed:
                failure = failure or "store-unavailable"
                logger.error("The tracker store failed during a REST turn: %s", status.error)
            metrics.observe_turn("rest", time.perf_counter() - started, failure or "ok")
            if not failure:
                return response.json(messages)
            if carries_crisis_reply(messages):
                logger.critical("Crisis reply sent although the turn failed (%s); it is not stored.", failure)
                return response.json(messages, headers={"X-IPT-Degraded": failure})
            logger.error("REST turn failed (%s): answering 503.", failure)
            return response.json({"error": UNAVAILABLE, "reason": failure, "retry": True}, status=503,
                                 headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

        return webhook
