"""Crisis resources per locale and the generated crisis domain."""
import pytest
import yaml

from bot.crisis import render_domain
from bot.crisis.resources import INTERNATIONAL, all_locales, normalise_locale, resources_payload, resources_text


def test_generated_domain_is_up_to_date():
    assert render_domain.main(["--check"]) == 0, "run `make crisis-domain`"


@pytest.mark.parametrize("locale, must_name", [
    ("US", ["988", "911"]), ("GB", ["116 123", "999"]), ("IE", ["116 123", "112"]),
    ("CA", ["988", "911"]), ("AU", ["13 11 14", "000"]), ("NZ", ["1737", "111"]),
])
def test_each_locale_names_its_crisis_line_and_emergency_number(locale, must_name):
    text = resources_text(locale)
    for number in must_name:
        assert number in text


def test_locale_names_are_forgiving():
    assert normalise_locale("uk") == "GB"
    assert normalise_locale(" nz ") == "NZ"
    assert normalise_locale("xx") == "US"
    assert normalise_locale(None) == "US"


def test_payload_has_tap_to_call_and_tap_to_text_links():
    cards = resources_payload("US")
    expected = {"name": "988 Suicide & Crisis Lifeline", "tel": "tel:988", "sms_link": "sms:988"}
    assert expected.items() <= cards[0].items()
    assert cards[-1]["emergency"] is True and cards[-1]["tel"] == "tel:911"
    abuse = resources_payload("US", "abuse")
    assert abuse[0]["tel"] == "tel:18007997233" and abuse[0]["sms_link"] == "sms:88788?body=START"
    assert resources_payload("AU")[0]["sms_link"] == "sms:0477131114"


def test_every_line_shown_names_its_official_source_and_what_it_is_for():
    tags = {"general", "abuse", "child", "child_abuse", "overdose", "worried_other"}
    for locale, info in all_locales().items():
        assert info["emergency"]
        assert locale == INTERNATIONAL or info["emergency_source"].startswith("http")
        assert any("general" in line["for"] for line in info["resources"]), locale
        for line in info["resources"]:
            assert line["source"].startswith("http"), line["name"]
            assert line["verification"] in ("official", "government"), line["name"]
            assert set(line["for"]) <= tags and line["for"], line["name"]
            assert line.get("phone") or line.get("sms") or line.get("url"), line["name"]


def test_unverified_numbers_are_not_shown():
    shown = {line.get("phone") or line.get("sms") for info in all_locales().values() for line in info["resources"]}
    # Crisis Text Line 741741, Text 50808 (IE), Kids Help Phone by phone, Childhelp: not on an official page
    assert not shown & {"741741", "50808", "1-800-668-6868", "1-800-422-4453"}


def test_every_locale_has_a_crisis_response_variation_with_the_contract_payload():
    domain = yaml.safe_load(render_domain.DOMAIN_FILE.read_text())
    variations = domain["responses"]["utter_crisis_resources"]
    conditioned = {v["condition"][0]["value"].split(".")[0]: v for v in variations if "condition" in v}
    assert set(conditioned) == {"US", "GB", "IE", "CA", "AU", "NZ", "INTL"}
    for variation in variations:
        payload = variation["custom"]
        assert payload["type"] == "crisis" and payload["category"] == "{crisis_category}"
        assert payload["resources"] and payload["handoff"]["status"] == "requested"
