"""What the assistant says while a hand-off waits for staff: it answers what the person wrote,
varies, and offers the safety question again (the responses carry "I'm safe now" / "I need help now").
"""
from __future__ import annotations

import re
from typing import Optional

HOLDING, NO_CALL, WHEN = "utter_holding", "utter_holding_no_call", "utter_holding_when"
SAFETY_QUESTION = "utter_safety_check"

_NO_CALL = re.compile(
    r"\b(?:don'?t|dont|do not|can'?t|cant|cannot|won'?t|wont|not going to|not gonna|rather not|hate)\b[^.!?]{0,20}"
    r"\b(?:call|ring|phone|talk to (?:anyone|anybody|someone|a stranger)|speak to)\b|"
    r"\bno (?:phone|credit|signal)\b|\bcan'?t talk\b|\bcant talk\b", re.IGNORECASE)
_SAYS_SAFE = re.compile(
    r"\b(?:i'?m|im|i am) (?:ok(?:ay)?|fine|safe|alright|not in danger)\b|\bnot in danger\b|"
    r"\b(?:it was|that was) a (?:mistake|joke)\b|\bi didn'?t mean it\b|\bi didnt mean it\b|\bfalse alarm\b|"
    r"\bnot suicidal\b|\bi was joking\b|\bjust kidding\b", re.IGNORECASE)
_WHEN = re.compile(
    r"\b(?:when|how long|anyone there|anybody there|is someone|someone coming|hello\??$|are you there|"
    r"still there|waiting|where are you|nobody'?s coming|no one'?s coming)\b", re.IGNORECASE)


def holding_response(text: str, intent: Optional[str] = None) -> str:
    """The domain response for a message that arrives while the hand-off waits."""
    text = text or ""
    if _NO_CALL.search(text):
        return NO_CALL
    if _SAYS_SAFE.search(text) or intent == "deny":
        return SAFETY_QUESTION
    if _WHEN.search(text) or intent in ("request_human", "greet"):
        return WHEN
    return HOLDING
