"""What the conversation page's header and journey panel show, worked out from the stored data:
the risk banner, the message that raised the alert, the PHQ-9 by item with its band and trend, the mood
trend, and the journey's week in true words."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional, Sequence

from bot.store.staff_repository import TIER_LABELS, excerpt
from bot.web.dashboard import charts

# Plain words for the banner (the queue's tiers: bot/store/staff_repository.TIERS).
BANNER = {
    "clear": ("Clear risk", "The person's words showed clear risk (crisis reply sent)."),
    "possible": ("Possible risk", "A safety question or PHQ-9 item 9 showed possible risk."),
    "request": ("Asked for a person", "The person asked to talk to someone from the clinic."),
}


def _aware(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def banner(tier: Optional[str], handoff_open: bool, had_crisis: bool) -> dict[str, str]:
    """{'level', 'title', 'text'}: the hand-off's tier while one is open (or was the latest), else none."""
    if tier in BANNER:
        title, text = BANNER[tier]
        if not handoff_open:
            return {"level": "past", "title": f"Earlier: {title.lower()}",
                    "text": "The hand-off has ended. " + text}
        return {"level": tier, "title": title, "text": text}
    if had_crisis:
        return {"level": "past", "title": "Crisis words earlier", "text": "A message was marked as a crisis."}
    return {"level": "none", "title": "No risk flagged", "text": "Nothing in this conversation raised an alert."}


def tier_label(tier: str) -> str:
    return TIER_LABELS.get(tier, tier)


def trigger_index(transcript: Sequence[dict[str, Any]], handoff_message: Optional[str],
                  handoff_at: Any) -> Optional[int]:
    """The transcript line that raised the hand-off: the person's message with the hand-off's first
    message text, the last one at or before the hand-off opened; else the last crisis-marked person
    message before then; else the last person message before then. None if there is none."""
    opened = _aware(handoff_at)
    cutoff = opened.timestamp() + 1 if opened else float("inf")  # Rasa's time and ours: a second's slack
    wanted = excerpt(handoff_message, 10_000) if handoff_message else ""
    before = [(i, m) for i, m in enumerate(transcript)
              if m.get("from") == "person" and (m.get("timestamp") or 0) <= cutoff]
    for test in (lambda m: wanted and " ".join((m.get("text") or "").split()) == wanted,
                 lambda m: m.get("crisis"), lambda m: True):
        found = [i for i, m in before if test(m)]
        if found:
            return found[-1]
    return None


def week_text(journey: dict[str, Any]) -> str:
    """'week 3 of 12', or 'not started yet' before the first weekly check-in."""
    week, planned = journey.get("week") or 0, journey.get("weeks_planned") or 0
    if week <= 0:
        return "weekly check-ins not started yet"
    return f"week {week} of {planned}" if planned else f"week {week}"


def phq9_view(checkins: Sequence[Any]) -> dict[str, Any]:
    """From `CheckinEntry`s (oldest first): the latest full PHQ-9 by item, its total and band, the trend
    chart and the mood chart, and the first total for comparison."""
    scored = [c for c in checkins if c.phq9_total is not None and c.at is not None]
    latest = scored[-1] if scored else None
    items = []
    if latest is not None and latest.phq9:
        for number, (label, score) in enumerate(zip(charts.PHQ9_ITEM_LABELS, latest.phq9, strict=False), start=1):
            items.append({"number": number, "label": label, "score": score,
                          "answer": "" if score is None else charts.ANSWER_LABELS[score],
                          "flag": number == 9})
    moods = [(c.at, c.mood) for c in checkins if c.mood is not None and c.at is not None]
    return {
        "latest": latest, "total": latest.phq9_total if latest else None,
        "band": charts.band_label(latest.phq9_total) if latest else "",
        "first_total": scored[0].phq9_total if len(scored) > 1 else None,
        "items": items, "item9": latest.phq9[8] if latest and latest.phq9 and len(latest.phq9) == 9 else None,
        "chart": charts.phq9_chart([(c.at, c.phq9_total) for c in scored]),
        "mood_chart": charts.mood_chart(moods), "moods": moods,
        "totals": [(c.at, c.phq9_total, charts.band_label(c.phq9_total)) for c in scored],
    }
