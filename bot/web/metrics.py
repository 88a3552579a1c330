"""The web app's Prometheus metrics at `GET /metrics` (docs/operators/monitoring.md).

Read from the database at each scrape, so every web app reports the same truth:
- `ipt_handoffs_open{state, category}`: open hand-offs; state `waiting` (nobody took it), `person_safe`
  (untaken, the person answered "No, I'm safe" meanwhile) or `taken`;
- `ipt_handoff_oldest_wait_seconds`: how long the oldest untaken hand-off has waited (0 when none);
- `ipt_notifier_backlog`: staff notifications not yet delivered (pending or being sent);
- `ipt_notifier_failing`: of those, how many have failed at least once (they are retried with back-off);
- `ipt_notifier_oldest_pending_seconds`: age of the oldest undelivered notification (0 when none);
- `ipt_metrics_database_up`: 0 when the database could not be read for this scrape.
Counted in this process: `ipt_web_responses_total{area, status_class}`, the web app's answers by part
(`staff` is the dashboard, `staff_api`, `chat`, `journey`, `static`, `other`) and class (`2xx` ... `5xx`).

Access: `Authorization: Bearer <METRICS_TOKEN>`, or a direct request from this machine (bot/metrics.py).
No label holds a conversation id, a name or a text.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Iterator, Optional

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics
from bot.store.db import session_scope
from bot.store.models import Handoff, OutboxMessage
from bot.store.repository import CATEGORY_URGENCY, OPEN_STATUSES

logger = logging.getLogger(__name__)
router = APIRouter()

AREAS = (("/staff/api", "staff_api"), ("/staff", "staff"), ("/chat", "chat"), ("/journey", "journey"),
         ("/static", "static"), ("/metrics", "metrics"))
UNDELIVERED = ("pending", "sending")

WEB_RESPONSES = Counter("ipt_web_responses", "Answers of the web app, by part of the app and status class.",
                        ("area", "status_class"))


def area_of(path: str) -> str:
    """The part of the app a path belongs to (a fixed word, never the path itself)."""
    for prefix, area in AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return area
    return "other"


def _aware(moment: Optional[datetime]) -> Optional[datetime]:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def read_gauges(url: Optional[str] = None, now: Optional[datetime] = None) -> dict:
    """The database's figures for one scrape: open hand-offs by (state, category), the oldest wait, the outbox."""
    now = now or datetime.now(timezone.utc)
    with session_scope(url) as session:
        rows = session.execute(
            select(Handoff.status, Handoff.person_safe_at.is_not(None), Handoff.category, func.count(),
                   func.min(Handoff.created_at))
            .where(Handoff.status.in_(OPEN_STATUSES))
            .group_by(Handoff.status, Handoff.person_safe_at.is_not(None), Handoff.category)
        ).all()
        outbox = session.execute(
            select(func.count(), func.count(OutboxMessage.last_error), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(UNDELIVERED))
        ).one()
    handoffs: dict[tuple[str, str], int] = {}
    oldest: Optional[datetime] = None
    for status, safe, category, count, first in rows:
        state = "taken" if status == "taken" else ("person_safe" if safe else "waiting")
        key = (state, category if category in CATEGORY_URGENCY else "other")
        handoffs[key] = handoffs.get(key, 0) + count
        if status != "taken" and first is not None:
            oldest = min(oldest, _aware(first)) if oldest else _aware(first)
    backlog, failing, first_pending = outbox
    return {
        "handoffs": handoffs,
        "oldest_wait": max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        "backlog": backlog,
        "failing": failing,
        "oldest_pending": max((now - _aware(first_pending)).total_seconds(), 0.0) if first_pending else 0.0,
    }


class DatabaseCollector:
    """prometheus-client collector that reads the hand-off and outbox figures when Prometheus scrapes."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url

    def describe(self) -> list:
        return []  # nothing read at registration: the database is only asked at scrape time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            figures = read_gauges(self.url)
        except Exception as error:  # noqa: BLE001 - a scrape must still answer when the database is down
            logger.warning("Metrics: the database could not be read (%s).", type(error).__name__)
            yield GaugeMetricFamily("ipt_metrics_database_up", "1 when the database could be read.", value=0)
            return
        yield GaugeMetricFamily("ipt_metrics_database_up", "1 when the database could be read.", value=1)
        open_handoffs = GaugeMetricFamily("ipt_handoffs_open", "Open hand-offs by state and crisis category.",
                                          labels=("state", "category"))
        for (state, category), count in sorted(figures["handoffs"].items()):
            open_handoffs.add_metric((state, category), count)
        yield open_handoffs
        yield GaugeMetricFamily("ipt_handoff_oldest_wait_seconds",
                                "Seconds the oldest untaken hand-off has waited (0: none waits).",
                                value=figures["oldest_wait"])
        yield GaugeMetricFamily("ipt_notifier_backlog", "Staff notifications not yet delivered.",
                                value=figures["backlog"])
        yield GaugeMetricFamily("ipt_notifier_failing",
                                "Undelivered staff notifications that failed at least once (being retried).",
                                value=figures["failing"])
        yield GaugeMetricFamily("ipt_notifier_oldest_pending_seconds",
                                "Age of the oldest undelivered staff notification (0: none).",
                                value=figures["oldest_pending"])


def register(registry: CollectorRegistry = REGISTRY, url: Optional[str] = None) -> DatabaseCollector:
    collector = DatabaseCollector(url)
    registry.register(collector)
    return collector


register()


class ResponseCounter:
    """ASGI middleware counting every answer in `ipt_web_responses_total`; an unhandled error counts as 5xx."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            WEB_RESPONSES.labels(area_of(scope.get("path", "")), f"{status[0] // 100}xx").inc()


@router.get("/metrics", include_in_schema=False)
def prometheus(request: Request) -> Response:
    """Every metric of this web app (sync: the database is read in the thread pool)."""
    allowed = metrics.access(request.headers.get("authorization"), request.client.host if request.client else None,
                             metrics.forwarded(request.headers))
    if allowed != metrics.OK:
        return JSONResponse({"error": "metrics need the METRICS_TOKEN bearer"}, status_code=allowed,
                            headers={"WWW-Authenticate": "Bearer"})
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
