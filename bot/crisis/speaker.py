"""Who a crisis message is about: the writer ("self"), someone else ("other"), or a child writing
about themself ("child"), so the reply speaks to the right person with the right lines.

A plain reading of the sentence that triggered the crisis: a child's own words (an age under 13, a
school year, "mommy", "my teacher") make it "child"; a third person as its subject ("my friend says
she wants to...", "my son has burn marks") with no "I/me/my ... myself" makes it "other". When in
doubt it is "self": the person writing gets the lines either way.
"""
from __future__ import annotations

import re

SELF, OTHER, CHILD = "self", "other", "child"
SPEAKERS = (SELF, OTHER, CHILD)

_OTHERS = (r"friend|bestie|bff|mate|son|daughter|kid|kids|child|teen|teenager|boy|girl|husband|wife|partner|"
           r"boyfriend|girlfriend|bf|gf|mum|mom|mother|dad|father|brother|sister|sibling|cousin|nephew|niece|"
           r"grandson|granddaughter|grandma|grandpa|gran|nan|aunt|uncle|student|pupil|patient|client|colleague|"
           r"coworker|flatmate|roommate|neighbou?r|ex|fianc[eé]e?|stepson|stepdaughter|classmate|teammate")
_THIRD_PERSON_RISK = re.compile(
    rf"\b(?:my|our|a|his|her|their)\s+(?:\w+\s+)?(?:{_OTHERS})\b(?:\s*\(\d+\))?.*?\b(?:he|she|they|him|her|them|"
    r"himself|herself|themselves|says|said|keeps|has|is|was|wants|told|texted|talks|talked|talking|been|took|"
    r"cuts|hurts|hit|hits|threatened)\b", re.IGNORECASE)
_SELF_RISK = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'll|ill|me|myself)\b[^.!?]{0,40}\b(?:kill|die|dead|end|hurt|cut|overdose|"
    r"suicid\w*|harm|pills|jump|hang|not be here|disappear|join)", re.IGNORECASE)
_ME = re.compile(r"\b(?:me|myself)\b", re.IGNORECASE)  # "my partner hits me": the writer is the one at risk
_WORRY = re.compile(r"\b(?:worried|scared|afraid|concerned|frightened)\s+(?:about|for|that)\s+(?:my|our|a)\b|"
                    r"\bhow (?:do|can) i help\b|\bwhat (?:do|should) i do\b", re.IGNORECASE)
_CHILD = re.compile(
    r"\b(?:i'?m|i am|im)\s+(?:[4-9]|1[0-2])\b(?!\s*(?:weeks|months|days|hours|pm|am|%))|"
    r"\b(?:i'?m|i am|im) in (?:year|grade|yr|class) ?(?:[1-7])\b|\b(?:mommy|mummy|daddy)\b|"
    r"\bmy (?:teacher|babysitter|nanny)\b.*\b(?:me|my)\b|\bprimary school\b|\brecess\b|\bmy privates\b",
    re.IGNORECASE)


def speaker_of(text: str) -> str:
    """SELF, OTHER or CHILD for a crisis message (see the module docstring)."""
    text = text or ""
    if _CHILD.search(text):
        return CHILD
    third = _THIRD_PERSON_RISK.search(text) or _WORRY.search(text)
    if third and not _SELF_RISK.search(text) and not _ME.search(text):
        return OTHER
    return SELF
