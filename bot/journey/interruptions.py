"""Telling an answer from a question or command typed in the middle of a guided step.

A message is left to the rules (and the form resumes after them) when the NLU reads it as one of
the intents below and it is not a good answer to the current step: a structured step (a number,
yes/no, a choice) keeps anything it can read; a free-text step lets go only of button payloads,
confident commands ("stop", "show my people" ...) and confident questions that are worded as
questions ("friend" may look like a question about IPT to the NLU, but it answers "how are
you related?"). A message worded as a question that no intent claims is not stored either: the
engine says so and asks again (bot/journey/engine.py). Crisis messages never reach the form: the
crisis policy answers them first.
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
# Intents that are questions: at a free-text step they interrupt only when worded as a question
# ("we're a team" is an answer about a partner, not a privacy question).
QUESTION_INTENTS = frozenset({"ipt", "ipt_more", "learn_ipt", "help", "bot_challenge", "ask_privacy"})
# "stop" and "bye" at a free-text step only when said plainly ("for it to stop" answers "what would you
# change?").
_PLAIN_STOP = re.compile(r"^(?:(?:ok|okay|please|can we|could we|i want to|i'd like to|id like to|let's|lets)\s+)?"
                         r"(?:stop|pause|quit|exit|cancel|end|bye|goodbye|bye bye|gotta go|got to go|i have to go|"
                         r"i need to go|that's enough|thats enough|enough for today|enough for now)"
                         r"(?:\s+(?:please|now|for now|here|for today|thanks|thank you))?[.!]*$", re.IGNORECASE)
FREE_TEXT_CONFIDENCE = 0.8
WORDED_QUESTION_CONFIDENCE = 0.5  # a message worded as a question needs less certainty to be one
_LEAD_IN = re.compile(r"^(?:(?:wait|sorry|hang on|hold on|um+|uh+|hm+|but|ok|okay|so|and|oh|erm)\b[\s,.!-]*)+",
                      re.IGNORECASE)
_WH_START = re.compile(r"^(?:what|what's|whats|wat|wht|how|how's|hows|why|who|who's|whos|when|where|which|"
                       r"tell me|explain|help|menu)\b(?!['’])", re.IGNORECASE)
# "do you ...", "is it ...", "can i ...": an auxiliary then a pronoun (not "do things together").
_AUX_START = re.compile(r"^(?:can|could|do|does|did|is|are|was|will|would|should|shall|may|am)\s+"
                        r"(?:i|you|u|we|it|this|that|they|he|she|there|my|me|someone|anyone)\b", re.IGNORECASE)


def looks_like_question(text: str) -> bool:
    """Worded as a question: "what's a role dispute", "wait whats communication analysis", "do you
    keep this?", "which person? sam?" (a short answer with a question mark, "mom?", is not)."""
    text = _LEAD_IN.sub("", (text or "").strip())
    if _WH_START.match(text) or _AUX_START.match(text):
        return True
    return text.endswith("?") and len(text.split()) >= 3


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
    if intent in ("stop", "goodbye") and not _PLAIN_STOP.match((text or "").strip()):
        return False
    if looks_like_question(text):
        return confidence >= WORDED_QUESTION_CONFIDENCE
    return confidence >= FREE_TEXT_CONFIDENCE
