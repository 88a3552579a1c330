"""The demo page names the crisis lines of the configured CRISIS_LOCALE (the crisis card's own lines),
never the US numbers hard-coded."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bot.web.app import app


def crisis_paragraph(monkeypatch, locale: str) -> str:
    monkeypatch.setenv("CRISIS_LOCALE", locale)
    html = TestClient(app).get("/").text
    return re.search(r'<p class="crisis">(.*?)</p>', html, re.S).group(1)


@pytest.mark.parametrize("locale, line, emergency", [
    ("US", '<a href="tel:988">988</a>', '<a href="tel:911">911</a>'),
    ("GB", '<a href="tel:116123">116 123</a>', '<a href="tel:999">999</a>'),
])
def test_the_demo_page_shows_the_configured_locale_s_line_and_emergency_number(monkeypatch, locale, line, emergency):
    text = crisis_paragraph(monkeypatch, locale)
    assert line in text and f"In an emergency, call {emergency}" in text
    if locale != "US":
        assert "988" not in text and "911" not in text


def test_without_known_lines_the_demo_page_points_to_a_directory_and_the_local_number(monkeypatch):
    text = crisis_paragraph(monkeypatch, "INTL")
    assert 'href="https://findahelpline.com"' in text and "call your local emergency number" in text
    assert "tel:" not in text
