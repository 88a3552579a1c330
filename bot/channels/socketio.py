"""Rasa's socket.io channel with custom payloads that arrive.

Rasa 3.6's `SocketIOOutput.send_custom_json` passes the payload's keys as arguments to
`AsyncServer.emit`, so a payload such as the crisis card (`{"type": "crisis", ...}`) raises a
TypeError, and the rest of the turn (the hand-off) never runs. Here a custom payload is emitted
as `{"custom": payload}` on the bot message event, like every other message.

A staff member's message and the "joined" / "left" lines of a hand-off go out as one message with
their text and a `custom` payload that names the staff member (`{"type": "staff_message", ...}`,
`{"type": "staff_presence", ...}`: `bot/handoff/presence.py`), so the widget can show who wrote.

When the conversation could not be read or stored during a turn (a database outage, see
`bot/store/turn_status.py`), the replies still go out (crisis help must not depend on the
database) and an `ipt_error` event `{"error": ..., "retry": true}` follows them, so a client can
tell that the turn was answered without its context and not kept.

While the staff member who holds a hand-off types, the web app posts to
`POST /webhooks/socketio/staff_typing/<conversation id>` (`{"staff_name": ...}`, with the admin JWT of
Rasa's HTTP API, signed with RASA_API_TOKEN); the person's connections get an `ipt_staff_typing` event
`{"type": "staff_typing", "staff_name": ..., "text": "Sam from the clinic is typing…"}`. Nothing is stored.

Conversation ids are server-issued (bot/channels/conversation_token.py): `session_request` carries
`{"token": <the web app's token>}` (and may carry its `session_id`); the connection joins the token's
conversation and is bound to it; every message it sends goes to that conversation (a `session_id` in
a message is ignored). A missing or invalid token (401) or a `session_id` other than the token's
(403) is refused with an `ipt_error` event to that connection only: it joins no room and gets nothing
of any conversation. With REQUIRE_CONVERSATION_TOKEN=false a connection without a token works as before.

Connections are accepted only from the CORS allow-list (`allowed_origins`: the web app's own origin and
ALLOWED_ORIGINS, the list Rasa's `--cors` gets): python-socketio refuses a request whose `Origin` header
names another site (400 "... is not an accepted origin."), so a page elsewhere cannot open a connection in a
visitor's browser. Clients that send no `Origin` (not browsers) are not affected.

Before NLU (bot/channels/limits.py), without a token: a `session_request` or a message with a missing, over-long or
other-channel-shaped session id is refused with an `ipt_error` event `{"error": ..., "status": 400}`
to that connection only (it joins no room, nothing is processed); a message over MAX_MESSAGE_CHARS
gets a kind reply and is kept, unparsed.
"""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import jwt
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

from bot import metrics
from bot.channels import conversation_token
from bot.channels.limits import check_message_payload, check_sender_id, size_guard
from bot.handoff import presence
from bot.settings import get_settings
from bot.store.turn_status import begin_turn, end_turn

ERROR_EVENT = "ipt_error"
NO_TOKEN = "a valid conversation token is required in session_request (the web app issues it: POST /chat/session)"
OTHER_CONVERSATION = "this token is for another conversation"
STORE_UNAVAILABLE = "The assistant could not store this message; please send it again shortly."


class SocketIOJsonOutput(SocketIOOutput):
    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """A staff message or a join / leave line goes out as one `bot_uttered` with its text and a
        `custom` payload that says who (`bot/handoff/presence.py`); everything else as Rasa does."""
        payload = presence.widget_payload(message)
        if payload is None:
            await super().send_response(recipient_id, message)
            return
        await self._send_message(recipient_id, {"text": payload["text"], "custom": payload})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def is_admin_request(request: Request) -> bool:
    """Whether the request carries the admin JWT of Rasa's HTTP API (`Authorization: Bearer`, HS256,
    signed with RASA_API_TOKEN), as the web app sends it (`bot/crisis/rasa_client.py`)."""
    secret = get_settings().value("RASA_API_TOKEN")
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if not secret or scheme.lower() != "bearer" or not token:
        return False
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    user = claims.get("user")
    return isinstance(user, dict) and user.get("role") == "admin"


def allowed_origins() -> list[str]:
    """The origins whose pages may connect: PUBLIC_WEB_URL's, localhost and 127.0.0.1 at WEB_PORT, and
    ALLOWED_ORIGINS (bot/runner.py `cors_origins`, the same list as Rasa's `--cors`). Never `*`."""
    from bot.runner import cors_origins

    return cors_origins(get_settings().web_port)


