"""A person learns about IPT through the REST webhook, the way people write: short, lowercase, follow-ups."""
import pytest

from tests.conftest import texts

pytestmark = pytest.mark.integration


def buttons(replies):
    return {b["title"]: b["payload"] for m in replies for b in m.get("buttons", [])}


def test_what_is_ipt_then_tell_me_more_then_follow_ups(assistant):
    sender = assistant.new_sender()
    first = assistant.say(sender, "what is ipt")
    assert "Interpersonal Psychotherapy" in texts(first)
    assert "Tell me more" in buttons(first)

    more = texts(assistant.say(sender, "tell me more"))
    assert more and more != texts(first)

    grief = texts(assistant.say(sender, "what about grief?"))
    assert "death" in grief or "grief" in grief.lower()

    last = texts(assistant.say(sender, "and the last phase?"))
    assert "last phase" in last.lower() or "final" in last.lower()


def test_topic_buttons_lead_to_their_topic(assistant):
    sender = assistant.new_sender()
    menu = assistant.say(sender, "/learn_ipt")
    payload = buttons(menu)["The four problem areas"]
    areas = assistant.say(sender, payload)
    assert "grief" in texts(areas).lower() and "role" in texts(areas).lower()


@pytest.mark.parametrize("question, expected", [
    ("how is ipt different from cbt", "CBT"),
    ("how many sesions does ipt take", "12"),
    ("who created ipt", "Klerman"),
    ("does ipt work for teenagers", "teen"),
])
def test_typed_questions_with_typos_get_the_right_answer(assistant, question, expected):
    said = texts(assistant.say(assistant.new_sender(), question))
    assert expected.lower() in said.lower(), said


def test_a_crisis_in_the_middle_of_learning_gets_the_crisis_reply(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "what is the middle phase")
    replies = assistant.say(sender, "honestly i just want to die")
    assert "988" in texts(replies)
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies)
