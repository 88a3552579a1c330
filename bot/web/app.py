"""The web app: the demo page, the staff API and the staff-notification worker.

Run with `uvicorn bot.web.app:app` (`make run` does). Health: GET /healthz.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.crisis import notifier
from bot.web.dashboard.routes import STATIC_DIR as STAFF_STATIC
from bot.web.dashboard.routes import router as staff_dashboard
from bot.web.staff_api import router as staff_api

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(_app: FastAPI):
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

