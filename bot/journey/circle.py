"""The closeness circle: the inventory drawn as three rings (inner, middle, outer), as SVG.

Names are escaped; the picture has a title and a description for screen readers. Channels that
cannot show pictures get the same list as text. People who have died are drawn apart, in a dashed
"remembered" band under the circles, not among the people around the person now (issue 13, item 3).
"""
from __future__ import annotations

import math
from html import escape
from typing import Iterable

from bot.journey.state import PersonEntry

SIZE = 480
BAND = 70  # the height of the "remembered" band, drawn only when someone has died
RINGS = (("inner", 80, "#c8e6c9"), ("middle", 150, "#e3f2fd"), ("outer", 220, "#f3e5f5"))
_RADIUS_FOR = {"inner": 50, "middle": 118, "outer": 188}


def _label(person: PersonEntry) -> str:
    name = person.name if len(person.name) <= 16 else person.name[:15] + "…"
    return escape(name)


def render_svg(people: Iterable[PersonEntry], title: str = "The people in my life") -> str:
    everyone = list(people)
    people = [p for p in everyone if not p.deceased]
    remembered = [p for p in everyone if p.deceased]
    centre = SIZE / 2
    height = SIZE + (BAND if remembered else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{height}" viewBox="0 0 {SIZE} {height}" '
        'role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(title)}</title>',
        '<desc id="d">' + escape(describe(everyone)) + "</desc>",
        f'<rect width="{SIZE}" height="{height}" fill="#ffffff"/>',
    ]
    for _key, radius, colour in reversed(RINGS):
        parts.append(f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="{colour}" stroke="#607d8b"/>')
    parts.append(f'<circle cx="{centre}" cy="{centre}" r="16" fill="#37474f"/>')
    parts.append(f'<text x="{centre}" y="{centre + 34}" font-family="sans-serif" font-size="13" '
                 'text-anchor="middle" fill="#263238">me</text>')
    taken = [_box(centre, centre + 34, "me", 13)]
    dots = []
    for ring, _radius, _colour in RINGS:
        members = [p for p in people if (p.closeness or "outer") == ring]
        radius = _RADIUS_FOR[ring]
        for index, person in enumerate(members):
            angle = -math.pi / 2 + (2 * math.pi * index / max(len(members), 1)) + (0.3 if ring == "middle" else 0)
            dots.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle), person))
    taken += [(x - 7, y - 7, x + 7, y + 7) for x, y, _person in dots]
    for x, y, person in dots:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#1565c0"/>')
        parts.append(_placed_label(x, y, person, taken))
    if remembered:
        top = SIZE + 4
        parts.append(f'<rect class="remembered" x="8" y="{top}" width="{SIZE - 16}" height="{BAND - 12}" rx="10" '
                     'fill="#fafafa" stroke="#78909c" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="20" y="{top + 20}" font-family="sans-serif" font-size="13" fill="#455a64">'
                     'Remembered</text>')
        step = (SIZE - 40) / (len(remembered) + 1)
        for index, person in enumerate(remembered):
            x, y = 20 + step * (index + 1), top + 42
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="none" stroke="#546e7a" '
                         'stroke-dasharray="3 2"/>')
            parts.append(f'<text x="{x + 10:.1f}" y="{y + 5:.1f}" font-family="sans-serif" font-size="14" '
                         f'fill="#37474f">{_label(person)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _box(x: float, baseline: float, text: str, size: int, anchor: str = "middle") -> tuple[float, ...]:
    """A generous estimate of a label's box (sans-serif: about 0.62 em a character)."""
    width = 0.62 * size * len(text) + 2
    left = x - width / 2 if anchor == "middle" else x if anchor == "start" else x - width
    return left, baseline - size, left + width, baseline + size * 0.3


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _placed_label(x: float, y: float, person: PersonEntry, taken: list[tuple[float, ...]]) -> str:
    """The name next to its dot where it overlaps no other name, dot or "me": above, below, right or
    left, then smaller; if nothing is free, the place that overlaps least. The chosen box is kept."""
    text = _label(person)
    plain = person.name if len(person.name) <= 16 else person.name[:15] + "…"
    best = None
    for size in (14, 12):
        for dx, dy, anchor in ((0, -10, "middle"), (0, 10 + size, "middle"), (10, 5, "start"), (-10, 5, "end"),
                               (0, -24, "middle"), (0, 24 + size, "middle")):
            box = _box(x + dx, y + dy, plain, size, anchor)
            inside = box[0] >= 0 and box[2] <= SIZE and box[1] >= 0 and box[3] <= SIZE
            own = (x - 7, y - 7, x + 7, y + 7)  # its own dot: the name sits just next to it
            clashes = sum(_overlaps(box, other) for other in taken if other != own) + (0 if inside else 1)
            if best is None or clashes < best[0]:
                best = (clashes, x + dx, y + dy, anchor, size, box)
            if clashes == 0:
                break
        if best[0] == 0:
            break
    _clashes, lx, ly, anchor, size, box = best
    taken.append(box)
    return (f'<text x="{lx:.1f}" y="{ly:.1f}" font-family="sans-serif" font-size="{size}" '
            f'text-anchor="{anchor}" fill="#0d2538">{text}</text>')


def describe(people: Iterable[PersonEntry]) -> str:
    """The picture in words: who is in which circle."""
    people = list(people)
    if not people:
        return "No one added yet."
    lines = []
    for ring, _radius, _colour in RINGS:
        names = [p.name for p in people if (p.closeness or "outer") == ring and not p.deceased]
        if names:
            lines.append(f"{ring.capitalize()} circle: {', '.join(names)}.")
    remembered = [p.name for p in people if p.deceased]
    if remembered:
        lines.append(f"Remembered, who have died: {', '.join(remembered)}.")
    return " ".join(lines)
