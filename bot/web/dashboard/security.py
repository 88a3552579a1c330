"""Passwords (argon2), signed session cookies, CSRF tokens and the login rate limiter."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any, Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.settings import get_settings, secret

SESSION_COOKIE = "ipt_staff_session"
LOGIN_CSRF_COOKIE = "ipt_staff_login_csrf"
MIN_PASSWORD_LENGTH = 12
# The one answer to every failed sign-in (unknown address, wrong password, locked or inactive account).
LOGIN_FAILED = ("The e-mail address or password is not right, or this account is resting after too many tries. "
                "Try again later, or ask an admin.")

# The password hash of an account that signs in through the identity provider only (no password matches it).
NO_PASSWORD = "!no-password"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def production() -> bool:
    """Whether this is a production deployment: `IPT_ENV=production` (or `ENVIRONMENT=production`)."""
    return get_settings().production


def idle_timeout() -> timedelta:
    return timedelta(minutes=get_settings().staff_idle_minutes)


def session_lifetime() -> timedelta:
    return timedelta(hours=get_settings().staff_session_hours)


def max_failures() -> int:
    return get_settings().staff_lockout_failures


def lockout_time() -> timedelta:
    return timedelta(minutes=get_settings().staff_lockout_minutes)


def cookie_secure(scheme: str) -> bool:
    """`STAFF_COOKIE_SECURE`: "true", "false" or "auto" (default: Secure whenever the request came over https)."""
    setting = get_settings().staff_cookie_secure  # auto, true or false (yes/1, no/0 read as those)
    if setting != "auto":
        return setting == "true"
    return scheme == "https"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses outdated parameters). An account without a password
    (`NO_PASSWORD`: it signs in through the identity provider only) never matches, in the same time."""
    usable = bool(password_hash) and password_hash != NO_PASSWORD
    try:
        _hasher.verify(password_hash if usable else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if not usable:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
    return None


@lru_cache(maxsize=1)
def _secret() -> bytes:
    return secret("STAFF_SESSION_SECRET").encode()


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


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    addresses: set[str] = field(default_factory=set)


class LoginGuard(RateLimiter):
    """The sign-in limits, in memory (the web app runs as one process).

    - Attempts per client address: at most `limit` per 5 minutes (`allow`, as before; 429).
    - Failed passwords per account *from one address*: after `STAFF_LOCKOUT_FAILURES` (5) the
      account is locked for that address only, for `STAFF_LOCKOUT_MINUTES` (15), doubling with each
      further failure (30, 60 ... at most a day). A colleague signing in from another address is not
      affected, so nobody can lock someone else out from one address.
    - Failed passwords per address, whatever the account: after `STAFF_ADDRESS_FAILURES` (10) the
      address waits 1 minute, doubling with each further failure (at most a day; 429).
    - Failed passwords per account from several addresses (guessing spread over machines): once
      failures come from `STAFF_LOCKOUT_ADDRESSES` (3) addresses and reach 5 from each on average
      (15), `account_wide` is True and the caller locks the account itself (an admin can unlock it).
    A failure is forgotten `FORGET` seconds after the last one; a success clears its account and address
    pair. Unknown e-mail addresses are counted exactly like real ones, so the answers never tell them apart.
    """

    FORGET = 24 * 3600.0
    CAP = 24 * 3600.0

    @property
    def limit(self) -> int:
        return get_settings().staff_login_rate if self._limit is None else self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        self._limit = value

    def __init__(self, limit: int | None, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limit, window)  # None: STAFF_LOGIN_RATE
        self.clock = clock
        self._pairs: dict[tuple[str, str], _Failures] = {}
        self._addresses: dict[str, _Failures] = {}
        self._accounts: dict[str, _Failures] = {}

    @staticmethod
    def _account(email: str) -> str:
        return email.strip().lower()[:254]

    def _current(self, table: dict, key: Any, now: float) -> _Failures | None:
        entry = table.get(key)
        if entry is not None and now - entry.last > self.FORGET:
            del table[key]
            return None
        return entry

    def _blocked_for(self, entry: _Failures | None, threshold: int, base: float, now: float) -> float:
        if entry is None or entry.count < threshold:
            return 0.0
        wait = min(self.CAP, base * 2 ** min(entry.count - threshold, 32))
        return max(0.0, entry.last + wait - now)

    def address_wait(self, address: str) -> float:
        """Seconds this address must wait before its next sign-in attempt (0: it may try)."""
        now = self.clock()
        with self._lock:
            entry = self._current(self._addresses, address, now)
            return self._blocked_for(entry, address_failures(), 60.0, now)

    def account_locked(self, email: str, address: str) -> bool:
        """Whether the account is locked for this address (too many failed passwords from it)."""
        now = self.clock()
        with self._lock:
            entry = self._current(self._pairs, (self._account(email), address), now)
            return self._blocked_for(entry, max_failures(), lockout_time().total_seconds(), now) > 0

    def failed(self, email: str, address: str) -> bool:
        """Count a failed sign-in; True when the account should now be locked for every address."""
        now = self.clock()
        account = self._account(email)
        with self._lock:
            for table, key in ((self._pairs, (account, address)), (self._addresses, address),
                               (self._accounts, account)):
                entry = self._current(table, key, now) or table.setdefault(key, _Failures())
                entry.count, entry.last = entry.count + 1, now
                entry.addresses.add(address)
            spread = self._accounts[account]
            if len(spread.addresses) >= lockout_addresses() and spread.count >= max_failures() * lockout_addresses():
                del self._accounts[account]
                return True
            return False

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._pairs.pop((self._account(email), address), None)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._pairs.clear()
            self._addresses.clear()
            self._accounts.clear()


def address_failures() -> int:
    return get_settings().staff_address_failures


def lockout_addresses() -> int:
    return get_settings().staff_lockout_addresses


login_limiter = LoginGuard(None, 300.0)  # STAFF_LOGIN_RATE, read when used
