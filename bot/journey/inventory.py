"""The interpersonal inventory: the limits and the list as text (the picture is in circle.py)."""
from __future__ import annotations

import re
from typing import Iterable

from bot.journey.state import PersonEntry

MAX_PEOPLE = 20
CLOSENESS = {
    "inner": ("inner", "inner circle", "very close", "closest", "close", "1"),
    "middle": ("middle", "middle circle", "fairly close", "somewhat close", "quite close", "2"),
    "outer": ("outer", "outer circle", "not close", "not very close", "distant", "far", "3"),
}
SUPPORTED = {
    "yes": ("yes", "yeah", "yep", "supported", "i do", "very", "always", "mostly"),
    "sometimes": ("sometimes", "a bit", "a little", "kind of", "sort of", "partly", "it depends", "depends"),
    "no": ("no", "nope", "not really", "never", "not at all", "i don't", "unsupported"),
}


# A person who has died is recorded so (issue 13, item 3). In IPT, grief is the problem area for the death
# of someone important, and the questions about them fit a loss: what you miss, what was hard between you,
# what is hardest now (Weissman, Markowitz & Klerman, "Comprehensive Guide to IPT", ch. on grief; WHO
# Group IPT manual 2016, "grief: the death of a loved one"). A name or relationship answer that says so:
# "my wife. she died in 2019", "my late husband", "dad, he passed last year", "my mum (passed)".
_DEATH = re.compile(
    r"\b(?:died|dead(?![-\w]|\s+(?:set|end|tired|serious|beat|line|inside|sure|against)\b)|"
    r"passed away|passed on|passed(?!\s+(?:my|the|a|an|his|her|their|our|it|out)\b)|"
    r"deceased|no longer with us|r\.?i\.?p\b|killed|lost (?:him|her|them)\s+(?:to|in|last|when|\d)|"
    r"(?:(?<=^)|(?<=\bmy )|(?<=\bour )|(?<=\bhis )|(?<=\bher ))late(?=\s+\w))", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.,;:!?(\u2013\u2014-]|\b(?:who|and|but)\b", re.IGNORECASE)
_LEAD_WORDS = re.compile(r"(?:\s+\b(?:he|she|they|who|has|have|had|sadly|recently|just|was|is|unfortunately)\b)+\s*$",
                         re.IGNORECASE)


def says_died(text: str | None) -> bool:
    """The answer says the person has died ("she died in 2019", "my late husband", "(passed)")."""
    return bool(_DEATH.search(text or ""))


def without_death(text: str) -> str:
    """The answer without what says the person died, to read the name or relation from it:
    "my wife. she died in 2019" -> "my wife"; "my late husband" -> "my husband"; "dad, he passed" -> "dad"."""
    text = re.sub(r"\(([^)]*)\)", lambda m: "" if says_died(m.group(1)) else m.group(0), text or "")
    text = re.sub(r"\b((?:my|our|his|her)\s+)late\s+", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"^\s*late\s+", "", text, flags=re.IGNORECASE)
    match = _DEATH.search(text)
    if match:
        before = text[: match.start()]
        breaks = list(_CLAUSE_BREAK.finditer(before))
        kept = before[: breaks[-1].start()] if breaks else _LEAD_WORDS.sub("", before)
        text = kept if kept.strip(" .,;:!?-") else text[match.end():]
    return text.strip(" .,;:!?-\u2013\u2014")


def living(people: Iterable[PersonEntry]) -> list[PersonEntry]:
    """The people who are alive: the ones there is contact with this week."""
    return [p for p in people if not p.deceased]


def people_text(people: Iterable[PersonEntry]) -> str:
    """One line per person, inner circle first: "• Sam (partner) · inner circle · in touch daily";
    someone who has died is marked so and listed after the living."""
    order = {"inner": 0, "middle": 1, "outer": 2}
    lines = []
    for person in sorted(people, key=lambda p: (p.deceased, order.get(p.closeness or "outer", 3))):
        details = ["died", f"{person.closeness} circle" if person.closeness else None] if person.deceased else [
                   f"{person.closeness} circle" if person.closeness else None,
                   f"in touch {person.contact}" if person.contact else None,
                   {"yes": "supportive", "sometimes": "sometimes supportive", "no": "not supportive"}.get(
                       person.supported or "")]
        relation = f" ({person.relationship})" if person.relationship else ""
        lines.append(f"• {person.name}{relation}" + "".join(f" · {d}" for d in details if d))
    return "\n".join(lines)
