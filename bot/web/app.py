"""The web app: the demo page, the journey's closeness-circle pictures, the staff API and dashboard, and
the staff-notification worker.

Run with `uvicorn bot.web.app:app` (`make run` does). Health: GET /healthz.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot import log_format, logging_filter
from bot.crisis import notifier
from bot.crisis.resources import configured_locale, resources_payload
from bot.handoff import escalation
from bot.journey import picture_token
from bot.journey.circle import render_svg
from bot.settings import get_settings
from bot.store.journey_repository import JourneyStore
from bot.web.chat_session import router as chat_session
from bot.web.dashboard import oidc
from bot.web.dashboard.routes import CSP as STAFF_CSP
from bot.web.dashboard.routes import STATIC_DIR as STAFF_STATIC
from bot.web.dashboard.routes import router as staff_dashboard
from bot.web.dashboard.security import production
from bot.web.metrics import ResponseCounter
from bot.web.metrics import router as metrics_router
from bot.web.staff_api import router as staff_api

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# Picture tokens: bot/journey/picture_token.py (32 URL-safe characters, "-", issue time in hex).
IMAGE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
SVG_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Opened on its own, the picture can run nothing and load nothing; shown by <img>, it never runs scripts.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}
logger = logging.getLogger(__name__)
logging_filter.install()  # no message text or tracker dumps in this process's logs (bot/logging_filter.py)
log_format.configure()  # LOG_FORMAT=json: uvicorn's and our lines as JSON (bot/log_format.py)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    settings = get_settings()  # every variable readable (bot/settings.py), or start-up stops naming the wrong one
    escalation.check_settings()  # a bad HANDOFF_ESCALATE_AFTER_MINUTES / ONCALL_* stops start-up, saying why
    oidc.check_settings()  # passwords off with no identity provider, or a half-set provider, stops start-up
    if settings.notifier_enabled:
        threading.Thread(target=notifier.run_forever, args=(settings.notifier_interval,), daemon=True,
                         name="staff-notifier").start()
    yield


# --- web hardening: who may call cross-origin, which proxy's forwarded headers count, headers on every answer ---

API_DOCS = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")


def allowed_origins() -> list[str]:
    """`ALLOWED_ORIGINS`: comma-separated origins (https://clinic.example) whose pages may call the web app
    from their own site. Default: none (same origin only). Never `*`."""
    origins = [o.strip().rstrip("/") for o in get_settings().allowed_origins.split(",") if o.strip()]
    return [o for o in origins if o != "*"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def public_rasa_url() -> str:
    """Where browsers reach the Rasa server (the widget's data-server)."""
    return get_settings().browser_rasa_url


def page_csp() -> str:
    """The Content-Security-Policy of the demo page and every other non-staff answer: our own files only; the
    widget may talk to the Rasa server (REST and socket.io) and show the journey pictures of PUBLIC_WEB_URL."""
    rasa = _origin(public_rasa_url())
    connect = ["'self'"] + ([rasa, rasa.replace("http", "ws", 1)] if rasa else [])
    web = _origin(get_settings().public_web_url or "")
    images = ["'self'", "data:"] + ([web] if web else [])
    return (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {' '.join(images)}; "
            f"connect-src {' '.join(connect)}; font-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'self'")


class _ResolvedProxies:
    """`TRUSTED_PROXIES`: comma-separated addresses, networks (10.0.0.0/8) or host names (the compose
    service `proxy`) of the reverse proxy; default 127.0.0.1. Names are looked up again every 30 s."""

    TTL = 30.0

    def __init__(self) -> None:
        self._cache: tuple[str, float, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> tuple[str, ...]:
        raw = get_settings().trusted_proxies
        now = time.monotonic()
        with self._lock:
            if self._cache and self._cache[0] == raw and now - self._cache[1] < self.TTL:
                return self._cache[2]
        hosts: list[str] = []
        for entry in (e.strip() for e in raw.split(",")):
            if not entry or entry == "*":  # "*" would trust a client's own X-Forwarded-For: never
                continue
            try:
                hosts.append(str(ipaddress.ip_network(entry, strict=False)) if "/" in entry
                             else str(ipaddress.ip_address(entry)))
            except ValueError:
                try:
                    hosts.extend(sorted({info[4][0] for info in socket.getaddrinfo(entry, None)}))
                except OSError:
                    logger.warning("TRUSTED_PROXIES: %s does not resolve (yet)", entry)
        resolved = tuple(hosts)
        with self._lock:
            self._cache = (raw, now, resolved)
        return resolved


trusted_proxies = _ResolvedProxies()


@lru_cache(maxsize=8)
def _proxy_layer(app: ASGIApp, hosts: tuple[str, ...]) -> ProxyHeadersMiddleware:
    return ProxyHeadersMiddleware(app, trusted_hosts=list(hosts))


@lru_cache(maxsize=8)
def _cors_layer(app: ASGIApp, origins: tuple[str, ...]) -> CORSMiddleware:
    return CORSMiddleware(app, allow_origins=list(origins), allow_credentials=False,
                          allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Authorization"], max_age=600)


class WebHardening:
    """Around the whole app (settings read per request, so tests and operators can change them):

    1. The client address and scheme come from X-Forwarded-For / -Proto only when the direct peer is one of
       TRUSTED_PROXIES (uvicorn runs with --no-proxy-headers; this is the one place that decides).
    2. The API description (/openapi.json, /docs) is not served in production (IPT_ENV=production).
    3. CORS from ALLOWED_ORIGINS for public routes, without credentials; never for /staff.
    4. Every answer: X-Content-Type-Options nosniff, Referrer-Policy no-referrer and a
       Content-Security-Policy (the route's own, else the staff or the page policy); every /staff answer
       also Cache-Control: no-store and no framing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await _proxy_layer(self._inner, trusted_proxies())(scope, receive, send)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        staff = path == "/staff" or path.startswith("/staff/")
        if scope["type"] == "http" and production() and path in API_DOCS:
            await self._send_headers(PlainTextResponse("Not found", status_code=404), staff)(scope, receive, send)
            return
        target: ASGIApp = self.app if staff else _cors_layer(self.app, tuple(allowed_origins()))
        await target(scope, receive, self._send_headers(send, staff))

    @staticmethod
    def _send_headers(send: Send | ASGIApp, staff: bool):
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = STAFF_CSP if staff else page_csp()
                if staff:
                    headers["Cache-Control"] = "no-store"
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        if isinstance(send, Response):  # an answer of our own: wrap its send
            response = send

            async def app(scope: Scope, receive: Receive, real_send: Send) -> None:
                await response(scope, receive, WebHardening._send_headers(real_send, staff))

            return app
        return send_with_headers


app = FastAPI(title="IPT assistant", lifespan=lifespan, docs_url=None, redoc_url=None,
              openapi_url=None if production() else "/openapi.json")
app.add_middleware(WebHardening)
app.add_middleware(ResponseCounter)  # outermost: counts every answer, errors too
app.include_router(metrics_router)  # GET /metrics for Prometheus (bot/web/metrics.py)
app.include_router(staff_api)
app.include_router(chat_session)  # POST /chat/session: the widget's conversation id and token
app.include_router(staff_dashboard)
app.mount("/staff/static", StaticFiles(directory=str(STAFF_STATIC)), name="staff-static")
# The chat widget (static/widget/) and its vendored socket.io-client (static/vendor/).
app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", response_class=HTMLResponse)
def demo_page(request: Request):
    """The demo page: the widget, and the first crisis line and the emergency number of CRISIS_LOCALE
    (the same cards as the widget's crisis card, bot/crisis/resources.py)."""
    cards = resources_payload(configured_locale())
    emergency = next(card for card in cards if card.get("emergency"))
    line = next((card for card in cards if not card.get("emergency")), None)
    return TEMPLATES.TemplateResponse(request, "index.html", {"rasa_url": public_rasa_url(), "crisis_line": line,
                                                              "emergency": emergency})


def journey_store() -> JourneyStore:
    return JourneyStore()


@app.get("/journey/circle/{token}.svg")
def journey_circle(token: str, store: JourneyStore = Depends(journey_store)) -> Response:
    """The person's closeness circle, for the chat (and the staff dashboard) to show as a picture.

    Public: the token in the address is the journey's unguessable secret. Unknown -> 404; expired
    (PICTURE_TOKEN_DAYS, or replaced by "start over") -> 410 with a kind word.
    """
    state = store.by_image_token(token) if IMAGE_TOKEN.fullmatch(token) else None
    plain = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if state is None:
        return Response("This picture is no longer here.", status_code=404, media_type="text/plain", headers=plain)
    if picture_token.expired(token):
        return Response("This picture has expired, to keep it private. Ask the assistant to show your people "
                        "again for a fresh one.", status_code=410, media_type="text/plain", headers=plain)
    return Response(render_svg(state.people), media_type="image/svg+xml", headers=SVG_HEADERS)
