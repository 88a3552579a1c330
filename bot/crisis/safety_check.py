"""Reading the answer to the safety question ("Are you having thoughts of ending your life or of
hurting yourself?"): yes, no, not sure, or not an answer (None).

Button payloads are plain words ("yes", "no, I'm safe", "not sure"), so typed and tapped answers are
read the same way. "No" needs a clear no; anything that hedges ("kind of", "sometimes", "maybe") is
"not sure", which the policy treats like yes: recall comes first.
"""
from __future__ import annotations

import re
from typing import Optional

YES, NO, UNSURE = "yes", "no", "unsure"

_NO = re.compile(
    r"^(?:no+|nope|nah+|na|n|not really|never|no way|not at all|i'?m (?:ok(?:ay)?|fine|safe|alright|good)|"
    r"im (?:ok(?:ay)?|fine|safe|alright|good)|i am (?:ok(?:ay)?|fine|safe|alright|good)|i'?m not|"
    r"(?:no|nope|nah),? (?:i'?m|im|i am) (?:ok(?:ay)?|fine|safe|alright|good)|"
    r"i'?m not (?:in danger|suicidal|going to hurt myself)|not in danger|"
    r"no (?:thoughts|i'?m not|i don'?t|i dont|i do not|not like that|it'?s not like that|nothing like that))\b")
_UNSURE = re.compile(
    r"^(?:not sure|unsure|i'?m not sure|im not sure|maybe|idk|i don'?t know|i dont know|dunno|kind of|kinda|"
    r"sort of|sometimes|a (?:bit|little)|perhaps|possibly|i guess|on and off|now and then|hard to say|"
    r"i'?m not sure|not sure tbh)\b")
_YES = re.compile(r"^(?:yes+|yeah+|yea|yep|yup|ya|y|i am|i do|i have|yes i am|yes i do|true|definitely|"
                  r"honestly yes|a lot|all the time|every day|always|often)\b")
_HEDGE = re.compile(r"\b(?:but|though|sometimes|kind of|kinda|sort of|maybe|a bit|a little)\b")


def _normalise(text: str) -> str:
    text = (text or "").lower().replace("\u2019", "'")
    return re.sub(r"\s+", " ", re.sub(r"[^\w' ,]", " ", text)).strip(" ,")


def read_safety_answer(text: str, intent: Optional[str] = None) -> Optional[str]:
    """YES, NO, UNSURE, or None when the message does not answer the question."""
    value = _normalise(text)
    if _UNSURE.match(value):
        return UNSURE
    if _NO.match(value):
        return UNSURE if _HEDGE.search(value) else NO
    if _YES.match(value):
        return YES
    if intent == "affirm":
        return YES
    if intent == "deny":
        return UNSURE if _HEDGE.search(value) else NO
    return None
