"""Tokens in the closeness-circle picture's address (`/journey/circle/<token>.svg`).

The picture is public to whoever has its address (a chat app shows it without our cookies), so the
token is the secret: 32 random URL-safe characters, then `-` and the issue time (8 hex digits,
seconds since 1970). It expires after `PICTURE_TOKEN_DAYS` (7 by default) and is replaced by a new
one on "start over" and on deletion (the journey row, and its token, are gone). A token without an
issue time (made before tokens expired) counts as expired. The time in the token cannot be
changed by anyone: the address works only for the exact token stored with the journey.
"""
from __future__ import annotations

import re
import secrets
import time
from typing import Optional

from bot.settings import get_settings

RENEW_WITHIN_SECONDS = 24 * 3600  # a picture shown in the chat works for at least a day
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}-(?P<issued>[0-9a-f]{8})")


def lifetime_seconds() -> int:
    """PICTURE_TOKEN_DAYS (whole days, kept between 1 and 365; 7 when unset) in seconds."""
    return min(max(get_settings().picture_token_days, 1), 365) * 24 * 3600


def new_token(now: Optional[float] = None) -> str:
    return f"{secrets.token_urlsafe(24)}-{int(time.time() if now is None else now):08x}"


def issued_at(token: Optional[str]) -> Optional[int]:
    match = _TOKEN.fullmatch(token or "")
    return int(match.group("issued"), 16) if match else None


def seconds_left(token: Optional[str], now: Optional[float] = None) -> float:
    """How long the token still works (<= 0: expired, or no token)."""
    issued = issued_at(token)
    if issued is None:
        return 0
    return issued + lifetime_seconds() - (time.time() if now is None else now)


def expired(token: Optional[str], now: Optional[float] = None) -> bool:
    return seconds_left(token, now) <= 0


def renewed(token: Optional[str], now: Optional[float] = None, within: float = 0) -> str:
    """`token` while it works for more than `within` seconds, else a new one."""
    return token if token and seconds_left(token, now) > within else new_token(now)
