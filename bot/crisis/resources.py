"""Crisis resources per locale, from `resources.yml`, as text and as the widget's crisis payload."""
from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

RESOURCES_FILE = Path(__file__).with_name("resources.yml")
DEFAULT_LOCALE = "US"
LOCALE_ALIASES = {"UK": "GB"}


@lru_cache(maxsize=1)
def all_locales() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))


def normalise_locale(value: str | None) -> str:
    """A supported locale code for `value` (case-insensitive, UK means GB); US when unknown."""
    code = (value or "").strip().upper()
    code = LOCALE_ALIASES.get(code, code)
    if code in all_locales():
        return code
    if code:
        logger.warning("CRISIS_LOCALE %r is not supported; using %s.", value, DEFAULT_LOCALE)
    return DEFAULT_LOCALE


def configured_locale() -> str:
    return normalise_locale(os.environ.get("CRISIS_LOCALE"))


def check_configured_locale() -> str:
    """CRISIS_LOCALE, checked at start-up: an unknown value is an error, never a silent US fallback."""
    value = os.environ.get("CRISIS_LOCALE")
    code = LOCALE_ALIASES.get((value or "").strip().upper(), (value or "").strip().upper())
    if value and code not in all_locales():
        raise ValueError(f"CRISIS_LOCALE={value!r} is not supported: set one of "
                         f"{', '.join(sorted(all_locales()))} (or UK), or add the country to bot/crisis/resources.yml")
    return normalise_locale(value)


def _describe(resource: dict[str, Any]) -> str:
    ways = []
    if resource.get("phone"):
        ways.append(f"call {resource['phone']}")
    if resource.get("sms"):
        keyword = f" {resource['keyword']} to" if resource.get("keyword") else ""
        ways.append(f"text{keyword} {resource['sms']}")
    return f"{resource['name']}: {' or '.join(ways)} ({resource['hours']})"


def resources_text(locale: str) -> str:
    """The resources of `locale` as plain text, for text-only channels and staff notices."""
    info = all_locales()[locale]
    lines = [_describe(r) for r in info["resources"]]
    return (
        "You can talk to someone right now, free and at any time:\n- "
        + "\n- ".join(lines)
        + f"\nIf you are in immediate danger, call {info['emergency']}."
    )


def resources_payload(locale: str) -> list[dict[str, Any]]:
    """The resources of `locale` for the crisis card, with tel: and sms: links."""
    info = all_locales()[locale]
    cards = []
    for resource in info["resources"]:
        card = {"name": resource["name"], "hours": resource["hours"]}
        if resource.get("phone"):
            card["phone"] = resource["phone"]
            card["tel"] = "tel:" + resource["phone"].replace(" ", "").replace("-", "")
        if resource.get("sms"):
            card["sms"] = resource["sms"]
            body = f"?body={resource['keyword']}" if resource.get("keyword") else ""
            card["sms_link"] = "sms:" + resource["sms"].replace(" ", "") + body
            if resource.get("keyword"):
                card["keyword"] = resource["keyword"]
        cards.append(card)
    emergency = info["emergency"].split(" ")[0]
    cards.append({"name": "Emergency services", "phone": info["emergency"],
                  "tel": f"tel:{emergency}", "hours": "24/7", "emergency": True})
    return cards
