"""Which country's crisis lines a conversation gets (decided in the Rasa server by the crisis policy).

In this order:
1. the message metadata: `{"locale": "en-GB"}` (the widget's `data-locale`) or `{"country": "GB"}`,
   from the latest message of the conversation that carried one (a bare "GB" counts; a bare
   language such as "en" or "de" names no country);
2. the country code of the sender's phone number on Twilio SMS / WhatsApp (`+44...` -> GB), read
   with the `phonenumbers` library;
3. the configured `CRISIS_LOCALE`.

A real country we have no lines for (metadata "de-DE", a `+49` number) gets `INTL`, the international
fallback (a helpline directory and "call your local emergency number"). A value that names no
country ("en", "xx", a malformed number) is ignored and the next source decides.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

import phonenumbers

from bot.crisis.resources import INTERNATIONAL, LOCALE_ALIASES, all_locales, configured_locale

PHONE_CHANNELS = ("twilio",)
_REGION = re.compile(r"^[a-z]{2,3}(?:-[a-z]{4})?[-_]([a-z]{2})(?:[-_].*)?$", re.IGNORECASE)
_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)  # ISO 3166 codes with a phone plan: every country


def locale_for_country(country: Optional[str]) -> Optional[str]:
    """Our locale for an ISO country code: its own lines, INTERNATIONAL for another real country,
    None when `country` names no country."""
    code = (country or "").strip().upper()
    code = LOCALE_ALIASES.get(code, code)
    if code in all_locales() and code != INTERNATIONAL:
        return code
    if code in _COUNTRIES:
        return INTERNATIONAL
    return None


def country_of_tag(tag: Optional[str]) -> Optional[str]:
    """The region of a language tag ("en-GB", "en_gb", "fr-CA", "zh-Hant-TW"), or a bare country code."""
    tag = (tag or "").strip()
    match = _REGION.match(tag)
    if match:
        return match.group(1).upper()
    if len(tag) == 2 and tag.isalpha() and tag.isupper():
        return tag  # a bare "GB" (a region is written in capitals); a bare "en" or "de" is a language
    return None


def locale_from_metadata(metadata: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not isinstance(metadata, Mapping):
        return None
    country = metadata.get("country")
    if isinstance(country, str) and locale_for_country(country):
        return locale_for_country(country)
    tag = metadata.get("locale")
    return locale_for_country(country_of_tag(tag)) if isinstance(tag, str) else None


def country_of_phone(sender_id: Optional[str]) -> Optional[str]:
    """The country of a Twilio sender ("+447700900123", "whatsapp:+61412345678"), or None."""
    number = (sender_id or "").strip()
    for prefix in ("twilio:", "whatsapp:"):
        if number.lower().startswith(prefix):
            number = number[len(prefix):]
    if not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)  # +1 and +44 numbers: by their area code
    if not region or region == phonenumbers.UNKNOWN_REGION:
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    return None if region == phonenumbers.UNKNOWN_REGION else region


def conversation_locale(metadata_newest_first: Iterable[Optional[Mapping[str, Any]]],
                        sender_id: Optional[str] = None, channel: Optional[str] = None) -> str:
    """The locale for a conversation: metadata, then the phone number, then CRISIS_LOCALE."""
    for metadata in metadata_newest_first:
        locale = locale_from_metadata(metadata)
        if locale:
            return locale
    if channel in PHONE_CHANNELS or (sender_id or "").lower().startswith(("whatsapp:", "twilio:")):
        locale = locale_for_country(country_of_phone(sender_id))
        if locale:
            return locale
    return configured_locale()


def tracker_locale(tracker: Any) -> str:
    """`conversation_locale` for a Rasa tracker (the metadata of its user messages, newest first)."""
    from rasa.shared.core.events import UserUttered

    metadata = (event.metadata for event in reversed(tracker.events) if isinstance(event, UserUttered))
    return conversation_locale(metadata, tracker.sender_id, tracker.get_latest_input_channel())
