"""Delivers staff notifications from the outbox: a signed JSON webhook, an e-mail and/or Apprise.

Each notification is claimed by one worker, sent, and marked delivered; a failure is retried with
exponential back-off, so nothing is lost while a receiver is down. Receivers can de-duplicate on
the `X-IPT-Delivery` header (the outbox id) in the rare case a delivery is repeated after a crash.

Configuration (environment): STAFF_WEBHOOK_URL, STAFF_WEBHOOK_SECRET (HMAC-SHA256 key);
SMTP_HOST, SMTP_PORT (587), SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS (true), SMTP_FROM,
STAFF_EMAIL_TO (comma-separated); PUBLIC_WEB_URL for the dashboard link. Escalations of hand-offs
nobody took in time (`bot/handoff/escalation.py`) go to ONCALL_WEBHOOK_URL (ONCALL_WEBHOOK_SECRET,
else STAFF_WEBHOOK_SECRET) and/or ONCALL_EMAIL_TO, or else to the staff targets, marked as escalations.
NOTIFY_APPRISE_URLS adds Slack, Teams, PagerDuty, SMS ... through Apprise (`bot/handoff/apprise_notify.py`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.crisis.handoff import HandoffSpool
from bot.handoff import apprise_notify, escalation
from bot.settings import get_settings
from bot.store.repository import AppStore, OutboxRecord

logger = logging.getLogger(__name__)

BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 3600
SEND_TIMEOUT_SECONDS = 10
STALE_CLAIM = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed tries: 5 s, 10 s, 20 s ... at most 1 h."""
    return timedelta(seconds=min(BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


def sign(body: bytes, secret: str, timestamp: str) -> str:
    """The webhook signature: hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _required(name: str) -> str:
    """A target's setting; a notification queued for a target no longer configured fails (and is retried)."""
    value = get_settings().value(name)
    if not value:
        raise KeyError(f"{name} is not set")
    return value


def _dashboard_link(payload: dict[str, Any]) -> str:
    return f"{get_settings().web_url}/staff/handoffs/{payload['handoff_id']}"


def _post_webhook(item: OutboxRecord, url: str, secret: str | None) -> None:
    payload = dict(item.payload, dashboard_url=_dashboard_link(item.payload))
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-IPT-Delivery": str(item.id),
        "X-IPT-Timestamp": timestamp,
    }
    if secret:
        headers["X-IPT-Signature"] = sign(body, secret, timestamp)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered {response.status}")


def send_webhook(item: OutboxRecord) -> None:
    settings = get_settings()
    _post_webhook(item, _required("STAFF_WEBHOOK_URL"), settings.value("STAFF_WEBHOOK_SECRET"))


def send_oncall_webhook(item: OutboxRecord) -> None:
    settings = get_settings()
    _post_webhook(item, _required("ONCALL_WEBHOOK_URL"),
                  settings.value("ONCALL_WEBHOOK_SECRET") or settings.value("STAFF_WEBHOOK_SECRET"))


def email_message(item: OutboxRecord, to: str) -> EmailMessage:
    """The e-mail for a notification: what happened and the dashboard link, never the person's words."""
    payload = item.payload
    message = EmailMessage()
    message["From"] = get_settings().smtp_from
    message["To"] = to
    message["X-IPT-Delivery"] = str(item.id)
    if payload.get("escalation"):
        message["Subject"] = (f"[IPT assistant] ESCALATION: hand-off #{payload['handoff_id']} not taken for "
                              f"{payload['waited_minutes']} min "
                              f"({payload['category']}, priority {payload['priority']})")
        safe = ("\nThe person has since answered that they are safe right now; it still waits for a person.\n"
                if payload.get("person_said_safe") else "")
        message.set_content(
            "ESCALATION: a crisis hand-off has not been taken by anyone from the clinic.\n"
            f"It has waited {payload['waited_minutes']} minutes (opened {payload['created_at']}; "
            f"category {payload['category']}; priority {payload['priority']}, the number of risk messages; "
            f"via {payload['channel']}).\n{safe}\n"
            f"Open the hand-off: {_dashboard_link(payload)}\n"
        )
        return message
    message["Subject"] = f"[IPT assistant] Crisis hand-off #{payload['handoff_id']} ({payload['category']})"
    message.set_content(
        "A person in a conversation with the IPT assistant may be in crisis "
        f"({payload['category']}, via {payload['channel']}, at {payload['created_at']}).\n"
        "They have been given crisis resources and are waiting for a person to join.\n\n"
        f"Open the hand-off: {_dashboard_link(payload)}\n"
    )
    return message


def _send_mail(message: EmailMessage) -> None:
    settings = get_settings()
    with smtplib.SMTP(_required("SMTP_HOST"), settings.smtp_port, timeout=SEND_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.value("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def send_email(item: OutboxRecord) -> None:
    _send_mail(email_message(item, _required("STAFF_EMAIL_TO")))


def send_oncall_email(item: OutboxRecord) -> None:
    _send_mail(email_message(item, _required("ONCALL_EMAIL_TO")))


def send_apprise(item: OutboxRecord) -> None:
    apprise_notify.send(item.payload, _dashboard_link(item.payload))


SENDERS: dict[str, Callable[[OutboxRecord], None]] = {
    "webhook": send_webhook, "email": send_email, apprise_notify.KIND: send_apprise,
    escalation.ONCALL_WEBHOOK: send_oncall_webhook, escalation.ONCALL_EMAIL: send_oncall_email,
}


def deliver_due(store: AppStore, now: datetime | None = None) -> dict[str, int]:
    """One pass over the outbox: send what is due; returns counts of delivered and failed."""
    now = now or datetime.now(timezone.utc)
    store.release_stale_claims(now - STALE_CLAIM)
    counts = {"delivered": 0, "failed": 0}
    for item in store.claim_due_outbox(now):
        try:
            SENDERS[item.kind](item)
        except Exception as error:  # any failure of the receiver: retry later
            retry_at = now + backoff(item.attempts)
            logger.warning("Staff %s notification %d failed (try %d): %s; retrying at %s",
                           item.kind, item.id, item.attempts, error, retry_at.isoformat())
            store.finish_outbox(item.id, f"{type(error).__name__}: {error}", retry_at)
            counts["failed"] += 1
        else:
            store.finish_outbox(item.id, None, None)
            counts["delivered"] += 1
    return counts


def run_once(store: AppStore, spool: HandoffSpool, settings: escalation.EscalationSettings,
             now: datetime | None = None) -> dict[str, int]:
    """One pass of the worker: record spooled hand-offs, escalate those not taken in time, then
    deliver due notifications (an escalation goes out in the same pass)."""
    if spool.path.exists() and spool.pending():
        spool.drain(store)
    escalated = escalation.escalate_overdue(store, now, settings)
    return dict(deliver_due(store, now), escalated=len(escalated))


def run_forever(interval: float = 2.0, store: AppStore | None = None) -> None:
    """The worker loop: drain the hand-off spool, escalate, then deliver due notifications."""
    store = store or AppStore()
    spool = HandoffSpool()
    settings = escalation.load_settings()
    logger.info("Staff notifier started (every %.1f s); escalation %s.", interval,
                f"after {settings.after}" if settings.enabled else "off")
    while True:
        try:
            run_once(store, spool, settings)
        except SQLAlchemyError as error:
            logger.error("Staff notifier cannot reach the database: %s", error)
        time.sleep(interval)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_forever(get_settings().notifier_interval)
