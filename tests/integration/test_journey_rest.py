"""A new person goes through the whole initial phase over REST, leaves, every server restarts, and
they come back (in a new Rasa session) to be welcomed by name and continue into the middle phase."""
import pytest

from bot.store.journey_repository import JourneyStore
from tests.conftest import texts

pytestmark = pytest.mark.integration


def buttons(replies: list[dict]) -> list[str]:
    return [b["title"] for m in replies for b in m.get("buttons", [])]


SAFETY_QUESTIONS: list[str] = []  # everyday answers that drew the safety question (at most one allowed)


def say_all(assistant, sender: str, *messages: str) -> list[dict]:
    """Answers one by one; a person asked the safety question says they are safe and answers again."""
    replies: list[dict] = []
    for message in messages:
        replies = assistant.say(sender, message)
        if any((m.get("custom") or {}).get("type") == "safety_check" for m in replies):
            SAFETY_QUESTIONS.append(message)
            assert len(SAFETY_QUESTIONS) <= 1, f"safety questions on everyday answers: {SAFETY_QUESTIONS}"
            assert "Thank you for telling me" in texts(assistant.say(sender, "no, I'm safe"))
            replies = assistant.say(sender, message)  # the same answer again is taken as the answer
            assert not any((m.get("custom") or {}).get("type") == "safety_check" for m in replies)
        assert replies, f"no reply to {message!r}"
    return replies


def test_a_whole_initial_phase_survives_a_restart_and_goes_on(assistant):
    sender, store = assistant.new_sender(), JourneyStore(assistant.db_url)
    assistant.say(sender, "hi")
    said = texts(assistant.say(sender, "let's start"))
    assert "first phase" in said and "call you" in said

    # Check-in: a name, an odd mood answer asked again with an example, then the PHQ-9.
    assert "mood" in texts(assistant.say(sender, "Maya"))
    assert "0 to 10" in texts(assistant.say(sender, "meh"))
    assert "start feeling low" in texts(assistant.say(sender, "4"))  # when it began, and what was happening then
    assert "people in your life around then" in texts(assistant.say(sender, "since march i guess"))
    assert "PHQ-9" in texts(assistant.say(sender, "jordan and i started fighting about money"))
    replies = assistant.say(sender, "yes")
    assert "little interest or pleasure" in texts(replies)
    assert "Several days" in buttons(replies)
    replies = say_all(assistant, sender, "2", "2", "1", "3", "0", "2", "1", "0", "not at all")
    said = texts(replies)
    assert "11 out of 27" in said and "moderate" in said and "not a diagnosis" in said
    assert "people in your life" in said  # what comes next is offered

    # Inventory: three people, a question in the middle, a hello in the middle, then "that's everyone".
    assert "someone important" in texts(assistant.say(sender, "/continue_journey"))
    assert "related" in texts(assistant.say(sender, "Jordan"))
    interrupted = texts(assistant.say(sender, "what is the interpersonal inventory?"))
    assert "inventory" in interrupted.lower() and "related to you" in interrupted  # answered, then asked again
    replies = say_all(assistant, sender, "partner", "inner", "every day", "they make me laugh",
                      "we keep arguing about money", "I want us to listen to each other",
                      "i expect help with the bills, it isn't happening", "sometimes")
    assert "at least three" in texts(replies)
    assert "Who else" in texts(assistant.say(sender, "yes"))
    say_all(assistant, sender, "Mum", "mother", "middle", "every week", "she cooks for me", "skip", "skip", "skip",
            "yes", "yes", "Priya", "coworker", "outer", "every week", "lunch chats", "skip", "skip", "skip", "no")
    replies = assistant.say(sender, "no")
    said = texts(replies)
    assert "Jordan (partner)" in said and "Priya" in said
    assert any(m.get("image", "").endswith(".svg") for m in replies), replies

    # Problem areas: screening, scores with reasons, the focus and the dispute's stage.
    assert "died" in texts(assistant.say(sender, "/continue_journey"))
    replies = say_all(assistant, sender, "no", "yes", "no", "no")
    said = texts(replies)
    assert "Role dispute: 3" in said and "Jordan" in said
    assert buttons(replies)[0] == "Role dispute"
    say_all(assistant, sender, "role dispute", "no, just one")
    said = texts(assistant.say(sender, "we're still talking it through"))
    assert "Your focus is: Role dispute" in said

    # Formulation and goals; the middle phase starts.
    assert "summary" in texts(assistant.say(sender, "/continue_journey"))
    say_all(assistant, sender, "yes", "tell Jordan what I need calmly", "agree a budget together")
    said = texts(assistant.say(sender, "skip"))
    assert "tell Jordan what I need calmly" in said and "middle phase" in said

    # The first weekly check-in, left half-way.
    say_all(assistant, sender, "/continue_journey", "5")
    saved = store.load(sender)
    assert (saved.phase, saved.focus, saved.dispute_stage, saved.activity) == (
        "middle", "role_dispute", "renegotiation", "weekly")
    assert [p.name for p in saved.people] == ["Jordan", "Mum", "Priya"]
    assert saved.checkins[0].phq9_total == 11 and saved.goals[1] == "agree a budget together"

    # Every server restarts; the person comes back in a new session.
    assistant.stack.stop()
    assistant.stack.start()
    assistant.say(sender, "/session_start")
    said = texts(assistant.say(sender, "hello"))
    assert "Welcome back, Maya" in said and "weekly check-in" in said
    said = texts(assistant.say(sender, "continue"))
    assert "pick up where we left off" in said and "people in your life this week" in said
    assert "affected your mood" in texts(assistant.say(sender, "Jordan and I talked on Sunday"))
    assert "expectations" in texts(assistant.say(sender, "I felt lighter after"))  # week 1: expectations
    assert "expect from you" in texts(assistant.say(sender, "that Jordan shares the bills"))
    assert "small step" in texts(assistant.say(sender, "to be calmer"))
    said = texts(assistant.say(sender, "ask Jordan for ten minutes to talk"))
    assert "Week 1 of 12" in said and "next time" in said
    after = store.load(sender)
    assert after.week == 1 and after.checkins[-1].mood == 5
    assert after.checkins[-1].details["between_step"] == "ask Jordan for ten minutes to talk"
    assert "Jordan" in texts(assistant.say(sender, "show my people"))
    assert "Role dispute" in texts(assistant.say(sender, "what is my focus?"))


def test_stop_in_the_middle_keeps_the_answers_and_a_crisis_wins_over_the_form(assistant):
    sender, store = assistant.new_sender(), JourneyStore(assistant.db_url)
    say_all(assistant, sender, "map the people in my life", "Alex", "friend")
    said = texts(assistant.say(sender, "stop"))
    assert "saved" in said
    assert store.load(sender).draft["person_relationship"] == "friend"
    assert "How close" in texts(assistant.say(sender, "continue"))
    replies = assistant.say(sender, "i want to kill myself")
    assert "988" in texts(replies)
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies)


def test_phq9_item9_above_zero_gets_crisis_help_at_once(assistant):
    sender = assistant.new_sender()
    say_all(assistant, sender, "let's start", "skip", "3", "skip", "yes", "1", "1", "1", "1", "1", "1", "1", "1")
    replies = assistant.say(sender, "several days")
    assert "988" in texts(replies)
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies)
