"""`POST /chat/session`: the chat widget's conversation id and its token (bot/channels/conversation_token.py).

Body (optional): `{"token": "<the token this device holds>"}`.
- no token, or one that is invalid or expired: a new random conversation id and its token;
- a valid token: the same conversation, with a new token when the old one has less than 30 days left.

Answer: `{"conversation_id", "token", "expires_at", "routing_key", "routing_header"}`, never cached.
The widget sends the token to the Rasa server (REST `Authorization: Bearer`, socket.io `session_request`)
and the routing key (not the id) in the header a proxy hashes on.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.channels import conversation_token

router = APIRouter()
logger = logging.getLogger(__name__)


@router.post("/chat/session")
async def chat_session(request: Request) -> JSONResponse:
    presented = None
    try:
        body = await request.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("token"), str):
        presented = body["token"]
    issued = conversation_token.renew(presented) if presented else None
    if issued is None:
        if presented:
            logger.info("A chat session token was invalid or expired: a new conversation was issued.")
        issued = conversation_token.issue()
    return JSONResponse(issued.as_json(), headers={"Cache-Control": "no-store"})
