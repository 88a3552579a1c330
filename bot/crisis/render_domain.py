"""Generate `domain/crisis.yml` from `resources.yml`: `python -m bot.crisis.render_domain`.

The crisis replies are domain responses so that they are sent by the Rasa server alone, even when
the action server or the database is down; one variation per locale and per crisis category.
`utter_crisis_resources` is also the holding answer while a hand-off waits for staff.
`--check` exits non-zero when the file is out of date (run by the tests).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT
from bot.crisis.detector import CATEGORIES
from bot.crisis.resources import (
    DEFAULT_LOCALE,
    GENERAL,
    GROUPS,
    SELF,
    SPEAKERS,
    all_locales,
    lines_key,
    resources_payload,
    resources_text,
)

DOMAIN_FILE = PROJECT_ROOT / "domain" / "crisis.yml"
# Honest staffing (bot/handoff/staffing.py sets `clinic_open` when a crisis reply starts).
HANDOFF_NOTE = {
    True: "I've asked a person from the clinic to join this chat. It may take a few minutes. "
    "If you are in danger, don't wait: use the numbers above now.",
    False: "Nobody from the clinic can reply here right now. The lines above are the way to get "
    "help now, and they are there day and night.",
}
SAFETY_QUESTION = ("Can I check something with you? Sometimes when people feel this way, they have thoughts "
                   "of ending their life or of hurting themselves. Are you having thoughts like that?")
SAFETY_BUTTONS = [{"title": "Yes", "payload": "yes"}, {"title": "No, I'm safe", "payload": "no, I'm safe"},
                  {"title": "Not sure", "payload": "not sure"}]
# A mood of 0-2 of 10 at a check-in (bot/policies/crisis.py): the score acknowledged, then the same question.
SAFETY_QUESTION_LOW_MOOD = ("Thank you for telling me. That's a very low score, and I'm sorry things are this hard. "
                            "Can I check something with you? When people feel this low, some have thoughts of "
                            "ending their life or of hurting themselves. Are you having thoughts like that?")
HOLDING_BUTTONS = [{"title": "I'm safe now", "payload": "no, I'm safe"},
                   {"title": "I need help now", "payload": "yes"}]

EMPATHY = {
    None: "I'm really glad you told me. What you're going through sounds serious, "
    "and you deserve support right now.",
    "suicide": "I'm really glad you told me. It sounds like you're in a lot of pain, "
    "and you deserve support right now.",
    "self_harm": "Thank you for telling me. Hurting yourself shows how much pain you're in, "
    "and you deserve care right now.",
    "overdose": "If you have taken too much of any medicine or drug, please get medical help "
    "now, even if you feel okay.",
    "harm_to_others": "Thank you for being honest with me. When feelings get this strong, "
    "it's important to get support right away, before anyone gets hurt.",
    "abuse": "I'm so sorry this is happening to you. It is not your fault, "
    "and you deserve to be safe.",
}
# Someone writing about another person, and a child writing about themself (slot crisis_speaker). What
# they can do, and the lines, follow in utter_crisis_resources.
EMPATHY_OTHER = {
    None: "Thank you for reaching out for them. You're doing the right thing, and you don't have to handle "
    "this alone.",
    "overdose": "Thank you for reaching out for them. If they have taken too much of anything, they need "
    "medical help now, even if they seem okay.",
    "harm_to_others": "Thank you for reaching out for them. When someone might hurt others, everyone's safety "
    "comes first, and that includes yours.",
    "abuse": "Thank you for reaching out for them. You're doing the right thing by looking out for them. What is "
    "happening to them is not their fault.",
}
EMPATHY_CHILD = {
    None: "You did the right thing telling me. What is happening is not your fault. You deserve to be "
    "safe, and there are people whose job is to help you.",
    "overdose": "You did the right thing telling me. Swallowing too much medicine or anything else can make "
    "you very ill even if you feel okay, so please get help straight away.",
}
UNSPECIFIED = "unspecified"
# Every value the crisis policy sets in `crisis_category` (it maps anything else to "unspecified").
CATEGORY_VALUES = (*CATEGORIES, UNSPECIFIED)


def empathy_text(category: str, speaker: str) -> str:
    if speaker == "other":
        return EMPATHY_OTHER.get(category, EMPATHY_OTHER[None])
    if speaker == "child":
        return EMPATHY_CHILD.get(category, EMPATHY_CHILD[None])
    return EMPATHY.get(category, EMPATHY[None])


# Sent by the staff API when staff end a hand-off. It is not a domain response because no story or
# rule can choose it (`rasa data validate` requires every response to be used in one).
HANDOFF_RESUME_MESSAGE = {
    "text": "Thank you for talking with our team. I'm here again if you'd like to carry on, "
    "and crisis help is there any time you need it.",
    "buttons": [
        {"title": "Show the menu", "payload": "/help"},
        {"title": "Learn about IPT", "payload": "/learn_ipt"},
    ],
}


def _slot_condition(slot: str, value: str) -> list[dict[str, str]]:
    return [{"type": "slot", "name": slot, "value": value}]


def _per_locale(build) -> list[dict[str, Any]]:
    """The default variation (the default locale) first, then one per locale."""
    variations = [build(DEFAULT_LOCALE)]
    for locale in all_locales():
        variation = build(locale)
        variation["condition"] = _slot_condition("crisis_locale", locale)
        variations.append(variation)
    return variations


def _crisis_payload(locale: str, group: str, speaker: str, clinic_open: bool) -> dict[str, Any]:
    return {
        "type": "crisis",
        "category": "{crisis_category}",
        "speaker": "{crisis_speaker}",
        "locale": locale,
        "lines_for": group,
        "resources": resources_payload(locale, group, speaker),
        "handoff": {"status": "requested", "clinic_open": clinic_open, "message": HANDOFF_NOTE[clinic_open]},
    }


def _resources_variations() -> list[dict[str, Any]]:
    """The default (default locale, general lines, nobody on duty) unconditioned, then one per value of
    `crisis_lines` (locale, line group, speaker; set by the crisis policy) and staffing state. Rasa
    picks among every variation whose conditions match, so they must exclude each other: each
    condition names one `crisis_lines` value and one `clinic_open` value."""
    def variation(locale: str, group: str, speaker: str, clinic_open: bool) -> dict[str, Any]:
        return {"text": resources_text(locale, group, speaker) + "\n" + HANDOFF_NOTE[clinic_open],
                "custom": _crisis_payload(locale, group, speaker, clinic_open)}
    variations = [variation(DEFAULT_LOCALE, GENERAL, SELF, False)]
    for locale in all_locales():
        for group in GROUPS:
            for speaker in SPEAKERS:
                for clinic_open in (False, True):
                    variations.append({
                        **variation(locale, group, speaker, clinic_open),
                        "condition": _slot_condition("crisis_lines", lines_key(locale, group, speaker))
                        + [{"type": "slot", "name": "clinic_open", "value": clinic_open}]})
    return variations


def _per_locale_text(build) -> list[dict[str, Any]]:
    variations = [{"text": build(DEFAULT_LOCALE)}]
    for locale in all_locales():
        variations.append({"text": build(locale), "condition": _slot_condition("crisis_locale", locale)})
    return variations


def _first_line(locale: str) -> str:
    first = all_locales()[locale]["resources"][0]
    how = " or ".join(f"{verb} {first[key]}" for verb, key in (("call", "phone"), ("text", "sms")) if first.get(key))
    return f"{first['name']} ({how or first.get('url')})"


def _any_time(locale: str) -> str:
    return ", day or night" if all_locales()[locale]["resources"][0]["hours"] == "24/7" else ""


def _text_line(locale: str) -> str:
    texts = [r for r in all_locales()[locale]["resources"] if r.get("sms")]
    if not texts:
        return f"If talking feels too hard, write to me here, or use {_first_line(locale)}."
    line = texts[0]
    keyword = f"{line['keyword']} to " if line.get("keyword") else ""
    return (f"That's okay, you don't have to call anyone. You can text instead: text {keyword}{line['sms']} "
            f"({line['name']}), free and at any time. You can also keep writing to me here.")


def _slot(kind: str = "text") -> dict[str, Any]:
    return {"type": kind, "influence_conversation": False, "mappings": [{"type": "custom"}]}


def render() -> dict[str, Any]:
    # One variation per (category, speaker) pair, so exactly one matches; the default when neither is set.
    empathy = [{"text": EMPATHY[None]}] + [
        {"text": empathy_text(category, speaker), "condition": _slot_condition("crisis_category", category)
         + _slot_condition("crisis_speaker", speaker)}
        for category in CATEGORY_VALUES for speaker in SPEAKERS
    ]
    return {
        "version": "3.1",
        "intents": ["crisis", "possible_risk"],
        "slots": {
            # Set by bot/policies/crisis.py when a crisis reply or a safety question starts.
            "crisis_category": _slot(),
            "crisis_speaker": _slot(),
            "crisis_locale": _slot(),
            # "<locale>.<line group>.<speaker>" (bot.crisis.resources.lines_key): which lines to show.
            "crisis_lines": _slot(),
            "clinic_open": _slot("bool"),
            "handoff_status": _slot(),
            "safety_check": _slot(),
        },
        "responses": {
            "utter_crisis": empathy,
            "utter_crisis_resources": _resources_variations(),
            # The possible-risk tier: one direct question in the style of the Columbia screener (C-SSRS).
            "utter_safety_check": [{
                "text": SAFETY_QUESTION, "buttons": SAFETY_BUTTONS,
                "custom": {"type": "safety_check", "question": SAFETY_QUESTION,
                           "options": [b["title"] for b in SAFETY_BUTTONS]},
            }],
            "utter_safety_check_low_mood": [{
                "text": SAFETY_QUESTION_LOW_MOOD, "buttons": SAFETY_BUTTONS,
                "custom": {"type": "safety_check", "question": SAFETY_QUESTION_LOW_MOOD,
                           "options": [b["title"] for b in SAFETY_BUTTONS]},
            }],
            "utter_safety_check_again": [{
                "text": "I want to be sure I understand, because it matters. Are you having thoughts of ending "
                        "your life or of hurting yourself?",
                "buttons": SAFETY_BUTTONS,
            }],
            "utter_safety_check_ok": _per_locale_text(
                lambda locale: "Thank you for telling me. If that changes, tell me here at any time, or reach "
                f"{_first_line(locale)}{_any_time(locale)}. Let's carry on."),
            "utter_safety_check_ok_low_mood": _per_locale_text(
                lambda locale: "Thank you for telling me. A mood this low is worth telling your doctor or clinician "
                "about soon; they can help alongside this. If things get worse, tell me here at any time, or reach "
                f"{_first_line(locale)}{_any_time(locale)}. Let's carry on."),
            "utter_safety_check_unanswered": _per_locale_text(
                lambda locale: "That's okay, we can go on. If you do have thoughts of ending your life or of hurting "
                f"yourself, tell me at any time, or reach {_first_line(locale)}{_any_time(locale)}."),
            "utter_safety_check_ok_waiting": [{
                "text": "Thank you for letting me know. You can carry on with me now if you'd like. Someone from "
                        "the clinic may still check in with you here, and the lines above are there any time.",
                "buttons": [{"title": "Show the menu", "payload": "/help"}],
            }],
            # While a hand-off waits for staff (bot/handoff/holding.py chooses).
            "utter_holding": [
                {"text": "I'm still here with you. Thank you for staying in touch.", "buttons": HOLDING_BUTTONS},
                {"text": "I hear you. You don't have to go through this alone.", "buttons": HOLDING_BUTTONS},
                {"text": "Thank you for telling me. Keep writing if it helps; I'm reading.",
                 "buttons": HOLDING_BUTTONS},
            ],
            "utter_holding_no_call": _per_locale_text(_text_line),
            "utter_holding_when": [
                {"text": HANDOFF_NOTE[False], "buttons": HOLDING_BUTTONS},
                {"text": "Someone from the clinic has been asked to join and will write here as soon as they can. "
                         "If you are in danger, please don't wait for them.",
                 "buttons": HOLDING_BUTTONS, "condition": [{"type": "slot", "name": "clinic_open", "value": True}]},
            ],
        },
        "actions": ["action_crisis_handoff", "action_flag_for_review"],
    }


def rendered_text() -> str:
    header = "# Generated by `python -m bot.crisis.render_domain` from bot/crisis/resources.yml.\n"
    header += "# Do not edit by hand: change the resources or the generator and run `make crisis-domain`.\n"
    return header + yaml.safe_dump(render(), sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = rendered_text()
    if args.check:
        current = DOMAIN_FILE.read_text(encoding="utf-8") if DOMAIN_FILE.exists() else ""
        if current != text:
            print(f"{DOMAIN_FILE} is out of date: run `make crisis-domain`.", file=sys.stderr)
            return 1
        return 0
    Path(DOMAIN_FILE).parent.mkdir(parents=True, exist_ok=True)
    DOMAIN_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {DOMAIN_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
