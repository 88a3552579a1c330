"""The graded safety response inside the guided journey, through REST against the trained model:
a safety question in the middle of a step and "No, I'm safe" asks the same step again; PHQ-9 item 9
answered with a typed "yes" starts the crisis reply; an unclear item 9 gets the safety question and
"no" scores it "not at all" and goes on."""
import pytest

from bot.store.journey_repository import JourneyStore
from tests.conftest import texts, wait_for

pytestmark = pytest.mark.integration


def crisis(replies) -> bool:
    return any((m.get("custom") or {}).get("type") == "crisis" for m in replies)


def safety_question(replies) -> bool:
    return any((m.get("custom") or {}).get("type") == "safety_check" for m in replies)


def start_checkin(assistant, name: str) -> str:
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    assert "call you" in texts(assistant.say(sender, "let's start"))
    assert "mood" in texts(assistant.say(sender, name))
    return sender


def test_no_im_safe_resumes_the_step_where_it_was(assistant):
    sender = start_checkin(assistant, "Ana")
    replies = assistant.say(sender, "honestly i'm so tired of everything")
    assert safety_question(replies) and not crisis(replies)
    replies = assistant.say(sender, "no, I'm safe")
    said = texts(replies)
    assert "Thank you for telling me" in said and "mood" in said  # the same question again
    assert "start feeling low" in texts(assistant.say(sender, "4"))  # and the answer is read as before
    state = JourneyStore(assistant.db_url).load(sender)
    assert state.activity == "checkin" and state.draft.get("mood") == 4


def item9(assistant, name: str) -> str:
    sender = start_checkin(assistant, name)
    assert "PHQ-9" in texts(assistant.say(sender, "8"))  # a mood of 7+ is not asked when the low began
    assert "little interest" in texts(assistant.say(sender, "yes"))
    for answer in ("1", "1", "1", "1", "0", "1", "1"):
        assert assistant.say(sender, answer)
    assert "better off dead" in texts(assistant.say(sender, "0"))  # item 9 is asked
    return sender


def test_phq9_item9_typed_yes_starts_the_crisis_reply_and_is_recorded(assistant):
    sender = item9(assistant, "Ben")
    replies = assistant.say(sender, "yes")
    assert crisis(replies) and "988" in texts(replies)
    handoff = wait_for(lambda: [h for h in assistant.store.list_handoffs() if h.sender_id == sender])
    assert handoff and "PHQ-9 item 9" in handoff[0].message


def test_phq9_item9_unclear_gets_the_safety_question_and_no_scores_not_at_all(assistant):
    sender = item9(assistant, "Cleo")
    assert safety_question(assistant.say(sender, "hmm maybe"))
    said = texts(assistant.say(sender, "No, I'm safe"))
    assert "Thank you for telling me" in said and "out of 27" in said  # scored, and the check-in ends
    state = JourneyStore(assistant.db_url).load(sender)
    assert state.checkins[-1].phq9[-1] == 0 and state.checkins[-1].phq9_total == 6


def test_a_very_low_mood_gets_the_safety_question_and_no_keeps_the_mood(assistant):
    sender = start_checkin(assistant, "Dee")
    replies = assistant.say(sender, "2")
    assert safety_question(replies) and not crisis(replies) and "very low score" in texts(replies)
    said = texts(assistant.say(sender, "no, I'm safe"))
    assert "doctor or clinician" in said and "start feeling low" in said  # the mood is kept: the next question
    state = JourneyStore(assistant.db_url).load(sender)
    assert state.activity == "checkin" and state.draft.get("mood") == 2
