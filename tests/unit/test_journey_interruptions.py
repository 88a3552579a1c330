"""Telling answers from questions and commands typed in the middle of a guided step."""
import pytest

from bot.journey.engine import Journey
from bot.journey.interruptions import is_interruption, looks_like_question
from bot.journey.state import JourneyState


def at_step(activity: str, draft: dict | None = None):
    journey = Journey(JourneyState("p", done=["checkin", "inventory"], activity=activity, draft=draft or {}))
    return journey.current_step(), journey.state


RELATIONSHIP = ("inventory", {"person_name": "Alex"})


@pytest.mark.parametrize("text, intent, confidence, step, expected", [
    ("friend", "ipt", 0.99, RELATIONSHIP, False),  # an answer the NLU took for a question about IPT
    ("what is ipt?", "ipt", 0.99, RELATIONSHIP, True),
    ("how does this work", "help", 0.9, RELATIONSHIP, True),
    ("stop", "stop", 0.97, RELATIONSHIP, True),
    ("stop", "stop", 0.5, RELATIONSHIP, False),  # not sure: kept as an answer
    ("my sister", "inform", 0.9, RELATIONSHIP, False),
    ("/show_people", "show_people", 1.0, RELATIONSHIP, True),
    ("i want to die", "crisis", 1.0, RELATIONSHIP, True),
    ("grief", "ipt", 0.99, ("screening", {"screen_loss": True, "screen_dispute": False,
                                          "screen_transition": False, "screen_isolation": False}), False),
    ("where am i", "where_am_i", 0.6, ("screening", {}), True),  # a yes/no step cannot read it
    ("yes", "affirm", 0.99, ("screening", {}), False),
    ("we're a team", "ask_privacy", 0.95, RELATIONSHIP, False),  # an answer with a privacy-ish word in it
    ("who reads this?", "ask_privacy", 0.9, RELATIONSHIP, True),
    ("for it to stop", "stop", 0.97, RELATIONSHIP, False),  # what they would change, not a command
    ("stop the rowing", "stop", 0.9, RELATIONSHIP, False),
    ("can we stop for now", "stop", 0.9, RELATIONSHIP, True),
    ("wait whats communication analysis", "ipt", 0.6, RELATIONSHIP, True),  # worded as a question: 0.5 is enough
])
def test_answers_and_interruptions(text, intent, confidence, step, expected):
    assert is_interruption(text, intent, confidence, at_step(*step)) is expected


def test_questions_are_recognised_by_their_wording():
    assert looks_like_question("what happens next?") and looks_like_question("tell me about grief")
    assert not looks_like_question("my best friend") and not looks_like_question("helpful neighbour")
