"""Small server-rendered SVG charts for the conversation page (no charting library, no script).

Every chart has a <title> and a <desc> that says the same as the picture in words, so a screen reader
reads the values; the page shows the same numbers as a table too. All text is escaped.
"""
from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Optional, Sequence

from markupsafe import Markup

from bot.journey import phq9

WIDTH, HEIGHT = 400, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 14, 12, 30
GUIDE_LABEL_WIDTH = 104
PHQ9_BAND_LABELS = {"minimal": "minimal", "mild": "mild", "moderate": "moderate",
                    "moderately_severe": "moderately severe", "severe": "severe"}
# Short wording of the nine items (Kroenke, Spitzer & Williams, 2001), for the item table.
PHQ9_ITEM_LABELS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed or hopeless",
    "Trouble with sleep (falling or staying asleep, or sleeping too much)",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about themselves",
    "Trouble concentrating",
    "Moving or speaking slowly, or being fidgety and restless",
    "Thoughts of being better off dead or of hurting themselves",
)
ANSWER_LABELS = ("not at all", "several days", "more than half the days", "nearly every day")


def band_label(total: Optional[int]) -> str:
    """'moderate' for 12; '' when there is no total."""
    if total is None:
        return ""
    return PHQ9_BAND_LABELS[phq9.band(total)]


def _day(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return f"{value.day} {value.strftime('%b %Y')}"


def line_chart(points: Sequence[tuple[datetime, int]], y_max: int, title: str, unit: str = "",
               guides: Sequence[tuple[int, str]] = (), chart_id: str = "chart") -> Markup:
    """A line chart of `points` (time, value) from 0 to `y_max`, oldest first, with dashed guide lines
    (value, label), e.g. the PHQ-9 band limits. Points are spaced evenly (check-ins are what matter,
    not the days between them). Empty `points`: an empty string."""
    points = sorted(((at if at.tzinfo else at.replace(tzinfo=timezone.utc)), int(v)) for at, v in points)
    if not points:
        return Markup("")
    # Guide labels sit right of the plot, where no point or value can cover them.
    right = RIGHT + (GUIDE_LABEL_WIDTH if guides else 0)
    inner_w, inner_h = WIDTH - LEFT - right, HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return TOP + inner_h * (1 - min(max(value, 0), y_max) / y_max)

    step = inner_w / max(len(points) - 1, 1)
    xy = [(LEFT + (step * i if len(points) > 1 else inner_w / 2), y_of(v)) for i, (_at, v) in enumerate(points)]
    words = "; ".join(f"{_day(at)}: {v}{unit}" for at, v in points)
    tid, did = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{tid} {did}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{tid}">{escape(title)}</title>',
             f'<desc id="{did}">{escape(f"{len(points)} values, oldest first. {words}.")}</desc>',
             f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - right}" y2="{TOP + inner_h}" stroke="#767676"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + inner_h}" stroke="#767676"/>',
             f'<text x="{LEFT - 6}" y="{TOP + inner_h + 4}" text-anchor="end" font-size="11" fill="#4a4a4a">0</text>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11" fill="#4a4a4a">{y_max}</text>']
    for value, label in guides:
        y = y_of(value)
        parts.append(f'<line class="guide" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - right + 4}" y2="{y:.1f}" '
                     'stroke="#9e9e9e" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{WIDTH - right + 8}" y="{y + 4:.1f}" text-anchor="start" font-size="11" '
                     f'fill="#4a4a4a">{escape(label)}</text>')
    if len(xy) > 1:
        parts.append('<polyline fill="none" stroke="#0b5394" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    for (x, y), (_at, value) in zip(xy, points, strict=True):
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#0b5394"/>')
        parts.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11" '
                     f'fill="#1b1b1b">{value}</text>')
    # Dates under the first and last point only, so they never overlap.
    first, last = points[0][0], points[-1][0]
    base = TOP + inner_h + 18
    if len(xy) == 1:
        parts.append(f'<text x="{xy[0][0]:.1f}" y="{base}" text-anchor="middle" font-size="11" '
                     f'fill="#4a4a4a">{escape(_day(first))}</text>')
    else:
        parts.append(f'<text x="{LEFT}" y="{base}" text-anchor="start" font-size="11" '
                     f'fill="#4a4a4a">{escape(_day(first))}</text>')
        parts.append(f'<text x="{WIDTH - right}" y="{base}" text-anchor="end" font-size="11" '
                     f'fill="#4a4a4a">{escape(_day(last))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


PHQ9_GUIDES = ((5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe"))


def phq9_chart(points: Sequence[tuple[datetime, int]]) -> Markup:
    return line_chart(points, 27, "PHQ-9 total over time (0 to 27)", guides=PHQ9_GUIDES, chart_id="phq9-chart")


def mood_chart(points: Sequence[tuple[datetime, int]]) -> Markup:
    return line_chart(points, 10, "Mood over time (0 to 10)", unit=" of 10", chart_id="mood-chart")
