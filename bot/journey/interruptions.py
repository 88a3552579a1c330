"""Telling an answer from a question or command typed in the middle of a guided step.

A message is left to the rules (and the form resumes after them) when the NLU reads it as one of
the intents below and it is not a good answer to the current step: a structured step (a number,
yes/no, a choice) keeps anything it can read; a free-text step lets go only of button payloads,
confident commands ("stop", "show my people" ...) and confident questions that are worded as
questions ("friend" may look like a question about IPT to the NLU, but it answers "how are
you related?"). Crisis messages never reach the form: the crisis policy answers them first.
"""
from __future__ import annotations

import re
from typing import Optional

from bot.journey.answers import Unclear
from bot.journey.state import JourneyState
from bot.journey.steps import Step

INTERRUPTING_INTENTS = frozenset({
    "crisis", "ipt", "ipt_more", "learn_ipt", "help", "where_am_i", "show_people", "my_focus", "start_over",
    "stop", "goodbye", "request_human", "delete_my_data", "bot_challenge", "ask_privacy", "edit_person",
    "remove_person", "start_inventory", "finish_journey", "greet",
})
QUESTION_INTENTS = frozenset({"ipt", "ipt_more", "learn_ipt", "help"})
FREE_TEXT_CONFIDENCE = 0.8
_QUESTION_START = re.compile(
    r"^(what|what's|whats|how|why|who|when|where|which|can|could|do|does|is|are|will|should|tell me|explain|"
    r"help|menu|more)\b", re.IGNORECASE)


def looks_like_question(text: str) -> bool:
    text = (text or "").strip()
    return text.endswith("?") or bool(_QUESTION_START.match(text))


def is_interruption(text: str, intent: Optional[str], confidence: float,
                    step: Optional[tuple[Step, JourneyState]]) -> bool:
    if intent not in INTERRUPTING_INTENTS:
        return False
    if intent == "crisis" or (text or "").startswith("/"):
        return True
    if step is None:
        return True
    current, state = step
    if current.kind_for(state) not in ("text", "name"):
        try:
            current.read(text, None, state)
            return False
        except Unclear:
            return True
    if intent in QUESTION_INTENTS and not looks_like_question(text):
        return False
    return confidence >= FREE_TEXT_CONFIDENCE
