"""Closeness-circle picture tokens (issue 14): they expire (PICTURE_TOKEN_DAYS), are replaced on
"start over" and gone on deletion, and an old address answers kindly (410 expired, 404 gone).
Real store (SQLite), real engine and service, the real web route."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.journey import picture_token
from bot.journey.engine import Journey
from bot.journey.service import JourneyService
from bot.journey.state import JourneyState, PersonEntry
from bot.store.db import session_scope
from bot.store.erasure import erase_conversation
from bot.store.journey_repository import JourneyStore
from bot.store.models import Journey as JourneyRow
from bot.web.app import app

DAY = 24 * 3600


@pytest.fixture
def store(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://clinic.example")
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    monkeypatch.delenv("PICTURE_TOKEN_DAYS", raising=False)
    return JourneyStore(sqlite_url)


def with_people(store: JourneyStore, sender: str) -> JourneyState:
    return store.save(JourneyState(sender, people=[PersonEntry("Sam", relationship="partner", closeness="inner")]))


def set_stored_token(store: JourneyStore, sender: str, token: str) -> None:
    """Put a token in the database as an older version (or a week ago) would have left it."""
    with session_scope(store.url) as session:
        session.execute(update(JourneyRow).where(JourneyRow.sender_id == sender).values(image_token=token))


def picture(token: str):
    return TestClient(app).get(f"/journey/circle/{token}.svg")


def test_a_token_expires_after_picture_token_days(monkeypatch):
    now = time.time()
    token = picture_token.new_token(now)
    assert len(token) <= 64 and not picture_token.expired(token, now + 7 * DAY - 60)
    assert picture_token.expired(token, now + 7 * DAY + 1)
    monkeypatch.setenv("PICTURE_TOKEN_DAYS", "2")
    assert picture_token.expired(token, now + 2 * DAY + 1)
    assert picture_token.expired("A" * 32)  # made before tokens expired: counts as expired
    assert picture_token.expired(None)


def test_fresh_picture_is_served_and_an_expired_one_answers_410_kindly(store):
    state = with_people(store, "pic-1")
    assert picture(state.image_token).status_code == 200
    week_old = picture_token.new_token(time.time() - 8 * DAY)
    set_stored_token(store, "pic-1", week_old)
    answer = picture(week_old)
    assert answer.status_code == 410
    assert "expired" in answer.text and "show your people" in answer.text and "Sam" not in answer.text
    assert picture(picture_token.new_token()).status_code == 404  # never issued


def test_saving_replaces_an_expired_or_old_style_token(store):
    with_people(store, "pic-2")
    for old in (picture_token.new_token(time.time() - 8 * DAY), "B" * 32):
        set_stored_token(store, "pic-2", old)
        renewed = store.save(store.load("pic-2")).image_token
        assert renewed != old and not picture_token.expired(renewed)
        assert store.load("pic-2").image_token == renewed and picture(old).status_code == 404


def test_start_over_gives_a_new_token_and_the_old_address_stops_working(store):
    old = with_people(store, "pic-3").image_token
    journey = Journey(store.load("pic-3"))
    journey.begin("start_over")
    journey.ask()
    journey.answer("yes")
    store.save(journey.state)
    new = store.load("pic-3").image_token
    assert new != old and not picture_token.expired(new)
    assert picture(old).status_code == 404


def test_deletion_removes_the_token_and_a_new_journey_gets_another(store, tmp_path):
    old = with_people(store, "pic-4").image_token
    erase_conversation("pic-4", store.url, spool_path=tmp_path / "spool.jsonl")  # "delete my data"
    assert picture(old).status_code == 404
    assert with_people(store, "pic-4").image_token != old


def test_showing_the_people_renews_a_token_that_is_about_to_expire(store):
    with_people(store, "pic-5")
    nearly = picture_token.new_token(time.time() - 7 * DAY + 3600)  # one hour left
    set_stored_token(store, "pic-5", nearly)
    replies = JourneyService(store).read_only("pic-5", "people_replies")
    [url] = [r.image for r in replies if r.image]
    stored = store.load("pic-5").image_token
    assert stored != nearly and url == f"https://clinic.example/journey/circle/{stored}.svg"
    assert picture(stored).status_code == 200 and picture(nearly).status_code == 404
    # a token with days left is kept: the picture already in the chat goes on working
    again = JourneyService(store).read_only("pic-5", "people_replies")
    assert [r.image for r in again if r.image] == [url]


def test_the_store_delete_also_removes_the_token(store):
    old = with_people(store, "pic-6").image_token
    assert store.delete("pic-6") == 1
    assert picture(old).status_code == 404 and store.by_image_token(old) is None
