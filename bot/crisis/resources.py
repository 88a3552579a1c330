"""Crisis lines per locale, from `resources.yml`, chosen for the crisis category and for who is
speaking, as text and as the widget's crisis payload.

The lines that fit come first: abuse -> the abuse lines, overdose -> poison control (after the
emergency number), a child -> the child lines, someone worried about another person -> what they can
do and the lines that advise people who are worried about someone; then the general lines. Harm to
others leads with the emergency number. `INTL` is the international fallback where no lines are known.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

from bot.settings import get_settings

logger = logging.getLogger(__name__)

RESOURCES_FILE = Path(__file__).with_name("resources.yml")
DEFAULT_LOCALE = "US"
INTERNATIONAL = "INTL"  # the fallback where no lines are known (short: the hand-off table keeps 8 characters)
LOCALE_ALIASES = {"UK": "GB", "INTERNATIONAL": INTERNATIONAL}

SELF, OTHER, CHILD = "self", "other", "child"  # as bot/crisis/speaker.py
SPEAKERS = (SELF, OTHER, CHILD)
# Line groups: the crisis categories that get lines of their own; every other category is "general".
GENERAL, ABUSE, OVERDOSE, HARM_TO_OTHERS = "general", "abuse", "overdose", "harm_to_others"
GROUPS = (GENERAL, ABUSE, OVERDOSE, HARM_TO_OTHERS)
EMERGENCY_FIRST = (OVERDOSE, HARM_TO_OTHERS)
MAX_LINES = 4  # besides the emergency number: a short list is easier to act on
# The `for:` tags of resources.yml wanted first, in order, per line group and speaker.
WANTED: dict[tuple[str, str], tuple[str, ...]] = {
    (GENERAL, SELF): ("general",),
    (ABUSE, SELF): ("abuse", "general"),
    (OVERDOSE, SELF): ("overdose", "general"),
    (HARM_TO_OTHERS, SELF): ("general",),
    (GENERAL, OTHER): ("worried_other", "general"),
    (ABUSE, OTHER): ("child_abuse", "abuse", "worried_other", "general"),
    (OVERDOSE, OTHER): ("overdose", "worried_other", "general"),
    (HARM_TO_OTHERS, OTHER): ("worried_other", "general"),
    (GENERAL, CHILD): ("child", "general"),
    (ABUSE, CHILD): ("child", "general"),
    (OVERDOSE, CHILD): ("overdose", "child", "general"),
    (HARM_TO_OTHERS, CHILD): ("child", "general"),
}

# The first words of the resources message, per line group and speaker ({emergency} is filled in).
LEAD: dict[tuple[str, str], str] = {
    (GENERAL, SELF): "You can talk to someone right now, free:",
    (ABUSE, SELF): "These lines help people who are being hurt or abused, free and in confidence:",
    (OVERDOSE, SELF): "If you have taken too much of anything, call {emergency} now, even if you feel okay, "
    "and tell someone near you. For advice on what was taken:",
    (HARM_TO_OTHERS, SELF): "If anyone is in danger right now, call {emergency}. If you can, move away from the "
    "person and from anything that could hurt someone. You can talk it through now with:",
    (GENERAL, OTHER): "How you can help: stay with them if it is safe, listen without judging, ask them "
    "directly whether they are thinking of suicide or of hurting themselves, and help them contact one of "
    "these lines. You can call for advice yourself, too:",
    (ABUSE, OTHER): "How you can help: believe them, tell them it is not their fault, and don't confront the "
    "person hurting them. If a child is being hurt, contact your local child protection services, or call "
    "{emergency} if the child is in danger now. These lines advise people who are worried about someone:",
    (OVERDOSE, OTHER): "If they may have taken too much of anything, call {emergency} now if they are hard to "
    "wake, confused or breathing oddly, and stay with them. For advice on what was taken:",
    (HARM_TO_OTHERS, OTHER): "If someone could be hurt right now, call {emergency}, and keep yourself safe first. "
    "These lines can advise you:",
    (GENERAL, CHILD): "You can talk to people whose job is to help children and young people, free:",
    (ABUSE, CHILD): "You can talk to people whose job is to help children and young people, free. "
    "You won't be in trouble:",
    (OVERDOSE, CHILD): "If you or someone with you has swallowed too much medicine or anything else, tell a "
    "grown-up near you now, or call {emergency}. These people can help too:",
    (HARM_TO_OTHERS, CHILD): "If anyone is in danger right now, call {emergency} or tell a grown-up you trust. "
    "You can talk to people whose job is to help children and young people, free:",
}
INTERNATIONAL_LEAD = ("I don't know which helplines serve where you are, but these list free helplines "
                      "in many countries:")


@lru_cache(maxsize=1)
def all_locales() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))


def _code(value: Optional[str]) -> str:
    code = (value or "").strip().upper()
    return LOCALE_ALIASES.get(code, code)


def normalise_locale(value: str | None) -> str:
    """A supported locale code for `value` (case-insensitive, UK means GB); US when unknown."""
    code = _code(value)
    if code in all_locales():
        return code
    if code:
        logger.warning("CRISIS_LOCALE %r is not supported; using %s.", value, DEFAULT_LOCALE)
    return DEFAULT_LOCALE


def configured_locale() -> str:
    return normalise_locale(get_settings().crisis_locale)


def check_locale(value: Optional[str]) -> str:
    """A CRISIS_LOCALE value, checked: an unknown one is an error, never a silent US fallback."""
    if value and _code(value) not in all_locales():
        raise ValueError(f"CRISIS_LOCALE={value!r} is not supported: set one of "
                         f"{', '.join(sorted(all_locales()))} (or UK), or add the country to bot/crisis/resources.yml")
    return normalise_locale(value)


def check_configured_locale() -> str:
    """CRISIS_LOCALE, checked at start-up (bot/settings.py checks it when it reads the environment)."""
    return check_locale(get_settings().crisis_locale)


def line_group(category: Optional[str]) -> str:
    """The line group of a crisis category: abuse, overdose, harm_to_others, or general."""
    return category if category in GROUPS else GENERAL


def speaker_or_self(speaker: Optional[str]) -> str:
    return speaker if speaker in SPEAKERS else SELF


def lines_key(locale: str, category: Optional[str], speaker: Optional[str]) -> str:
    """The value of the `crisis_lines` slot that chooses the resources message, e.g. "GB.abuse.child"."""
    return f"{locale}.{line_group(category)}.{speaker_or_self(speaker)}"


def select_lines(locale: str, category: Optional[str] = None, speaker: Optional[str] = SELF) -> list[dict[str, Any]]:
    """The lines of `locale` that fit the category and the speaker, in the order to show them."""
    group, who = line_group(category), speaker_or_self(speaker)
    lines = all_locales()[locale]["resources"]
    if group != ABUSE:  # an abuse line (also for people worried about someone) only where abuse is the matter
        lines = [line for line in lines if "abuse" not in line.get("for", ()) or "general" in line.get("for", ())]
    chosen: list[dict[str, Any]] = []
    for tag in WANTED[(group, who)]:
        chosen += [line for line in lines if tag in line.get("for", ()) and line not in chosen]
    return chosen[:MAX_LINES]


def _digits(number: str) -> str:
    return re.sub(r"[^\d+]", "", number)


def _describe(resource: dict[str, Any]) -> str:
    ways = []
    if resource.get("phone"):
        ways.append(f"call {resource['phone']}")
    if resource.get("sms"):
        keyword = f" {resource['keyword']} to" if resource.get("keyword") else ""
        ways.append(f"text{keyword} {resource['sms']}")
    if resource.get("url") and not ways:
        ways.append(resource["url"])
    return f"{resource['name']}: {' or '.join(ways)} ({resource['hours']})"


def resources_text(locale: str, category: Optional[str] = None, speaker: Optional[str] = SELF) -> str:
    """The lines for `locale`, category and speaker as plain text, for text-only channels and staff."""
    info = all_locales()[locale]
    group, who = line_group(category), speaker_or_self(speaker)
    emergency = info["emergency"]
    lead = LEAD[(group, who)].format(emergency=emergency)
    if locale == INTERNATIONAL:  # the last sentence (the one that introduces the lines) is replaced
        before = lead.rsplit(". ", 1)
        lead = f"{before[0]}. {INTERNATIONAL_LEAD}" if len(before) == 2 else INTERNATIONAL_LEAD
    text = lead + "\n- " + "\n- ".join(_describe(r) for r in select_lines(locale, category, speaker))
    if "{emergency}" not in LEAD[(group, who)]:
        someone = "anyone is" if who == OTHER else "you are"
        text += f"\nIf {someone} in immediate danger, call {emergency}."
    return text


def _emergency_card(locale: str) -> dict[str, Any]:
    emergency = all_locales()[locale]["emergency"]
    card = {"name": "Emergency services", "phone": emergency, "hours": "24/7", "emergency": True}
    first = emergency.split(" ")[0]
    if first[:1].isdigit():
        card["tel"] = f"tel:{first}"
    return card


def resources_payload(locale: str, category: Optional[str] = None,
                      speaker: Optional[str] = SELF) -> list[dict[str, Any]]:
    """The lines for the crisis card, with tel: and sms: links; the emergency card last, or first for
    an overdose or harm to others."""
    cards = []
    for resource in select_lines(locale, category, speaker):
        card = {"name": resource["name"], "hours": resource["hours"], "for": list(resource.get("for", ()))}
        if resource.get("phone"):
            card["phone"] = resource["phone"]
            card["tel"] = "tel:" + _digits(resource["phone"])
        if resource.get("sms"):
            card["sms"] = resource["sms"]
            body = f"?body={resource['keyword']}" if resource.get("keyword") else ""
            card["sms_link"] = "sms:" + _digits(resource["sms"]) + body
            if resource.get("keyword"):
                card["keyword"] = resource["keyword"]
        if resource.get("url"):
            card["url"] = resource["url"]
        cards.append(card)
    if line_group(category) in EMERGENCY_FIRST:
        return [_emergency_card(locale)] + cards
    return cards + [_emergency_card(locale)]
