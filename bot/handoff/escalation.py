"""Escalation: a hand-off nobody has taken within `HANDOFF_ESCALATE_AFTER_MINUTES` gets a second
notification, once, to the on-call target.

Settings (environment, checked at start-up; a bad value stops it with a sentence saying what to set):
- `HANDOFF_ESCALATE_AFTER_MINUTES`: whole minutes a hand-off may wait (requested, neither taken nor
  closed) before it is escalated; default 10; 0 turns escalation off.
- `ONCALL_WEBHOOK_URL` (http or https; signed with `ONCALL_WEBHOOK_SECRET`, else `STAFF_WEBHOOK_SECRET`)
  and/or `ONCALL_EMAIL_TO` (comma-separated; needs `SMTP_HOST`): where the escalation goes. With
  neither set it goes to the normal staff targets (`STAFF_WEBHOOK_URL`, `STAFF_EMAIL_TO`,
  `NOTIFY_APPRISE_URLS`), marked as an escalation.

The check runs in the notifier worker (`bot.crisis.notifier.run_once`). The wait is counted from when
the hand-off was opened (a spooled one: from when the person asked), also out of clinic hours. Each
hand-off is escalated at most once, even with several workers (see
`AppStore.escalate_overdue_handoffs`); a later risk message merged into it does not escalate it again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping, Optional

from bot.crisis.handoff import notification_kinds
from bot.handoff import apprise_notify
from bot.settings import Settings, get_settings
from bot.store.repository import AppStore

logger = logging.getLogger(__name__)

ONCALL_WEBHOOK, ONCALL_EMAIL = "oncall_webhook", "oncall_email"


@dataclass(frozen=True)
class EscalationSettings:
    after: Optional[timedelta]  # None: escalation is off
    oncall_webhook_url: Optional[str] = None
    oncall_email_to: Optional[str] = None

    @property
    def enabled(self) -> bool:
        return self.after is not None

    def kinds(self, staff_kinds: list[str]) -> list[str]:
        """The outbox kinds of an escalation: the on-call targets, or else the staff's own."""
        oncall = [kind for kind, target in ((ONCALL_WEBHOOK, self.oncall_webhook_url),
                                            (ONCALL_EMAIL, self.oncall_email_to)) if target]
        return oncall or list(staff_kinds)


def load_settings(environ: Optional[Mapping[str, str]] = None) -> EscalationSettings:
    """The escalation settings of `environ` (default: this process's settings); a bad value is a ValueError
    saying what to set (bot/settings.py checks them: whole minutes, an http(s) address, e-mail addresses
    with SMTP_HOST)."""
    settings = get_settings() if environ is None else Settings.from_environ(environ)
    minutes = settings.handoff_escalate_after_minutes
    return EscalationSettings(timedelta(minutes=minutes) if minutes else None, settings.oncall_webhook_url,
                              settings.oncall_email_to)


def check_settings() -> None:
    """For start-up: raises ValueError when an escalation setting or an Apprise URL is wrong."""
    load_settings()
    apprise_notify.check_urls()


def escalate_overdue(store: AppStore, now: Optional[datetime] = None,
                     settings: Optional[EscalationSettings] = None) -> list[int]:
    """Escalate the hand-offs that waited too long; returns the ids this call escalated."""
    settings = settings or load_settings()
    if not settings.enabled:
        return []
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    kinds = settings.kinds(notification_kinds())
    escalated = store.escalate_overdue_handoffs(now - settings.after, now, kinds)
    if escalated:
        minutes = int(settings.after.total_seconds() // 60)
        if kinds:
            logger.warning("Escalated hand-off(s) %s: not taken within %d minutes (notified: %s).",
                           ", ".join(map(str, escalated)), minutes, ", ".join(kinds))
        else:
            logger.error("Hand-off(s) %s not taken within %d minutes, and no notification target is "
                         "configured (ONCALL_WEBHOOK_URL, ONCALL_EMAIL_TO, STAFF_WEBHOOK_URL, STAFF_EMAIL_TO, "
                         "NOTIFY_APPRISE_URLS).",
                         ", ".join(map(str, escalated)), minutes)
    return escalated
