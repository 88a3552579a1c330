"""The staff JSON API: open hand-offs, transcripts, replying to a person, ending a hand-off.

Authenticated with a bearer token (`STAFF_API_TOKEN`; `make run` generates one under var/).
The staff dashboard replaces this token with staff accounts.
"""
from __future__ import annotations

import hmac
import os
from typing import Optional

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import BaseModel, Field

from bot.crisis.rasa_client import RasaClient
from bot.store.repository import AppStore

router = APIRouter(prefix="/staff/api")


def require_staff(authorization: Optional[str] = Header(default=None)) -> None:
    expected = os.environ.get("STAFF_API_TOKEN", "")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise HTTPException(status_code=401, detail="A valid staff token is required.",
                            headers={"WWW-Authenticate": "Bearer"})


def store() -> AppStore:
    return AppStore()


def rasa() -> RasaClient:
    return RasaClient()


class StaffReply(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000)
    staff: str = Field("Clinic team", max_length=120)


class StaffAction(BaseModel):
    staff: str = Field("Clinic team", max_length=120)


def _handoff_or_404(handoff_id: int, app_store: AppStore):
    handoff = app_store.get_handoff(handoff_id)
    if handoff is None:
        raise HTTPException(status_code=404, detail="No such hand-off.")
    return handoff


@router.get("/handoffs", dependencies=[Depends(require_staff)])
def list_handoffs(status: Optional[str] = "requested", app_store: AppStore = Depends(store)):
    return [h.__dict__ for h in app_store.list_handoffs(None if status == "all" else status)]


@router.get("/handoffs/{handoff_id}", dependencies=[Depends(require_staff)])
def read_handoff(handoff_id: int, app_store: AppStore = Depends(store)):
    handoff = _handoff_or_404(handoff_id, app_store)
    return {"handoff": handoff.__dict__, "transcript": app_store.transcript(handoff.sender_id)}


@router.post("/handoffs/{handoff_id}/take", dependencies=[Depends(require_staff)])
def take_handoff(handoff_id: int, body: StaffAction, app_store: AppStore = Depends(store),
                 client: RasaClient = Depends(rasa)):
    handoff = _handoff_or_404(handoff_id, app_store)
    client.set_handoff_status(handoff.sender_id, "taken")
    app_store.set_handoff_status(handoff_id, "taken", body.staff)
    return {"status": "taken"}


@router.post("/handoffs/{handoff_id}/reply", dependencies=[Depends(require_staff)])
def reply(handoff_id: int, body: StaffReply, app_store: AppStore = Depends(store),
          client: RasaClient = Depends(rasa)):
    handoff = _handoff_or_404(handoff_id, app_store)
    if handoff.status == "closed":
        raise HTTPException(status_code=409, detail="This hand-off is closed.")
    if handoff.status == "requested":
        client.set_handoff_status(handoff.sender_id, "taken")
        app_store.set_handoff_status(handoff_id, "taken", body.staff)
    sent = client.send_staff_message(handoff.sender_id, body.text, body.staff)
    return {"status": "taken", "sent": sent}


@router.post("/handoffs/{handoff_id}/close", dependencies=[Depends(require_staff)])
def close(handoff_id: int, body: StaffAction, app_store: AppStore = Depends(store),
          client: RasaClient = Depends(rasa)):
    handoff = _handoff_or_404(handoff_id, app_store)
    sent = client.resume_assistant(handoff.sender_id)
    app_store.set_handoff_status(handoff_id, "closed", body.staff)
    return {"status": "closed", "sent": sent}
