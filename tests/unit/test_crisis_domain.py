"""The crisis responses as Rasa chooses them from the domain: honest staffing, the right locale,
the lines and words for the category and for who is speaking, and the safety question's payload."""
import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.crisis.resources import GROUPS, SPEAKERS, all_locales, lines_key

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain"))
NLG = TemplatedNaturalLanguageGenerator(DOMAIN.responses)


async def say(response: str, **slots) -> dict:
    tracker = DialogueStateTracker.from_events("p", [SlotSet(k, v) for k, v in slots.items()], slots=DOMAIN.slots)
    return await NLG.generate(response, tracker, "rest")


async def crisis_reply(locale: str, category: str, speaker: str = "self", clinic_open: bool = False) -> dict:
    """utter_crisis_resources with the slots the crisis policy sets."""
    return await say("utter_crisis_resources", crisis_locale=locale, crisis_category=category, crisis_speaker=speaker,
                     crisis_lines=lines_key(locale, category, speaker), clinic_open=clinic_open)


def numbers(message: dict) -> list[str]:
    return [card.get("phone") or card.get("sms") or card.get("url") for card in message["custom"]["resources"]]


@pytest.mark.parametrize("locale, number", [("US", "988"), ("GB", "116 123"), ("AU", "13 11 14")])
async def test_out_of_hours_the_reply_says_nobody_from_the_clinic_can_reply_now(locale, number):
    message = await crisis_reply(locale, "suicide")
    assert number in message["text"] and "Nobody from the clinic can reply here right now" in message["text"]
    assert message["custom"]["handoff"]["clinic_open"] is False and message["custom"]["locale"] == locale


async def test_in_hours_the_reply_says_a_person_will_join_and_not_to_wait_in_danger():
    message = await crisis_reply("GB", "abuse", clinic_open=True)
    assert "join this chat" in message["text"] and "don't wait" in message["text"]
    assert message["custom"]["category"] == "abuse" and message["custom"]["handoff"]["clinic_open"] is True


@pytest.mark.parametrize("locale, first", [("US", "1-800-799-7233"), ("GB", "0808 2000 247"), ("IE", "1800 341 900"),
                                           ("AU", "1800 737 732"), ("NZ", "0800 733 843")])
async def test_abuse_gets_the_domestic_violence_line_first_then_the_general_line(locale, first):
    message = await crisis_reply(locale, "abuse")
    assert numbers(message)[0] == first and message["text"].index(first) < message["text"].index("immediate danger")
    general = next(r for r in all_locales()[locale]["resources"] if "general" in r["for"])
    assert general.get("phone") in numbers(message) and message["custom"]["lines_for"] == "abuse"


@pytest.mark.parametrize("locale, poison, emergency", [("US", "1-800-222-1222", "911"), ("AU", "13 11 26", "000"),
                                                       ("NZ", "0800 764 766", "111"), ("CA", "1-844-764-7669", "911"),
                                                       ("GB", "111", "999")])
async def test_overdose_gets_the_emergency_number_then_poison_control(locale, poison, emergency):
    message = await crisis_reply(locale, "overdose")
    cards = message["custom"]["resources"]
    assert cards[0]["emergency"] is True and cards[0]["phone"] == emergency and cards[1]["phone"] == poison
    assert message["text"].index(f"call {emergency} now") < message["text"].index(poison)


@pytest.mark.parametrize("locale, child_line", [("GB", "0800 1111"), ("AU", "1800 55 1800"), ("CA", "686868"),
                                                ("NZ", "0800 37 66 33")])
async def test_a_child_gets_the_child_line_first_and_is_told_they_did_right(locale, child_line):
    message = await crisis_reply(locale, "abuse", "child")
    assert numbers(message)[0] == child_line and message["custom"]["speaker"] == "child"
    words = await say("utter_crisis", crisis_category="abuse", crisis_speaker="child")
    assert words["text"].startswith("You did the right thing telling me")


async def test_someone_worried_about_another_person_is_told_how_to_help_and_gets_the_lines_for_that():
    message = await crisis_reply("GB", "suicide", "other")
    assert message["text"].startswith("How you can help") and "If anyone is in immediate danger" in message["text"]
    assert numbers(message)[0] == "111"  # NHS 111 mental health option: "for yourself, or someone else"
    assert "Rape" not in message["text"]  # abuse lines only where abuse is the matter


async def test_harm_to_others_leads_with_the_emergency_number():
    message = await crisis_reply("US", "harm_to_others")
    assert message["text"].startswith("If anyone is in danger right now, call 911")
    assert message["custom"]["resources"][0]["emergency"] is True


async def test_the_international_fallback_gives_the_directory_and_the_local_emergency_number():
    message = await crisis_reply("INTL", "suicide")
    assert "https://findahelpline.com" in message["text"] and "your local emergency number" in message["text"]
    emergency = message["custom"]["resources"][-1]
    assert emergency["emergency"] is True and "tel" not in emergency
    assert message["custom"]["resources"][0]["url"] == "https://findahelpline.com"


@pytest.mark.parametrize("locale", sorted(all_locales()))
async def test_every_line_key_of_every_locale_has_its_own_reply(locale):
    for group in GROUPS:
        for speaker in SPEAKERS:
            message = await crisis_reply(locale, group, speaker)
            assert message["custom"]["locale"] == locale and message["custom"]["lines_for"] == group


@pytest.mark.parametrize("speaker, words", [("self", "It is not your fault"), ("other", "reaching out for them"),
                                            ("child", "You did the right thing telling me")])
async def test_the_first_words_fit_who_is_speaking(speaker, words):
    message = await say("utter_crisis", crisis_category="abuse", crisis_speaker=speaker)
    assert words in message["text"]


async def test_the_first_words_for_someone_else_fit_the_category():
    message = await say("utter_crisis", crisis_category="overdose", crisis_speaker="other")
    assert "medical help now" in message["text"] and "reaching out for them" in message["text"]


def test_every_response_variation_has_one_match():
    """Rasa picks at random among all matching conditional variations: no two may share conditions."""
    for name in ("utter_crisis", "utter_crisis_resources"):
        conditions = [tuple((c["name"], c["value"]) for c in v["condition"])
                      for v in DOMAIN.responses[name] if v.get("condition")]
        assert len(conditions) == len(set(conditions)), name
        assert all(len({slot for slot, _ in c}) == len(c) for c in conditions)


async def test_the_safety_question_carries_its_payload_and_three_answers():
    message = await say("utter_safety_check")
    assert message["custom"]["type"] == "safety_check"
    assert [b["title"] for b in message["buttons"]] == ["Yes", "No, I'm safe", "Not sure"]
    assert "ending your life" in message["text"] or "ending their life" in message["text"]
