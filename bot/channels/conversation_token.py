"""Server-issued conversation ids for the web channels (REST and socket.io).

The web app (`POST /chat/session`, bot/web/chat_session.py) makes a random id and a signed token for
it: a JWT (HS256) whose `sub` is the id, with an expiry (CONVERSATION_TOKEN_DAYS, default 90). The
Rasa server's REST and socket.io channels take the conversation id from a valid token only, so
nobody reaches a conversation whose token they do not hold (and no SMS, WhatsApp or Telegram
conversation: their ids are never issued here).

The key is CONVERSATION_TOKEN_SECRET; else one derived from RASA_API_TOKEN (HMAC-SHA256, so it is not
Rasa's own JWT key), which the web app and every Rasa server already share (runner, compose,
Kubernetes); else a random one generated once under var/conversation_token_secret (created 0600).
Every process that issues or checks tokens must see the same key.

`REQUIRE_CONVERSATION_TOKEN=false` (a developer's machine, the older tests) lets a request without a
token name its conversation as before; a token that is sent is still checked.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Optional

import jwt

from bot import PROJECT_ROOT
from bot.secret_file import secret_in_file
from bot.settings import get_settings

ALGORITHM = "HS256"
ISSUER = "ipt-web"
RENEW_WITHIN_DAYS = 30  # a token with less left than this is replaced (same id) when presented
ROUTING_HEADER = "X-Conversation-Key"
SECRET_FILE = "conversation_token_secret"

_cache: dict[str, bytes] = {}


def _secret() -> bytes:
    settings = get_settings()
    value = settings.value("CONVERSATION_TOKEN_SECRET")
    if value:
        return value.encode()
    shared = settings.value("RASA_API_TOKEN")
    if shared:
        return hmac.new(shared.encode(), b"ipt conversation tokens", hashlib.sha256).hexdigest().encode()
    if "file" not in _cache:
        _cache["file"] = secret_in_file(PROJECT_ROOT / "var" / SECRET_FILE).encode()
    return _cache["file"]


def lifetime_seconds() -> int:
    return int(get_settings().conversation_token_days * 86400)  # more than 0 (bot/settings.py)


def required() -> bool:
    """Whether the web channels refuse a message without a token (default: yes)."""
    return get_settings().require_conversation_token


def new_conversation_id() -> str:
    return secrets.token_hex(16)  # 128 random bits, 32 hex characters (the widget's old id shape)


def routing_key(conversation_id: str) -> str:
    """What a proxy hashes to keep a conversation on one Rasa server: a keyed hash, never the id."""
    return hmac.new(_secret(), b"route:" + conversation_id.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class Issued:
    conversation_id: str
    token: str
    expires_at: int

    def as_json(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "token": self.token, "expires_at": self.expires_at,
                "routing_key": routing_key(self.conversation_id), "routing_header": ROUTING_HEADER}


def issue(conversation_id: Optional[str] = None, now: Optional[float] = None) -> Issued:
    now = int(now if now is not None else time.time())
    conversation_id = conversation_id or new_conversation_id()
    expires = now + lifetime_seconds()
    token = jwt.encode({"sub": conversation_id, "iat": now, "exp": expires, "iss": ISSUER},
                       _secret(), algorithm=ALGORITHM)
    return Issued(conversation_id, token, expires)


def subject(token: Any) -> Optional[str]:
    """The conversation id a valid, unexpired token of ours names, else None."""
    if not isinstance(token, str) or not token or len(token) > 2048:
        return None
    try:
        claims = jwt.decode(token, _secret(), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


def renew(token: Any, now: Optional[float] = None) -> Optional[Issued]:
    """For a valid token: a new one for the same id when it has less than RENEW_WITHIN_DAYS left (else the
    same token); None for an invalid or expired one."""
    conversation_id = subject(token)
    if conversation_id is None:
        return None
    now = now if now is not None else time.time()
    expires = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    if expires - now > RENEW_WITHIN_DAYS * 86400:
        return Issued(conversation_id, token, expires)
    return issue(conversation_id, now)


def bearer(authorization: Optional[str]) -> Optional[str]:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
