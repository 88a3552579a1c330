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

Before NLU (bot/channels/limits.py): a `session_request` or a message with a missing, over-long or
other-channel-shaped session id is refused with an `ipt_error` event `{"error": ..., "status": 400}`
to that connection only (it joins no room, nothing is processed); a message over MAX_MESSAGE_CHARS
gets a kind reply and is kept, unparsed.
"""
from __future__ import annotations

import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.limits import check_sender_id, size_guard
from bot.handoff import presence
from bot.store.turn_status import begin_turn, end_turn

ERROR_EVENT = "ipt_error"
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


class SocketIOChannel(SocketIOInput):
    """`socketio` channel (same name, path and settings) using `SocketIOJsonOutput`.

    `jwt_key` and `jwt_method` may also come from SOCKETIO_JWT_KEY and SOCKETIO_JWT_METHOD: then
    a connection needs `auth: {token: <JWT signed with that key>}` (Rasa checks it on connect).
    """

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        if not credentials.get("jwt_key") and os.environ.get("SOCKETIO_JWT_KEY"):
            credentials["jwt_key"] = os.environ["SOCKETIO_JWT_KEY"]
            credentials.setdefault("jwt_method", os.environ.get("SOCKETIO_JWT_METHOD", "HS256"))
        return super().from_credentials(credentials)

    def get_output_channel(self) -> Optional[OutputChannel]:
        if super().get_output_channel() is None:
            return None
        return SocketIOJsonOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = size_guard(on_new_message)

        async def with_json_output(message: UserMessage) -> None:
            message.output_channel = SocketIOJsonOutput(self.sio, self.bot_message_evt)
            status, token = begin_turn()
            try:
                await on_new_message(message)
            finally:
                end_turn(token)
            if status.store_failed and message.sender_id:
                await self.sio.emit(ERROR_EVENT, {"error": STORE_UNAVAILABLE, "reason": "store-unavailable",
                                                  "retry": True}, room=message.sender_id)

        webhook = super().blueprint(with_json_output)
        self._check_session_ids()
        return webhook

    def _check_session_ids(self) -> None:
        """Wrap Rasa's `session_request` and message handlers with the session id check."""
        handlers = self.sio.handlers[self.namespace or "/"]

        def checked(handler: Callable[..., Awaitable[Any]], required: bool) -> Callable[..., Awaitable[Any]]:
            async def handle(sid: Text, data: Any = None) -> None:
                if data is not None and not isinstance(data, dict):
                    await self.sio.emit(ERROR_EVENT, {"error": "expected a JSON object", "status": 400}, room=sid)
                    return
                session_id = (data or {}).get("session_id")
                if required or session_id is not None:
                    problem = check_sender_id(session_id)
                    if problem:
                        await self.sio.emit(ERROR_EVENT, {"error": problem, "status": 400}, room=sid)
                        return
                await handler(sid, data)

            return handle

        handlers["session_request"] = checked(handlers["session_request"], required=False)
        if self.session_persistence:
            handlers[self.user_message_evt] = checked(handlers[self.user_message_evt], required=True)
