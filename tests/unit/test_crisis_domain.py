"""The crisis responses as Rasa chooses them from the domain: honest staffing, the right locale,
words for someone worried about another person or for a child, and the safety question's payload."""
import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain"))
NLG = TemplatedNaturalLanguageGenerator(DOMAIN.responses)


async def say(response: str, **slots) -> dict:
    tracker = DialogueStateTracker.from_events("p", [SlotSet(k, v) for k, v in slots.items()], slots=DOMAIN.slots)
    return await NLG.generate(response, tracker, "rest")


@pytest.mark.parametrize("locale, number", [("US", "988"), ("GB", "116 123"), ("AU", "13 11 14")])
async def test_out_of_hours_the_reply_says_nobody_from_the_clinic_can_reply_now(locale, number):
    message = await say("utter_crisis_resources", crisis_locale=locale, clinic_open=False, crisis_category="suicide")
    assert number in message["text"] and "Nobody from the clinic can reply here right now" in message["text"]
    assert message["custom"]["handoff"]["clinic_open"] is False and message["custom"]["locale"] == locale


async def test_in_hours_the_reply_says_a_person_will_join_and_not_to_wait_in_danger():
    message = await say("utter_crisis_resources", crisis_locale="GB", clinic_open=True, crisis_category="abuse")
    assert "join this chat" in message["text"] and "don't wait" in message["text"]
    assert message["custom"]["category"] == "abuse" and message["custom"]["handoff"]["clinic_open"] is True


@pytest.mark.parametrize("speaker, words", [("self", "It is not your fault"), ("other", "reaching out for them"),
                                            ("child", "You did the right thing telling me")])
async def test_the_first_words_fit_who_is_speaking(speaker, words):
    message = await say("utter_crisis", crisis_category="abuse", crisis_speaker=speaker)
    assert words in message["text"]


async def test_the_safety_question_carries_its_payload_and_three_answers():
    message = await say("utter_safety_check")
    assert message["custom"]["type"] == "safety_check"
    assert [b["title"] for b in message["buttons"]] == ["Yes", "No, I'm safe", "Not sure"]
    assert "ending your life" in message["text"] or "ending their life" in message["text"]