class SocketIOChannel(SocketIOInput):
    """`socketio` channel (same name, path and settings) using `SocketIOJsonOutput`.

    `jwt_key` and `jwt_method` may also come from SOCKETIO_JWT_KEY and SOCKETIO_JWT_METHOD: then
    a connection needs `auth: {token: <JWT signed with that key>}` (Rasa checks it on connect).
    """

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        settings = get_settings()
        if not credentials.get("jwt_key") and settings.socketio_jwt_key:
            credentials["jwt_key"] = settings.value("SOCKETIO_JWT_KEY")
            credentials.setdefault("jwt_method", settings.socketio_jwt_method)
        return super().from_credentials(credentials)

    def get_output_channel(self) -> Optional[OutputChannel]:
        if super().get_output_channel() is None:
            return None
        return SocketIOJsonOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)

        async def with_json_output(message: UserMessage) -> None:
            message.output_channel = SocketIOJsonOutput(self.sio, self.bot_message_evt)
            started, outcome = time.perf_counter(), "error"
            status, token = begin_turn()
            try:
                await on_new_message(message)
                outcome = "ok"
            finally:
                end_turn(token)
                metrics.observe_turn("socketio", time.perf_counter() - started,
                                     "store-unavailable" if status.store_failed else outcome)
            if status.store_failed and message.sender_id:
                await self.sio.emit(ERROR_EVENT, {"error": STORE_UNAVAILABLE, "reason": "store-unavailable",
                                                  "retry": True}, room=message.sender_id)

        webhook = super().blueprint(with_json_output)
        self._accept_origins()
        self._check_session_ids()

        @webhook.route("/staff_typing/<sender_id>", methods=["POST"])
        async def staff_typing(request: Request, sender_id: Text) -> Any:
            if not is_admin_request(request):
                return response.json({"error": "an admin JWT of Rasa's HTTP API is required"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            name = body.get("staff_name") if isinstance(body.get("staff_name"), str) else None
            await self.sio.emit(presence.TYPING_EVENT, presence.typing_payload(name), room=sender_id,
                                namespace=self.namespace or "/")
            return response.json({"status": "sent"})

        return webhook

    def _accept_origins(self) -> None:
        """Rasa builds the server with `cors_allowed_origins=[]`, which turns python-engineio's Origin check off;
        here it checks against `allowed_origins()`. The CORS headers stay with Rasa's `--cors` (sanic-cors):
        engineio's own would send `Access-Control-Allow-Origin` twice, which browsers refuse."""
        self.sio.eio.cors_allowed_origins = allowed_origins()
        self.sio.eio._cors_headers = lambda environ: []

    def _check_session_ids(self) -> None:
        """Wrap Rasa's `session_request`, message and `disconnect` handlers: a connection is bound to the
        conversation of the token its `session_request` carried, and its messages go there only."""
        handlers = self.sio.handlers[self.namespace or "/"]
        bound: Dict[Text, Text] = {}  # socket id -> conversation id (the token's subject)
        self.bound_sessions = bound
        namespace = self.namespace or "/"

        async def refuse(sid: Text, error: Text, status: int) -> None:
            await self.sio.emit(ERROR_EVENT, {"error": error, "status": status}, room=sid)

        rasa_session_request = handlers["session_request"]
        rasa_message = handlers.get(self.user_message_evt)
        rasa_disconnect = handlers.get("disconnect")

        async def session_request(sid: Text, data: Any = None) -> None:
            if data is not None and not isinstance(data, dict):
                await refuse(sid, "expected a JSON object", 400)
                return
            data = dict(data or {})
            token = data.pop("token", None)
            session_id = data.get("session_id")
            if token is not None or conversation_token.required():
                subject = conversation_token.subject(token)
                if subject is None:
                    await refuse(sid, NO_TOKEN, 401)
                    return
                if session_id is not None and session_id != subject:
                    await refuse(sid, OTHER_CONVERSATION, 403)
                    return
                previous = bound.get(sid)
                if previous and previous != subject:  # a new conversation on this connection: leave the old one
                    self.sio.leave_room(sid, previous, namespace=namespace)
                bound[sid] = subject
                await rasa_session_request(sid, {"session_id": subject})
                return
            if session_id is not None:
                problem = check_sender_id(session_id)
                if problem:
                    await refuse(sid, problem, 400)
                    return
            await rasa_session_request(sid, data)

        async def message(sid: Text, data: Any = None) -> None:
            problem = check_message_payload(data, self.metadata_key)  # limits.py: message, metadata
            if problem:
                await refuse(sid, problem, 400)
                return
            data = dict(data)
            if sid in bound:
                data["session_id"] = bound[sid]  # never the client's word for it
            elif conversation_token.required():
                await refuse(sid, NO_TOKEN, 401)
                return
            else:
                problem = check_sender_id(data.get("session_id"))
                if problem:
                    await refuse(sid, problem, 400)
                    return
            await rasa_message(sid, data)

        async def disconnect(sid: Text) -> None:
            bound.pop(sid, None)
            if rasa_disconnect is not None:
                await rasa_disconnect(sid)

        handlers["session_request"] = session_request
        handlers["disconnect"] = disconnect
        if rasa_message is not None:
            handlers[self.user_message_evt] = message
