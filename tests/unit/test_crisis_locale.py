"""The locale of a conversation (message metadata, then a phone number's country, then CRISIS_LOCALE)
and the lines chosen for each category and speaker."""
import pytest
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.locale import conversation_locale, country_of_phone, country_of_tag, locale_from_metadata
from bot.crisis.resources import INTERNATIONAL, select_lines
from bot.policies.crisis import CrisisPolicy


@pytest.fixture(autouse=True)
def configured_gb(monkeypatch):
    monkeypatch.setenv("CRISIS_LOCALE", "GB")
    monkeypatch.delenv("CLINIC_HOURS", raising=False)


@pytest.mark.parametrize("metadata, locale", [
    ({"locale": "en-GB"}, "GB"), ({"locale": "en_au"}, "AU"), ({"locale": "fr-CA"}, "CA"), ({"locale": "en-US"}, "US"),
    ({"locale": "ga-IE"}, "IE"), ({"locale": "mi-NZ"}, "NZ"), ({"country": "uk"}, "GB"), ({"locale": "GB"}, "GB"),
    ({"locale": "de-DE"}, INTERNATIONAL), ({"locale": "zh-Hant-TW"}, INTERNATIONAL), ({"country": "IN"}, INTERNATIONAL),
    ({"locale": "en"}, None), ({"locale": "de"}, None), ({"locale": "en-419"}, None), ({"locale": "xx-XX"}, None),
    ({"locale": 44}, None), ({}, None), (None, None), ("en-GB", None),
])
def test_the_locale_from_message_metadata(metadata, locale):
    assert locale_from_metadata(metadata) == locale


@pytest.mark.parametrize("sender, country", [
    ("+447700900123", "GB"), ("whatsapp:+61412345678", "AU"), ("+14165550123", "CA"), ("+12025550123", "US"),
    ("+353861234567", "IE"), ("+6421123456", "NZ"), ("+4915112345678", "DE"), ("twilio:+447700900123", "GB"),
    ("07700900123", None), ("+", None), ("abc", None), ("", None), (None, None),
])
def test_the_country_of_a_phone_number(sender, country):
    assert country_of_phone(sender) == country


def test_the_order_metadata_then_phone_then_configuration():
    assert conversation_locale([None, {"locale": "en-AU"}], "+447700900123", "twilio") == "AU"
    assert conversation_locale([{}], "+61412345678", "twilio") == "AU"
    assert conversation_locale([], "+4915112345678", "twilio") == INTERNATIONAL
    assert conversation_locale([], "+61412345678", "rest") == "GB"  # a REST sender id is not a phone number
    assert conversation_locale([{"locale": "en"}], "abc", "rest") == "GB"
    assert country_of_tag(" en-NZ ") == "NZ"


def crisis(text, category="suicide", speaker="self", metadata=None, sender="p", channel="rest"):
    events = [ActionExecuted("action_listen"),
              UserUttered(text, {"name": "crisis", "crisis_category": category, "crisis_speaker": speaker},
                          metadata=metadata, input_channel=channel)]
    tracker = DialogueStateTracker.from_events(sender, events)
    action, events = CrisisPolicy.next_action(tracker)
    assert action == "utter_crisis"
    return {e.key: e.value for e in events if hasattr(e, "key")}


def test_the_policy_uses_the_widget_locale_sent_as_metadata():
    slots = crisis("my partner hits me", "abuse", metadata={"locale": "en-AU"})
    assert slots["crisis_locale"] == "AU" and slots["crisis_lines"] == "AU.abuse.self"


def test_the_policy_uses_the_locale_of_an_earlier_message():
    events = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}, metadata={"locale": "en-NZ"}),
              ActionExecuted("utter_greet"), ActionExecuted("action_listen"),
              UserUttered("i took all my pills", {"name": "crisis", "crisis_category": "overdose"})]
    _, set_events = CrisisPolicy.next_action(DialogueStateTracker.from_events("p", events))
    slots = {e.key: e.value for e in set_events if hasattr(e, "key")}
    assert slots["crisis_lines"] == "NZ.overdose.self"


def test_the_policy_uses_the_country_of_a_twilio_sender_and_the_fallback_for_an_unknown_one():
    assert crisis("i want to die", sender="whatsapp:+61412345678", channel="twilio")["crisis_locale"] == "AU"
    french = crisis("i want to die", sender="+33612345678", channel="twilio")
    assert french["crisis_lines"] == "INTL.general.self"


def test_the_policy_maps_an_unknown_category_or_speaker_to_values_the_domain_names():
    slots = crisis("...", category="something_new", speaker="robot")
    assert slots["crisis_category"] == "unspecified" and slots["crisis_speaker"] == "self"
    assert slots["crisis_lines"] == "GB.general.self"


def names(locale, category, speaker="self"):
    return [line["name"] for line in select_lines(locale, category, speaker)]


@pytest.mark.parametrize("locale, category, speaker, first", [
    ("US", "suicide", "self", "988 Suicide & Crisis Lifeline"),
    ("US", "abuse", "self", "National Domestic Violence Hotline"),
    ("US", "overdose", "self", "Poison Help"),
    ("GB", "abuse", "child", "Childline (under 19)"),
    ("GB", "self_harm", "child", "Childline (under 19)"),
    ("GB", "overdose", "child", "NHS 111 (poisoning advice)"),
    ("GB", "suicide", "other", "NHS 111, mental health option (England)"),
    ("IE", "abuse", "other", "Women's Aid National Freephone Helpline"),
    ("AU", "abuse", "other", "1800RESPECT"),
    ("NZ", "harm_to_others", "self", "Need to talk? 1737"),
    ("INTL", "abuse", "child", "Find A Helpline"),
])
def test_the_lines_that_fit_come_first(locale, category, speaker, first):
    assert names(locale, category, speaker)[0] == first


@pytest.mark.parametrize("locale", ["US", "GB", "IE", "CA", "AU", "NZ", "INTL"])
def test_every_selection_keeps_a_general_line_and_stays_short(locale):
    for category in ("suicide", "self_harm", "abuse", "overdose", "harm_to_others", "unspecified"):
        for speaker in ("self", "other", "child"):
            lines = select_lines(locale, category, speaker)
            assert 1 <= len(lines) <= 4
            assert any("general" in line["for"] for line in lines), (locale, category, speaker)
            if category != "abuse":
                assert not any("abuse" in line["for"] and "general" not in line["for"] for line in lines)
