"""Prometheus metrics of the Rasa server, and who may read any of our `/metrics` pages.

The Rasa server's metrics live in this process's default registry (with prometheus-client's process
and Python collectors) and are served by our REST channel at `GET /webhooks/rest/metrics`
(bot/channels/rest.py), on the Rasa server's own port: every Rasa server is scraped on its own
address, with no second port to open, proxy or allocate per server. They are:

- `ipt_turn_seconds{channel, outcome}`: time to handle one message in our REST and socket.io channels
  (NLU, policies, actions, tracker store), outcome `ok`, `error`, `timeout` or `store-unavailable`;
- `ipt_triage_total{tier, category}`: safety-triage decisions of the crisis detector
  (bot/nlu/crisis_detector.py), tier `clear`, `possible` or `none`.

Label values come from fixed sets: never a conversation id, a name or what someone wrote.
The web app's metrics: bot/web/metrics.py. Metric names and alert rules: docs/operators/monitoring.md.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Optional

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from bot.settings import get_settings

TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
TURN_OUTCOMES = ("ok", "error", "timeout", "store-unavailable")
TRIAGE_TIERS = ("clear", "possible", "none")
# bot/crisis/lexicon.yml's categories (and the model's); anything else is counted as "other".
TRIAGE_CATEGORIES = ("overdose", "suicide", "abuse", "harm_to_others", "self_harm", "unspecified")
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
OK, UNAUTHORIZED, FORBIDDEN = 200, 401, 403

TURN_SECONDS = Histogram("ipt_turn_seconds", "Seconds to handle one message in our REST and socket.io channels.",
                         ("channel", "outcome"), buckets=TURN_BUCKETS)
TRIAGE_TOTAL = Counter("ipt_triage", "Safety-triage decisions of the crisis detector, by tier and category.",
                       ("tier", "category"))


def observe_turn(channel: str, seconds: float, outcome: str = "ok", histogram: Histogram = TURN_SECONDS) -> None:
    """Record one handled message of `channel` (`rest`, `socketio`)."""
    histogram.labels(channel, outcome if outcome in TURN_OUTCOMES else "error").observe(max(seconds, 0.0))


def count_triage(tier: str, category: Optional[str], counter: Counter = TRIAGE_TOTAL) -> None:
    """Record one safety-triage decision; a category only counts with a clear tier."""
    tier = tier if tier in TRIAGE_TIERS else "none"
    label = "none" if tier != "clear" else (category if category in TRIAGE_CATEGORIES else "other")
    counter.labels(tier, label).inc()


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The registry's metrics in Prometheus' text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _loopback(address: Optional[str]) -> bool:
    try:
        return ipaddress.ip_address((address or "").strip("[]")).is_loopback
    except ValueError:
        return False


def access(authorization: Optional[str], peer: Optional[str], forwarded: bool,
           token: Optional[str] = None) -> int:
    """Whether a request may read `/metrics`: 200, 401 (no credentials) or 403 (wrong ones).

    Allowed: `Authorization: Bearer <METRICS_TOKEN>`, or a request with no Authorization header straight
    from this machine (`peer` a loopback address, and `forwarded` false: no proxy relayed it, since our
    own nginx connects from loopback too).
    """
    token = token if token is not None else get_settings().value("METRICS_TOKEN")
    scheme, _, given = (authorization or "").strip().partition(" ")
    if not scheme:
        return OK if _loopback(peer) and not forwarded else UNAUTHORIZED
    if token and scheme.lower() == "bearer" and given.strip() and hmac.compare_digest(
            given.strip().encode(), token.encode()):
        return OK
    return FORBIDDEN


def forwarded(headers) -> bool:
    """Whether a proxy relayed the request (any forwarding header); `headers` is case-insensitive."""
    return any(headers.get(name) for name in FORWARDED_HEADERS)
