"""Every turn gets a reply (issue 13, item 1): the everyday corpus, written in many voices, sent to the
running assistant through REST as a first message, right after the welcome, and as an answer in the
middle of a guided step. A turn answered with nothing is a failure, whatever the message."""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.crisis.corpus import everyday, everyday_blind_sets

pytestmark = pytest.mark.integration

IN_CONTEXT_SAMPLE = 150  # per context; the whole corpus goes in as a first message
WORKERS = 4


def everyday_texts() -> list[str]:
    examples = everyday() + [example for examples in everyday_blind_sets().values() for example in examples]
    return sorted({example.text for example in examples})


def replied(messages: list[dict]) -> bool:
    return any(m.get("text", "").strip() or m.get("buttons") or m.get("image") or m.get("custom")
               for m in messages)


def _first_message(assistant, text: str) -> bool:
    return replied(assistant.say(assistant.new_sender(), text))


def _after_welcome(assistant, text: str) -> bool:
    sender = assistant.new_sender()
    assistant.say(sender, "hello")
    return replied(assistant.say(sender, text))


def _in_a_step(assistant, text: str) -> bool:
    sender = assistant.new_sender()
    assistant.say(sender, "/start_journey")  # the check-in asks for a name: a typed-answer step
    return replied(assistant.say(sender, text))


def _silent(assistant, texts: list[str], turn) -> list[str]:
    with ThreadPoolExecutor(WORKERS) as pool:
        answered = list(pool.map(lambda text: turn(assistant, text), texts))
    return [text for text, ok in zip(texts, answered, strict=True) if not ok]


def test_the_corpus_is_large_enough_to_mean_something():
    assert len(everyday_texts()) >= 1500


def test_every_everyday_message_as_a_first_message_gets_a_reply(assistant):
    silent = _silent(assistant, everyday_texts(), _first_message)
    assert not silent, f"{len(silent)} messages got no reply, e.g. {silent[:15]}"


@pytest.mark.parametrize("turn", [_after_welcome, _in_a_step], ids=["after the welcome", "in a guided step"])
def test_everyday_messages_in_context_get_a_reply(assistant, turn):
    sample = random.Random(13).sample(everyday_texts(), IN_CONTEXT_SAMPLE)
    silent = _silent(assistant, sample, turn)
    assert not silent, f"{len(silent)} messages got no reply, e.g. {silent[:15]}"


@pytest.mark.parametrize("text", ["ok", "yes", "sure", "yse", "yes that sounds like me", "nah", "no",
                                  "not really", "Not now"])
def test_yes_and_no_to_the_offer_after_the_welcome_get_a_reply(assistant, text):
    sender = assistant.new_sender()
    assistant.say(sender, "hello")
    assert replied(assistant.say(sender, text)), f"no reply to {text!r} after the welcome"


@pytest.mark.parametrize("text", ["ok", "sure", "yes"])
def test_yes_to_the_offer_after_the_welcome_starts_the_steps(assistant, text):
    sender = assistant.new_sender()
    assistant.say(sender, "hello")
    replies = assistant.say(sender, text)
    said = " ".join(m.get("text", "") for m in replies)
    assert "first phase" in said.lower() or "name" in said.lower(), said


@pytest.mark.parametrize("turns", [
    ("qwfp zzkx blorp", "vvq kkz prrt", "yes"),  # "yes" after the fallback menu
    ("skip", "yes"),  # "yes" after "nothing in progress, shall we go on?"
    ("Yes, let us begin", "Femi", "3", "yes"),
], ids=["after the fallback menu", "after nothing in progress", "a hello the assistant did not follow"])
def test_no_turn_of_a_short_conversation_goes_unanswered(assistant, turns):
    sender = assistant.new_sender()
    for turn in turns:
        assert replied(assistant.say(sender, turn)), f"no reply to {turn!r} in {turns}"
