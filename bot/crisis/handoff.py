"""Opening a crisis hand-off: record it with its staff notifications, even through a database outage.

The record and its outbox rows are written in one transaction. If the database is down, the request
goes to a local spool file (and is logged loudly); the notifier worker writes it once the database
answers again, so nothing is lost.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff import apprise_notify
from bot.handoff.request import HandoffRequest
from bot.settings import get_settings
from bot.store.repository import AppStore

logger = logging.getLogger(__name__)


def notification_kinds() -> list[str]:
    """Which staff notifications are configured: a webhook, e-mail, Apprise, any of them or none."""
    kinds = []
    settings = get_settings()
    if settings.staff_webhook_url:
        kinds.append("webhook")
    if settings.smtp_host and settings.staff_email_to:
        kinds.append("email")
    if settings.value(apprise_notify.SETTING):
        kinds.append(apprise_notify.KIND)
    return kinds


class HandoffSpool:
    """An append-only local file of hand-offs that could not reach the database yet."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or get_settings().handoff_spool)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, request: HandoffRequest) -> None:
        with self._locked(), open(self.path, "a", encoding="utf-8") as spool:
            spool.write(json.dumps(asdict(request)) + "\n")
            spool.flush()
            os.fsync(spool.fileno())

    def pending(self) -> list[HandoffRequest]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [HandoffRequest(**json.loads(line)) for line in lines if line.strip()]

    def drain(self, store: AppStore) -> int:
        """Write spooled hand-offs to the database; keeps what still fails. Returns how many went."""
        with self._locked():
            waiting = self.pending()
            written = 0
            for request in waiting:
                try:
                    store.open_handoff(request, notification_kinds())
                except SQLAlchemyError:
                    break
                written += 1
            remaining = waiting[written:]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(asdict(r)) + "\n" for r in remaining), encoding="utf-8")
            os.replace(tmp, self.path)
        if written:
            logger.warning("Recorded %d crisis hand-off(s) that had waited for the database.", written)
        return written


def open_handoff(
    request: HandoffRequest, store: AppStore | None = None, spool: HandoffSpool | None = None
) -> Optional[int]:
    """Record the hand-off and queue its notifications; spool it if the database is down."""
    store = store or AppStore()
    spool = spool or HandoffSpool()
    try:
        if spool.path.exists():
            spool.drain(store)
        return store.open_handoff(request, notification_kinds())
    except SQLAlchemyError:
        spool.append(request)
        logger.critical(
            "DATABASE DOWN: crisis hand-off for conversation %s (%s) spooled to %s; "
            "staff will be notified when the database is back.",
            request.sender_id, request.category, spool.path,
        )
        return None
