"""A person talks to the running assistant through the REST webhook, as a new user would."""
import pytest

from tests.conftest import texts

pytestmark = pytest.mark.integration


def test_hello_gets_a_greeting_that_says_what_it_is_and_is_not(assistant):
    replies = assistant.say(assistant.new_sender(), "hello")
    said = texts(replies)
    assert "automated" in said and "not a therapist" in said
    assert "crisis" in said  # crisis help is available at any time
    assert "saved" in said and "delete" in said  # how data is kept
    titles = [b["title"] for m in replies for b in m.get("buttons", [])]
    assert "Learn about IPT" in titles and "Map the people in my life" in titles


def test_menu_bot_question_thanks_and_goodbye(assistant):
    sender = assistant.new_sender()
    menu = assistant.say(sender, "menu")
    assert any(b["payload"] == "/delete_my_data" for m in menu for b in m.get("buttons", []))
    assert "not a person" in texts(assistant.say(sender, "are you a human?"))
    assert "welcome" in texts(assistant.say(sender, "thanks"))
    assert "Take care" in texts(assistant.say(sender, "bye"))


def test_a_button_payload_works(assistant):
    replies = assistant.say(assistant.new_sender(), "/ask_privacy")
    assert "database" in texts(replies)


@pytest.mark.parametrize("message", [
    "",
    "   ",
    "x" * 10_000,
    "😀😀😀",
    "¿Dónde puedo encontrar ayuda para mi familia?",
    "<script>alert('hi')</script><b>bold</b>",
])
def test_bad_input_gets_a_kind_answer_and_is_kept(assistant, message):
    sender = assistant.new_sender()
    replies = assistant.say(sender, message)
    said = texts(replies)
    assert said.strip(), f"no answer to {message[:30]!r}"
    assert "<script>" not in said
    if message.startswith("¿"):  # another language: answered in it, with where to find help
        assert "inglés" in said and "findahelpline.com" in said
    else:  # English or no words: never told the assistant only speaks English
        assert "English" not in said
    if not message.strip() or message.startswith("😀"):
        assert "a few words are enough" in said
    if len(message) > 2000:  # over MAX_MESSAGE_CHARS: not parsed, a kind reply (bot/channels/limits.py)
        assert "too long for me" in said
    stored = [line["text"] for line in assistant.store.transcript(sender) if line["from"] == "person"]
    assert stored == [message.strip()], "the person's message must be stored as sent (Rasa trims spaces)"


def test_two_unclear_messages_first_ask_to_rephrase_then_offer_the_menu(assistant):
    sender = assistant.new_sender()
    first = assistant.say(sender, "/nlu_fallback")  # a low-confidence message
    assert "say it another way" in texts(first)
    assert any(b["payload"] == "/learn_ipt" for m in first for b in m.get("buttons", []))
    second = texts(assistant.say(sender, "/nlu_fallback"))
    assert "Here's everything I can help with" in second
    third = texts(assistant.say(sender, "/nlu_fallback"))
    assert "Here's everything I can help with" not in third and "say it another way" in third


def test_gibberish_gets_a_kind_answer_with_a_way_forward(assistant):
    replies = assistant.say(assistant.new_sender(), "blorp zzkx qwv")
    assert texts(replies).strip()
    assert any(m.get("buttons") for m in replies)


def test_delete_my_data_after_confirmation_erases_everything(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    assistant.store.touch_person("rest", sender)
    assert "can't be undone" in texts(assistant.say(sender, "delete my data"))
    assert "deleted" in texts(assistant.say(sender, "/affirm"))
    assert assistant.store.find_person("rest", sender) is None
    assert assistant.store.count_tracker_events(sender) == 0
    # and the person can start again
    assert "automated" in texts(assistant.say(sender, "hello"))


def test_saying_no_keeps_the_data(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "erase my data")
    assert "nothing has been deleted" in texts(assistant.say(sender, "/deny"))
    assert assistant.store.count_tracker_events(sender) > 0
