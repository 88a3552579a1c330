"""The interpersonal inventory: the limits and the list as text (the picture is in circle.py)."""
from __future__ import annotations

from typing import Iterable

from bot.journey.state import PersonEntry

MAX_PEOPLE = 20
SUGGESTED_PEOPLE = 3
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


def people_text(people: Iterable[PersonEntry]) -> str:
    """One line per person, inner circle first: "• Sam (partner) · inner circle · in touch daily"."""
    order = {"inner": 0, "middle": 1, "outer": 2}
    lines = []
    for person in sorted(people, key=lambda p: order.get(p.closeness or "outer", 3)):
        details = [f"{person.closeness} circle" if person.closeness else None,
                   f"in touch {person.contact}" if person.contact else None,
                   {"yes": "supportive", "sometimes": "sometimes supportive", "no": "not supportive"}.get(
                       person.supported or "")]
        relation = f" ({person.relationship})" if person.relationship else ""
        lines.append(f"• {person.name}{relation}" + "".join(f" · {d}" for d in details if d))
    return "\n".join(lines)
