"""Staff notifications through Apprise: Slack, Microsoft Teams, PagerDuty, SMS gateways, Matrix and
about a hundred more services, from one setting.

`NOTIFY_APPRISE_URLS`: Apprise URLs separated by commas or spaces, e.g.
`slack://T000/B000/XXXX, msteams://team/token_a/token_b/token_c, pagerduty://integration@apikey`
(one per service; see https://github.com/caronc/apprise/wiki). Unset: no Apprise notifications.

The notifier worker (`bot.crisis.notifier`) delivers them from the same outbox as the webhook and the
e-mail (kind "apprise"), with the same retries: if any URL fails, the delivery is retried later for
all of them, so a service that already had it may get it again. Like the e-mail, the message says
what happened (category in plain words, since when it waits; for an escalation also the priority and
the minutes waited; the channel) and links to the dashboard; it never holds the person's words.
Errors name the service by Apprise's privacy URL (secrets masked).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Optional

from bot.settings import Settings, get_settings
from bot.store.staff_repository import category_label

KIND = "apprise"
SETTING = "NOTIFY_APPRISE_URLS"


def configured_urls(environ: Optional[Mapping[str, str]] = None) -> list[str]:
    """The Apprise URLs of `NOTIFY_APPRISE_URLS`, split the way Apprise splits them."""
    raw = (get_settings() if environ is None else Settings.from_environ(environ)).value(SETTING)
    if not raw:
        return []
    from apprise.utils.parse import parse_urls

    return parse_urls(raw)


def check_urls(environ: Optional[Mapping[str, str]] = None) -> None:
    """For start-up: raises ValueError naming the URL Apprise cannot send to (by its scheme only)."""
    import apprise

    for number, url in enumerate(configured_urls(environ), start=1):
        if not apprise.Apprise().add(url):
            scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
            raise ValueError(f"{SETTING}: URL {number} ({scheme}://...) is not one Apprise can send to; "
                             "write Apprise URLs such as slack://..., msteams://..., pagerduty://..., "
                             "json://host/path (see https://github.com/caronc/apprise/wiki)")


def _utc(iso: str) -> str:
    when = datetime.fromisoformat(iso)
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def message(payload: dict[str, Any], dashboard_url: str) -> tuple[str, str]:
    """Title and body of the notification: what happened and the dashboard link, never the person's words."""
    number, category = payload["handoff_id"], category_label(payload.get("category"))
    if payload.get("escalation"):
        title = (f"ESCALATION: crisis hand-off #{number} not taken for {payload['waited_minutes']} min "
                 f"({category})")
        safe = (" The person has since answered that they are safe right now; it still waits for a person."
                if payload.get("person_said_safe") else "")
        body = (f"Nobody from the clinic has taken this crisis hand-off. Category: {category}; priority "
                f"{payload.get('priority', 1)} (the number of risk messages); waiting since "
                f"{_utc(payload['created_at'])} ({payload['waited_minutes']} min); via {payload.get('channel')}."
                f"{safe}\nOpen the hand-off: {dashboard_url}")
        return title, body
    title = f"Crisis hand-off #{number} ({category})"
    body = (f"A person talking with the IPT assistant may be in crisis. Category: {category}; waiting for "
            f"someone from the clinic to join since {_utc(payload['created_at'])}; via {payload.get('channel')}. "
            f"They have been given crisis resources.\nOpen the hand-off: {dashboard_url}")
    return title, body


def send(payload: dict[str, Any], dashboard_url: str) -> None:
    """Send one notification to every configured service; raises OSError naming those that failed."""
    import apprise

    urls = configured_urls()
    if not urls:
        raise ValueError(f"{SETTING} is empty, but an Apprise notification was queued")
    title, body = message(payload, dashboard_url)
    kind = apprise.NotifyType.FAILURE if payload.get("escalation") else apprise.NotifyType.WARNING
    failed = []
    for url in urls:
        service = apprise.Apprise()
        if not service.add(url):
            raise ValueError(f"{SETTING}: a URL Apprise cannot send to (check the setting)")
        if not service.notify(body=body, title=title, notify_type=kind, body_format=apprise.NotifyFormat.TEXT):
            failed.append(service[0].url(privacy=True))
    if failed:
        raise OSError(f"Apprise could not deliver to {len(failed)} of {len(urls)}: {', '.join(failed)}")
