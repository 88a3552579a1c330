"""The PHQ-9 (Kroenke, Spitzer & Williams, 2001): item keys, answers, total and severity band.

The item wording lives in the domain (`utter_journey_ask_phq9_<n>`); here is only the scoring.
A band describes the score; it is not a diagnosis, and the replies say so.
"""
from __future__ import annotations

from typing import Optional, Sequence

from bot.journey.answers import Unclear, normalise, parse_choice, strip_fillers

ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))
SELF_HARM_ITEM = "phq9_9"
ANSWERS = {
    "0": ("not at all", "never", "none", "no", "zero", "0 not at all", "not really", "nope", "nah", "not once",
          "no never", "hardly ever", "not much"),
    "1": ("several days", "some days", "a few days", "sometimes", "one", "1 several days", "a bit", "a little",
          "a few times", "once or twice", "now and then", "now and again", "occasionally", "on and off",
          "a couple of days", "a couple days"),
    "2": ("more than half the days", "more than half", "most days", "often", "two", "2 more than half the days",
          "half the time", "a lot", "quite a lot", "loads", "most of the time", "lots"),
    "3": ("nearly every day", "every day", "almost every day", "all the time", "always", "daily", "three",
          "3 nearly every day", "every single day", "constantly", "all day every day", "everyday"),
}
# Item 9 is scored "not at all" only from a plain no: anything else draws at least the safety question.
CLEAR_NO = {"0", "not at all", "never", "no", "none", "nope", "nah", "not once", "no never", "never ever",
            "0 not at all", "zero", "no not at all", "nope never", "not at all no"}
# (upper bound inclusive, band key) per the PHQ-9 scoring instructions.
BANDS = ((4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately_severe"), (27, "severe"))


def parse_answer(text: str) -> int:
    """0–3 from "2", "several days", "most days" ...; raises `Unclear("phq")` otherwise."""
    value = normalise(text)
    if value in {"0", "1", "2", "3"}:
        return int(value)
    for candidate in (value, strip_fillers(value)):
        try:
            return int(parse_choice(candidate, {key: synonyms for key, synonyms in ANSWERS.items()}, "phq"))
        except Unclear:
            continue
    raise Unclear("phq")


def is_clear_no(text: str) -> bool:
    """A plain "no" to item 9 ("not at all", "never", "nope"), nothing less certain."""
    return normalise(text) in CLEAR_NO


def answer_or_none(text: str) -> Optional[int]:
    try:
        return parse_answer(text)
    except Unclear:
        return None


def total(scores: Sequence[Optional[int]]) -> Optional[int]:
    """The sum of nine answered items; None when any item is missing (a partial PHQ-9 is not scored)."""
    if len(scores) != len(ITEMS) or any(score is None for score in scores):
        return None
    return sum(scores)  # type: ignore[arg-type]


def band(score: int) -> str:
    for upper, key in BANDS:
        if score <= upper:
            return key
    raise ValueError(f"PHQ-9 total out of range: {score}")


# ------------------------------------------------------------------ repeated measures
# The PHQ-9 is offered again at the 4th and 8th weekly check-ins and at the ending, to follow the change
# (IPT measures symptoms at the start and through treatment: Weissman, Markowitz & Klerman,
# "Comprehensive Guide to IPT", ch. 3, and the WHO Group IPT manual, 2016, which repeats its depression
# measure during the middle sessions and at the end). Item 9 is asked with the same step key, so the
# crisis policy's safety rules (bot/policies/crisis.py) apply at every repeat.
REPEAT_WEEKS = (4, 8)
# A fall of 5 points or more is a clinically meaningful change (Löwe, Unützer, Callahan, Perkins & Kroenke,
# "Monitoring depression treatment outcomes with the PHQ-9", Medical Care 2004).
MEANINGFUL_CHANGE = 5
BAR = "█"


# 10 is the usual PHQ-9 cut-off for depression worth treating (Kroenke, Spitzer & Williams 2001; Manea,
# Gilbody & McMillan, CMAJ 2012); moving from 10 or more to below it is the "recovery" used with the PHQ-9
# in routine care (McMillan, Gilbody & Richards, J Affect Disord 2010).
CUT_OFF = 10


def improved(first: int, now: int) -> bool:
    """Whether the PHQ-9 improved from `first` to `now`. It did when any of these holds:
    - it fell by 5 points or more (MEANINGFUL_CHANGE, Löwe et al. 2004);
    - it started at 10 or more and is now below 10 (out of the range worth treating, CUT_OFF);
    - it is now in the minimal range (0-4) and no higher than at the start.
    Otherwise there was no improvement: the ending then says the approach did not work for the person, not
    that the person failed (Weissman, Markowitz & Klerman, "Comprehensive Guide to IPT", termination)."""
    return (first - now >= MEANINGFUL_CHANGE or first >= CUT_OFF > now
            or (now <= BANDS[0][0] and now <= first))


def band_words(score: int) -> str:
    """The band of a score in words, e.g. "moderately severe"."""
    return band(score).replace("_", " ")


def rising(previous: int, now: int) -> bool:
    """Worse by a meaningful amount since the last PHQ-9 (the same 5 points as `improved`): a check-in
    that asks the safety question and suggests seeing a clinician (issue 13; Löwe et al. 2004 on the
    PHQ-9's 5-point minimal clinically important change)."""
    return now - previous >= MEANINGFUL_CHANGE


def chart(points: Sequence[tuple[str, int]]) -> str:
    """A small text picture: one line per time point, a bar of one block per point scored, then the total."""
    return "\n".join(f"{label}: {BAR * score} {score}" for label, score in points)
