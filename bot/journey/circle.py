"""The closeness circle: the inventory drawn as three rings (inner, middle, outer), as SVG.

Names are escaped; the picture has a title and a description for screen readers. Channels that
cannot show pictures get the same list as text.
"""
from __future__ import annotations

import math
from html import escape
from typing import Iterable

from bot.journey.state import PersonEntry

SIZE = 480
RINGS = (("inner", 80, "#c8e6c9"), ("middle", 150, "#e3f2fd"), ("outer", 220, "#f3e5f5"))
_RADIUS_FOR = {"inner": 50, "middle": 118, "outer": 188}


def _label(person: PersonEntry) -> str:
    name = person.name if len(person.name) <= 16 else person.name[:15] + "…"
    return escape(name)


def render_svg(people: Iterable[PersonEntry], title: str = "The people in my life") -> str:
    people = list(people)
    centre = SIZE / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        'role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(title)}</title>',
        '<desc id="d">' + escape(describe(people)) + "</desc>",
        f'<rect width="{SIZE}" height="{SIZE}" fill="#ffffff"/>',
    ]
    for _key, radius, colour in reversed(RINGS):
        parts.append(f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="{colour}" stroke="#607d8b"/>')
    parts.append(f'<circle cx="{centre}" cy="{centre}" r="16" fill="#37474f"/>')
    parts.append(f'<text x="{centre}" y="{centre + 34}" font-family="sans-serif" font-size="13" '
                 'text-anchor="middle" fill="#263238">me</text>')
    for ring, _radius, _colour in RINGS:
        members = [p for p in people if (p.closeness or "outer") == ring]
        radius = _RADIUS_FOR[ring]
        for index, person in enumerate(members):
            angle = -math.pi / 2 + (2 * math.pi * index / max(len(members), 1)) + (0.3 if ring == "middle" else 0)
            x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#1565c0"/>')
            parts.append(f'<text x="{x:.1f}" y="{y - 10:.1f}" font-family="sans-serif" font-size="14" '
                         f'text-anchor="middle" fill="#0d2538">{_label(person)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def describe(people: Iterable[PersonEntry]) -> str:
    """The picture in words: who is in which circle."""
    people = list(people)
    if not people:
        return "No one added yet."
    lines = []
    for ring, _radius, _colour in RINGS:
        names = [p.name for p in people if (p.closeness or "outer") == ring]
        if names:
            lines.append(f"{ring.capitalize()} circle: {', '.join(names)}.")
    return " ".join(lines)
