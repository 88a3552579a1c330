"""Messages in another language, and messages without words, through the REST webhook (issue 13,
item 5): a short answer in the person's language with the way to find help, a kind prompt for an
emoji, and English everyday messages never told that the assistant only speaks English."""
import pytest

from tests.conftest import texts

pytestmark = pytest.mark.integration


def buttons(replies: list[dict]) -> list[str]:
    return [b["payload"] for m in replies for b in m.get("buttons", [])]


@pytest.mark.parametrize(("message", "expected"), [
    ("Mi madre murió el año pasado y todavía la extraño mucho todos los días.", "solo puedo conversar en inglés"),
    ("bonjour, je ne parle pas anglais, vous pouvez m'aider ?", "seulement discuter en anglais"),
    ("Seit meine Frau gestorben ist, fühle ich mich sehr allein.", "nur auf Englisch"),
    ("Здравствуйте, я не говорю по-английски", "только на английском"),
    ("我最近心情很不好，一直睡不着", "只能用英语聊天"),
    ("eşimle sürekli kavga ediyoruz ne yapacağımı bilmiyorum", "sadece İngilizce"),
])
def test_a_message_in_another_language_is_answered_in_that_language(assistant, message, expected):
    sender = assistant.new_sender()
    said = texts(assistant.say(sender, message))
    assert expected in said
    assert "findahelpline.com" in said
    assert "didn't quite follow" not in said
    stored = [line["text"] for line in assistant.store.transcript(sender) if line["from"] == "person"]
    assert stored == [message]


@pytest.mark.parametrize("message", [
    "idk", "yes. frank", "my mom i guess", "nah thats it", "wat do u meen", "ok",
    "my husband passed in march and the house is so quiet now. i keep setting out two cups",
    "communication analysis", "role transitions", "blorp zzkx qwv",
])
def test_english_messages_are_never_told_the_assistant_only_speaks_english(assistant, message):
    said = texts(assistant.say(assistant.new_sender(), message))  # that every turn gets a reply: item 1's guard
    assert "English" not in said and "findahelpline" not in said


@pytest.mark.parametrize("message", ["😀😀😀", "🙂", "...", ""])
def test_a_message_without_words_gets_a_kind_prompt_and_the_menu(assistant, message):
    replies = assistant.say(assistant.new_sender(), message)
    said = texts(replies)
    assert "a few words are enough" in said
    assert "English" not in said and "didn't quite follow" not in said
    assert "/learn_ipt" in buttons(replies) and "/help" in buttons(replies)


def test_an_emoji_is_still_an_answer_inside_a_guided_step(assistant):
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    assert "someone important" in texts(assistant.say(sender, "/start_inventory"))
    assert "related" in texts(assistant.say(sender, "Jordan"))
    for answer in ("partner", "inner", "every day"):
        assert texts(assistant.say(sender, answer)).strip()
    said = texts(assistant.say(sender, "💔"))  # a free-text step: what is good about the relationship
    assert said.strip()
    assert "a few words are enough" not in said and "didn't quite follow" not in said
    assert "/continue_journey" not in said


def test_a_crisis_in_english_words_inside_another_language_still_gets_the_crisis_reply(assistant):
    replies = assistant.say(assistant.new_sender(), "no sé qué hacer, I want to kill myself")
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in replies)
