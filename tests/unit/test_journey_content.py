"""Every message the journey can send exists in the domain, reads plainly, and does not diagnose."""
import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.content.readability import fk_grade, sentence_count
from bot.journey import exercises, phq9, problem_areas, steps
from bot.journey.state import PHASES

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain" / "journey.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
CODE = "\n".join(p.read_text() for p in (PROJECT_ROOT / "bot" / "journey").glob("*.py"))
STANDARD_WORDING = {f"utter_journey/ask_{item}" for item in phq9.ITEMS}  # the PHQ-9's own words


def responses_the_journey_can_send() -> set[str]:
    names = set(re.findall(r'"(utter_journey/[a-z0-9_]+)"', CODE))
    names |= {f"utter_journey/ask_{s.key}" for a in steps.ACTIVITIES.values() for s in a if s.response is None}
    names |= {f"utter_journey/ask_{item}" for item in phq9.ITEMS}
    names |= {f"utter_journey/retry_{kind}" for kind in ("text", "name", "number", "phq", "yes_no", "choice")}
    names |= {f"utter_journey/phq9_band_{band}" for _, band in phq9.BANDS}
    for area in problem_areas.AREAS:
        names |= {f"utter_journey/area_{area}", f"utter_journey/ask_goal_1_{area}",
                  f"utter_journey/ask_between_step_{area}"}
        for exercise in exercises.EXERCISES[area]:
            names |= {exercises.prompt_response(exercise, n) for n in range(1, exercises.PROMPTS_PER_EXERCISE + 1)}
    names |= {f"utter_journey/stage_{stage}" for stage in problem_areas.DISPUTE_STAGES}
    names |= {f"utter_journey/ask_new_value_{field}" for field in steps.PERSON_FIELDS}
    names |= {f"utter_journey/status_{phase}" for phase in PHASES}
    names |= {f"utter_journey/offer_{activity}" for activity in ("checkin", "inventory", "screening", "formulation",
                                                                  "weekly", "ending")}
    names |= {f"utter_journey/mood_{trend}" for trend in ("up", "down", "same")}
    names |= {f"utter_journey/{name}" for name in ("welcome_back", "welcome_back_named", "hello_again",
                                                   "hello_again_named",
                                                   "ask_person_name_first", "ask_inventory_more_suggest",
                                                   "ask_remove_person")}
    return names


def test_every_message_the_journey_can_send_is_in_the_domain():
    missing = sorted(responses_the_journey_can_send() - set(RESPONSES))
    assert not missing, missing


def responses_in_rules_and_stories() -> set[str]:
    text = "\n".join(p.read_text() for p in (PROJECT_ROOT / "data").glob("*/*.yml"))
    return set(re.findall(r"action: (utter_[a-z0-9_]+)", text))


def test_every_journey_response_is_used():
    unused = sorted(set(RESPONSES) - responses_the_journey_can_send() - responses_in_rules_and_stories()
                    - {"utter_journey"})
    assert not unused, unused


@pytest.mark.parametrize("name", sorted(set(RESPONSES) - STANDARD_WORDING))
def test_journey_messages_are_short_and_plain(name):
    for variation in RESPONSES[name]:
        text = re.sub(r"\{[a-z_]+\}", "Sam", variation["text"])
        assert sentence_count(text) <= 3, text
        assert fk_grade(text) <= 9, (fk_grade(text), text)


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_no_message_diagnoses_or_claims_to_be_a_clinician(name):
    for variation in RESPONSES[name]:
        text = variation["text"].lower()
        assert not re.search(r"\byou (have|are suffering from) (depression|a disorder|an illness)\b", text)
        assert "i am a therapist" not in text and "i'm a therapist" not in text
