"""Passwords (argon2), signed session cookies, CSRF tokens and the login rate limiter."""
from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.runner import secret_from_env_or_file

SESSION_COOKIE = "ipt_staff_session"
LOGIN_CSRF_COOKIE = "ipt_staff_login_csrf"
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def idle_timeout() -> timedelta:
    return timedelta(minutes=float(os.environ.get("STAFF_IDLE_MINUTES", "30")))


def session_lifetime() -> timedelta:
    return timedelta(hours=float(os.environ.get("STAFF_SESSION_HOURS", "12")))


def max_failures() -> int:
    return int(os.environ.get("STAFF_LOCKOUT_FAILURES", "5"))


def lockout_time() -> timedelta:
    return timedelta(minutes=float(os.environ.get("STAFF_LOCKOUT_MINUTES", "15")))


def cookie_secure(scheme: str) -> bool:
    """`STAFF_COOKIE_SECURE`: "true", "false" or "auto" (default: Secure whenever the request came over https)."""
    setting = os.environ.get("STAFF_COOKIE_SECURE", "auto").lower()
    if setting in ("1", "true", "yes"):
        return True
    if setting in ("0", "false", "no"):
        return False
    return scheme == "https"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses outdated parameters)."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if password_hash is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
    return None


@lru_cache(maxsize=1)
def _secret() -> bytes:
    return secret_from_env_or_file("STAFF_SESSION_SECRET", "staff_session_secret").encode()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def sign(value: str) -> str:
    mac = hmac.new(_secret(), value.encode(), "sha256").hexdigest()
    return f"{value}.{mac}"


def unsign(signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    expected = hmac.new(_secret(), value.encode(), "sha256").hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))


class RateLimiter:
    """At most `limit` attempts per `window` seconds per key (the client address), in memory."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


login_limiter = RateLimiter(int(os.environ.get("STAFF_LOGIN_RATE", "10")), 300.0)
