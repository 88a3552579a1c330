"""The web app: the demo page, the journey's closeness-circle pictures, the staff API and dashboard, and
the staff-notification worker.

Run with `uvicorn bot.web.app:app` (`make run` does). Health: GET /healthz.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot import logging_filter
from bot.crisis import notifier
from bot.handoff import escalation
from bot.journey.circle import render_svg
from bot.store.journey_repository import JourneyStore
from bot.web.dashboard.routes import STATIC_DIR as STAFF_STATIC
from bot.web.dashboard.routes import router as staff_dashboard
from bot.web.staff_api import router as staff_api

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# JourneyStore.save makes image tokens with secrets.token_urlsafe (URL-safe base64, 32 characters).
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


@asynccontextmanager
async def lifespan(_app: FastAPI):
    escalation.check_settings()  # a bad HANDOFF_ESCALATE_AFTER_MINUTES / ONCALL_* stops start-up, saying why
    if os.environ.get("NOTIFIER_ENABLED", "true").lower() in ("1", "true", "yes"):
        interval = float(os.environ.get("NOTIFIER_INTERVAL", "2"))
        threading.Thread(target=notifier.run_forever, args=(interval,), daemon=True,
                         name="staff-notifier").start()
    yield


app = FastAPI(title="IPT assistant", lifespan=lifespan, docs_url=None, redoc_url=None)
app.include_router(staff_api)
app.include_router(staff_dashboard)
app.mount("/staff/static", StaticFiles(directory=str(STAFF_STATIC)), name="staff-static")
# The chat widget (static/widget/) and its vendored socket.io-client (static/vendor/).
app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/", response_class=HTMLResponse)
def demo_page(request: Request):
    rasa_url = (os.environ.get("PUBLIC_RASA_URL") or os.environ.get("RASA_URL")
                or f"http://localhost:{os.environ.get('RASA_PORT', '5005')}")
    return TEMPLATES.TemplateResponse(request, "index.html", {"rasa_url": rasa_url})


def journey_store() -> JourneyStore:
    return JourneyStore()


@app.get("/journey/circle/{token}.svg")
def journey_circle(token: str, store: JourneyStore = Depends(journey_store)) -> Response:
    """The person's closeness circle, for the chat (and the staff dashboard) to show as a picture.

    Public: the token in the address is the journey's unguessable secret. Unknown -> 404.
    """
    state = store.by_image_token(token) if IMAGE_TOKEN.fullmatch(token) else None
    if state is None:
        return Response("Not found", status_code=404, media_type="text/plain",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    return Response(render_svg(state.people), media_type="image/svg+xml", headers=SVG_HEADERS)
