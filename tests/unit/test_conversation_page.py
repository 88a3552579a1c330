"""The conversation page's pieces: the server-rendered SVG charts, the audit log in words, the message
that raised the alert, the journey's week in true words, and the <time> element for local times."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from bot.journey.state import CheckinEntry
from bot.web.dashboard import charts, conversation_view
from bot.web.dashboard.audit_text import audit_sentence
from bot.web.dashboard.routes import _when

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def _points(*values: int) -> list[tuple[datetime, int]]:
    return [(START + timedelta(weeks=i), v) for i, v in enumerate(values)]


def test_phq9_chart_is_valid_svg_with_one_point_per_check_in_in_order():
    svg = str(charts.phq9_chart(list(reversed(_points(18, 12, 7)))))  # given newest first
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    points = root.findall(f"{SVG}circle")
    assert len(points) == 3
    ys = [float(p.get("cy")) for p in points]
    # higher score drawn higher up (smaller y): 18 first, then 12, then 7
    assert ys[0] < ys[1] < ys[2]
    xs = [float(p.get("cx")) for p in points]
    assert xs == sorted(xs)
    assert root.find(f"{SVG}polyline") is not None
    # band limits as dashed guides
    guides = [g for g in root.findall(f"{SVG}line") if g.get("class") == "guide"]
    assert len(guides) == 4
    # their labels sit right of every point and value, so the line never covers them
    labels = [t for t in root.findall(f"{SVG}text") if t.text in ("mild", "moderate", "moderately severe", "severe")]
    assert len(labels) == 4 and min(float(t.get("x")) for t in labels) > max(xs) + 4


def test_chart_has_a_text_alternative_with_every_value():
    root = ET.fromstring(str(charts.phq9_chart(_points(18, 12))))
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text.startswith("PHQ-9 total")
    assert "1 Mar 2026: 18" in desc.text and "8 Mar 2026: 12" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_chart_values_are_clamped_and_scaled_to_the_axis():
    root = ET.fromstring(str(charts.line_chart(_points(0, 10), 10, "Mood")))
    bottom, top = (float(c.get("cy")) for c in root.findall(f"{SVG}circle"))
    assert bottom == charts.HEIGHT - charts.BOTTOM and top == charts.TOP


def test_no_points_no_chart_and_text_is_escaped():
    assert str(charts.mood_chart([])) == ""
    svg = str(charts.line_chart(_points(3), 10, "<script>x</script>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)


def test_band_labels():
    assert [charts.band_label(v) for v in (0, 4, 5, 10, 15, 20, 27)] == [
        "minimal", "minimal", "mild", "moderate", "moderately severe", "severe", "severe"]
    assert charts.band_label(None) == ""


def test_phq9_view_gives_items_with_item_9_flagged_band_and_trend():
    first = CheckinEntry("initial", mood=3, phq9=[2] * 9, phq9_total=18, at=START)
    later = CheckinEntry("weekly", mood=6, phq9=[1, 1, 1, 1, 1, 1, 1, 1, 2], phq9_total=10, week=4,
                         at=START + timedelta(weeks=4))
    view = conversation_view.phq9_view([first, later])
    assert view["total"] == 10 and view["band"] == "moderate" and view["first_total"] == 18
    assert [i["flag"] for i in view["items"]] == [False] * 8 + [True]
    assert view["items"][8]["score"] == 2 and view["items"][8]["answer"] == "more than half the days"
    assert view["item9"] == 2
    assert len(ET.fromstring(str(view["chart"])).findall(f"{SVG}circle")) == 2
    assert len(ET.fromstring(str(view["mood_chart"])).findall(f"{SVG}circle")) == 2


def test_audit_entries_read_as_sentences():
    names = {"sam@clinic.test": "Sam"}
    took = {"user": "sam@clinic.test", "action": "take_over", "target": "conv-ab12",
            "detail": {"handoff": 7, "staff": "Sam from the clinic"}}
    assert audit_sentence(took, names) == "Sam took over the hand-off of conv-ab12 (hand-off #7)"
    assert audit_sentence({"user": "sam@clinic.test", "action": "login"}, names) == "Sam signed in"
    failed = audit_sentence({"user": "x@y.z", "action": "login_failed", "detail": {"reason": "wrong_password"}})
    assert failed == "A sign-in as x@y.z failed: wrong password"
    export = audit_sentence({"user": "sam@clinic.test", "action": "export", "target": None,
                             "detail": {"format": "csv", "redacted": True, "conversations": 3}}, names)
    assert export == "Sam exported 3 conversations as CSV with names removed"
    review = audit_sentence({"user": "sam@clinic.test", "action": "review", "target": "c-1",
                             "detail": {"status": "follow_up", "tags": ""}}, names)
    assert review == "Sam marked conversation c-1 as needs follow-up"
    api = audit_sentence({"user": "api-token", "action": "close_handoff", "target": "c-2", "detail": {"handoff": 2}})
    assert api.startswith("The staff API") and "ended the hand-off of c-2" in api
    for entry in (took, {"user": "a@b.c", "action": "something_new", "detail": {"a_b": 1}}):
        sentence = audit_sentence(entry, names)
        assert "{" not in sentence and "_" not in sentence.replace("conv-ab12", "")


def test_the_message_that_raised_the_alert_is_found():
    t0 = START.timestamp()
    transcript = [
        {"from": "person", "text": "hello", "timestamp": t0},
        {"from": "assistant", "text": "hi", "timestamp": t0 + 1},
        {"from": "person", "text": "i want  to end it", "timestamp": t0 + 10, "crisis": True},
        {"from": "assistant", "text": "call 988", "timestamp": t0 + 11},
        {"from": "person", "text": "later words", "timestamp": t0 + 100},
    ]
    opened = START + timedelta(seconds=11)
    assert conversation_view.trigger_index(transcript, "i want to end it\n---\nmore", opened) == 2
    # a hand-off from the safety question: the last crisis-marked (else person) message before it opened
    assert conversation_view.trigger_index(transcript, "Safety question (...), answered: yes", opened) == 2
    assert conversation_view.trigger_index(transcript[:2], "x", opened) == 0
    assert conversation_view.trigger_index([], "x", opened) is None


def test_week_text_is_true_before_the_first_week():
    assert conversation_view.week_text({"week": 0, "weeks_planned": 12}) == "weekly check-ins not started yet"
    assert conversation_view.week_text({"week": 3, "weeks_planned": 12}) == "week 3 of 12"


def test_banner_words():
    assert conversation_view.banner("clear", True, True)["title"] == "Clear risk"
    assert conversation_view.banner("possible", True, False)["level"] == "possible"
    assert conversation_view.banner("request", False, False)["title"] == "Earlier: asked for a person"
    assert conversation_view.banner(None, False, False)["title"] == "No risk flagged"


def test_times_are_a_time_element_with_utc_iso_and_utc_on_hover():
    html = str(_when(START))
    assert re.fullmatch(r'<time datetime="2026-03-01T09:30:00Z" title="2026-03-01 09:30:00 UTC">'
                        r"2026-03-01 09:30:00 UTC</time>", html)
    assert str(_when(START.timestamp())) == html
    assert str(_when(None)) == ""
