"""The crisis lines of a conversation's own locale and for its category and speaker, through REST
against the running assistant (configured CRISIS_LOCALE=US)."""
import httpx
import pytest

from tests.conftest import texts

pytestmark = pytest.mark.integration


def say(assistant, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
    body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
    response = httpx.post(f"{assistant.rasa}/webhooks/rest/webhook", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def crisis_payload(replies: list[dict]) -> dict:
    [payload] = [m["custom"] for m in replies if (m.get("custom") or {}).get("type") == "crisis"]
    return payload


def test_the_widget_locale_chooses_the_lines_and_abuse_gets_the_abuse_line_first(assistant):
    message = "my husband hits me and i'm scared to go home"
    replies = say(assistant, assistant.new_sender(), message, {"locale": "en-GB"})
    payload = crisis_payload(replies)
    assert payload["locale"] == "GB" and payload["category"] == "abuse" and payload["lines_for"] == "abuse"
    assert payload["resources"][0]["phone"] == "0808 2000 247"
    said = texts(replies)
    assert "116 123" in said and "999" in said and "988" not in said


def test_a_country_without_lines_gets_the_international_fallback(assistant):
    replies = say(assistant, assistant.new_sender(), "i want to kill myself", {"locale": "de-DE"})
    payload = crisis_payload(replies)
    assert payload["locale"] == "INTL" and payload["resources"][0]["url"] == "https://findahelpline.com"
    assert "your local emergency number" in texts(replies) and "911" not in texts(replies)


def test_without_a_locale_the_configured_one_and_overdose_gets_poison_control(assistant):
    replies = say(assistant, assistant.new_sender(), "i just swallowed a whole bottle of pills")
    payload = crisis_payload(replies)
    assert payload["locale"] == "US" and payload["category"] == "overdose"
    assert payload["resources"][0]["emergency"] is True and payload["resources"][1]["phone"] == "1-800-222-1222"
