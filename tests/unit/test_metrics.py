"""Prometheus metrics: the web app's /metrics (access, hand-off and outbox gauges read from a real database,
answers counted) and the Rasa side's instrumentation (turn latency, triage tiers) with real registries."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from sanic.compat import Header

from bot import metrics
from bot.channels.rest import RestChannel
from bot.crisis.handoff import HandoffRequest
from bot.nlu.crisis_detector import CrisisDetectorComponent
from bot.store.repository import AppStore
from bot.web.app import app
from bot.web.metrics import area_of, read_gauges

TOKEN = "metrics-token-for-tests-0123456789"
SENDER = "web-7f3a9c1e-person"
WORDS = "I cannot go on, tonight I end it"


@pytest.fixture
def web(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("NOTIFIER_ENABLED", "false")
    return sqlite_url


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def open_handoff(url: str, sender: str, minutes_ago: float, category: str = "suicide") -> int:
    created = (datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)).isoformat()
    return AppStore(url).open_handoff(HandoffRequest("rest", sender, category, "US", WORDS, created), ["webhook"])


# --- web app: who may read /metrics -------------------------------------------------------------------------

def test_metrics_need_the_token(web):
    client = TestClient(app)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert "ipt_handoff_oldest_wait_seconds" in answer.text and "ipt_notifier_backlog" in answer.text


def test_loopback_may_read_without_a_token_but_not_through_a_proxy(web, monkeypatch):
    monkeypatch.delenv("METRICS_TOKEN")
    local = TestClient(app, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 200
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    assert TestClient(app, client=("203.0.113.9", 50000)).get("/metrics").status_code == 401
    assert local.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 403  # no token set


def test_access_rule():
    assert metrics.access(None, "::1", False, token=None) == 200
    assert metrics.access(None, "10.0.0.5", False, token=TOKEN) == 401
    assert metrics.access(f"Bearer {TOKEN}", "10.0.0.5", True, token=TOKEN) == 200
    assert metrics.access(f"Basic {TOKEN}", "10.0.0.5", False, token=TOKEN) == 403
    assert metrics.access("Bearer ", "127.0.0.1", False, token=TOKEN) == 403


# --- web app: what the database says at scrape time ---------------------------------------------------------

def test_a_waiting_handoff_shows_in_the_gauges_without_its_conversation(web):
    open_handoff(web, SENDER, minutes_ago=12)
    taken = open_handoff(web, "web-other-person", minutes_ago=30, category="abuse")
    AppStore(web).set_handoff_status(taken, "taken", staff="sam@clinic.example")
    text = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    found = samples(text)
    wait = found[("ipt_handoff_oldest_wait_seconds", ())]
    assert 12 * 60 - 5 <= wait <= 12 * 60 + 60  # the taken one (30 min) does not count as waiting
    assert found[("ipt_handoffs_open", (("category", "suicide"), ("state", "waiting")))] == 1
    assert found[("ipt_handoffs_open", (("category", "abuse"), ("state", "taken")))] == 1
    assert found[("ipt_notifier_backlog", ())] == 2 and found[("ipt_metrics_database_up", ())] == 1
    for secret in (SENDER, "web-other-person", WORDS, "sam@clinic.example"):
        assert secret not in text


def test_no_waiting_handoff_reads_zero_and_a_person_safe_one_has_its_state(web):
    assert read_gauges(web)["oldest_wait"] == 0.0
    open_handoff(web, SENDER, minutes_ago=3)
    AppStore(web).mark_person_safe(SENDER)
    figures = read_gauges(web)
    assert figures["handoffs"] == {("person_safe", "suicide"): 1} and figures["oldest_wait"] >= 3 * 60 - 5


def test_failing_notifications_are_counted(web):
    open_handoff(web, SENDER, minutes_ago=1)
    store = AppStore(web)
    now = datetime.now(timezone.utc)
    [item] = store.claim_due_outbox(now)
    assert read_gauges(web)["backlog"] == 1 and read_gauges(web)["failing"] == 0
    store.finish_outbox(item.id, "webhook answered 502", now + timedelta(seconds=5))
    figures = read_gauges(web)
    assert figures["backlog"] == 1 and figures["failing"] == 1 and 0 < figures["oldest_pending"] < 60
    store.finish_outbox(item.id, None, None)
    assert read_gauges(web)["backlog"] == 0


def test_an_unreadable_database_still_answers(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'none.db'}")  # no tables
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    text = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert samples(text)[("ipt_metrics_database_up", ())] == 0


def test_answers_are_counted_by_area_and_class(web):
    def count(area, status_class):
        return REGISTRY.get_sample_value("ipt_web_responses_total", {"area": area, "status_class": status_class}) or 0

    before_ok, before_missing = count("other", "2xx"), count("journey", "4xx")
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200
    assert client.get("/journey/circle/" + "a" * 40 + ".svg").status_code == 404
    assert count("other", "2xx") == before_ok + 1 and count("journey", "4xx") == before_missing + 1
    assert [area_of(p) for p in ("/staff/api/handoffs", "/staff/handoffs/3", "/chat/session", "/x")] == \
        ["staff_api", "staff", "chat", "other"]


# --- Rasa side ----------------------------------------------------------------------------------------------

def test_turn_latency_goes_into_the_histogram():
    registry = CollectorRegistry()
    histogram = Histogram("turn_seconds", "test", ("channel", "outcome"), buckets=metrics.TURN_BUCKETS,
                          registry=registry)
    metrics.observe_turn("rest", 0.2, "ok", histogram)
    metrics.observe_turn("rest", 3.0, "store-unavailable", histogram)
    metrics.observe_turn("socketio", 0.01, "a person's words", histogram)  # unknown outcomes never become labels
    value = registry.get_sample_value
    assert value("turn_seconds_count", {"channel": "rest", "outcome": "ok"}) == 1
    assert value("turn_seconds_bucket", {"channel": "rest", "outcome": "ok", "le": "0.25"}) == 1
    assert value("turn_seconds_bucket", {"channel": "rest", "outcome": "store-unavailable", "le": "2.0"}) == 0
    assert value("turn_seconds_count", {"channel": "socketio", "outcome": "error"}) == 1


def test_triage_tiers_are_counted_with_bounded_labels():
    registry = CollectorRegistry()
    counter = Counter("triage", "test", ("tier", "category"), registry=registry)
    metrics.count_triage("clear", "suicide", counter)
    metrics.count_triage("clear", "something new", counter)
    metrics.count_triage("possible", "suicide", counter)
    value = registry.get_sample_value
    assert value("triage_total", {"tier": "clear", "category": "suicide"}) == 1
    assert value("triage_total", {"tier": "clear", "category": "other"}) == 1
    assert value("triage_total", {"tier": "possible", "category": "none"}) == 1


def test_the_crisis_detector_counts_where_the_triage_decides(tmp_path):
    component = CrisisDetectorComponent(CrisisDetectorComponent.get_default_config(), LocalModelStorage(tmp_path),
                                        Resource("triage"))  # rules only, no model: no training needed
    clear = {"tier": "clear", "category": "suicide"}
    none = {"tier": "none", "category": "none"}
    before = {k: REGISTRY.get_sample_value("ipt_triage_total", v) or 0 for k, v in (("clear", clear), ("none", none))}
    component.process([Message(data={TEXT: "I want to kill myself"}), Message(data={TEXT: "what is ipt"})])
    assert REGISTRY.get_sample_value("ipt_triage_total", clear) == before["clear"] + 1
    assert REGISTRY.get_sample_value("ipt_triage_total", none) == before["none"] + 1


class SanicRequest(SimpleNamespace):
    def __init__(self, ip, headers):
        super().__init__(ip=ip, headers=Header(headers), args={}, path="/webhooks/rest/metrics")


def test_the_rest_channel_serves_the_rasa_metrics_to_the_token_only(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)

    async def on_new_message(message):
        return None

    blueprint = RestChannel().blueprint(on_new_message)
    handler = next(r.handler for r in blueprint._future_routes if r.uri == "/metrics")
    refused = asyncio.run(handler(SanicRequest("203.0.113.9", {})))
    assert refused.status == 401
    proxied = asyncio.run(handler(SanicRequest("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})))
    assert proxied.status == 401
    answer = asyncio.run(handler(SanicRequest("203.0.113.9", {"Authorization": f"Bearer {TOKEN}"})))
    assert answer.status == 200 and b"ipt_turn_seconds" in answer.body and b"ipt_triage_total" in answer.body
