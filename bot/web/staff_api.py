"""The staff JSON API: open hand-offs, transcripts, replying to a person, ending a hand-off, the audit log.

Authenticated with a staff member's own API token (`Authorization: Bearer ipt_...`, made and revoked
on the dashboard's "API tokens" page; it acts with its user's current role), or a signed-in dashboard
session (a POST then needs the `X-CSRF-Token` header). Reading needs the role's "view", changing a
hand-off "handoff", the audit log "admin".
Deprecated: the one shared `STAFF_API_TOKEN` still works while it is set, acting as "api-token" with
clinician rights (no admin); unset it once every script has its own token.
`take_over`, `send_reply` and `end_handoff` are the one place hand-offs change: the dashboard calls them too.
The person sees who joined, wrote and left by the staff member's display name, never the e-mail
(`bot/handoff/presence.py`).
Every action is written to the staff audit log.
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Callable, Optional

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field

from bot.crisis.rasa_client import RasaClient
from bot.settings import get_settings
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.web.dashboard.auth import PERMISSIONS, SAFE_METHODS, Staff, check_csrf, client_ip, session_staff

router = APIRouter(prefix="/staff/api")
logger = logging.getLogger(__name__)
SHARED_TOKEN_PERMISSIONS = PERMISSIONS["clinician"]  # what the deprecated STAFF_API_TOKEN may do
_warned_shared_token = False


def bearer(authorization: Optional[str]) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def shared_token_matches(given: str) -> bool:
    """Whether `given` is the deprecated shared `STAFF_API_TOKEN` (only while that is set)."""
    global _warned_shared_token
    expected = get_settings().value("STAFF_API_TOKEN") or ""
    if not (expected and given and hmac.compare_digest(given.encode(), expected.encode())):
        return False
    if not _warned_shared_token:
        _warned_shared_token = True
        logger.warning("The shared STAFF_API_TOKEN is deprecated: give each script a staff member's own API token "
                       "(dashboard: API tokens) and unset it.")
    return True


def require_api(permission: str | None = None) -> Callable:
    """A dependency: the staff member behind a personal API token or a dashboard session, whose role allows
    `permission` (default: "view" to read, "handoff" to change); None for the deprecated shared token."""

    async def dependency(request: Request, authorization: Optional[str] = Header(default=None)) -> Optional[Staff]:
        needed = permission or ("view" if request.method in SAFE_METHODS else "handoff")
        given = bearer(authorization)
        staff: Optional[Staff] = None
        if given:
            found = StaffStore().api_token_user(given)
            if found is None and shared_token_matches(given):
                if needed not in SHARED_TOKEN_PERMISSIONS:
                    raise HTTPException(status_code=403, detail="The shared staff token does not allow this.")
                return None
            if found is not None:
                staff = Staff(found[0], "", "", api_token=found[1].id)
        else:
            staff = session_staff(request)
            if staff is not None and request.method not in SAFE_METHODS:
                await check_csrf(request, staff.csrf)
        if staff is None:
            raise HTTPException(status_code=401, detail="A valid staff token is required.",
                                headers={"WWW-Authenticate": "Bearer"})
        if not staff.can(needed):
            raise HTTPException(status_code=403, detail="Your role does not allow this.")
        return staff

    return dependency


require_staff = require_api()


def audit(actor: Optional[Staff], action: str, target: str, detail: dict | None = None,
          ip: str | None = None) -> None:
    if actor is not None and actor.api_token is not None:
        detail = {**(detail or {}), "api_token": actor.api_token}
    StaffStore().audit(action, actor.user if actor else None, target, detail, ip,
                       email=None if actor else "api-token")


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


def take_over(handoff_id: int, staff: str, app_store: AppStore, client: RasaClient,
              actor: Optional[Staff] = None, ip: str | None = None) -> dict:
    """Staff take the conversation over: the assistant falls silent."""
    handoff = _handoff_or_404(handoff_id, app_store)
    if handoff.status == "closed":
        raise HTTPException(status_code=409, detail="This hand-off is closed.")
    # the person is told who joined, once per staff member (not again on a second click)
    again = handoff.status == "taken" and handoff.taken_by == staff
    client.set_handoff_status(handoff.sender_id, "taken", None if again else staff)
    app_store.set_handoff_status(handoff_id, "taken", staff)
    audit(actor, "take_over", handoff.sender_id, {"handoff": handoff_id, "staff": staff}, ip)
    return {"status": "taken"}


def send_reply(handoff_id: int, text: str, staff: str, app_store: AppStore, client: RasaClient,
               actor: Optional[Staff] = None, ip: str | None = None) -> dict:
    """A staff message to the person, on their own channel (taking the hand-off over if needed)."""
    handoff = _handoff_or_404(handoff_id, app_store)
    if handoff.status == "closed":
        raise HTTPException(status_code=409, detail="This hand-off is closed.")
    if handoff.status == "requested":
        client.set_handoff_status(handoff.sender_id, "taken", staff)
        app_store.set_handoff_status(handoff_id, "taken", staff)
        audit(actor, "take_over", handoff.sender_id, {"handoff": handoff_id, "staff": staff}, ip)
    sent = client.send_staff_message(handoff.sender_id, text, staff)
    audit(actor, "reply", handoff.sender_id, {"handoff": handoff_id, "staff": staff, "chars": len(text)}, ip)
    return {"status": "taken", "sent": sent}


def end_handoff(handoff_id: int, staff: str, app_store: AppStore, client: RasaClient,
                actor: Optional[Staff] = None, ip: str | None = None) -> dict:
    """End the hand-off (and any other open one of the conversation): the person is told who left
    (or, if nobody had joined, that the assistant is back); the assistant says it is here again."""
    handoff = _handoff_or_404(handoff_id, app_store)
    sent = client.resume_assistant(handoff.sender_id, handoff.taken_by if handoff.status == "taken" else None)
    app_store.set_handoff_status(handoff_id, "closed", staff)
    app_store.close_open_handoffs(handoff.sender_id, staff)
    audit(actor, "close_handoff", handoff.sender_id, {"handoff": handoff_id, "staff": staff}, ip)
    return {"status": "closed", "sent": sent}


@router.get("/handoffs")
def list_handoffs(status: Optional[str] = "requested", app_store: AppStore = Depends(store),
                  _actor: Optional[Staff] = Depends(require_staff)):
    return [h.__dict__ for h in app_store.list_handoffs(None if status == "all" else status)]


@router.get("/handoffs/{handoff_id}")
def read_handoff(handoff_id: int, request: Request, app_store: AppStore = Depends(store),
                 actor: Optional[Staff] = Depends(require_staff)):
    handoff = _handoff_or_404(handoff_id, app_store)
    audit(actor, "view", handoff.sender_id, {"handoff": handoff_id, "via": "api"}, client_ip(request))
    return {"handoff": handoff.__dict__, "transcript": app_store.transcript(handoff.sender_id)}


@router.post("/handoffs/{handoff_id}/take")
def take_handoff(handoff_id: int, body: StaffAction, request: Request, app_store: AppStore = Depends(store),
                 client: RasaClient = Depends(rasa), actor: Optional[Staff] = Depends(require_staff)):
    return take_over(handoff_id, actor.label if actor else body.staff, app_store, client, actor, client_ip(request))


@router.post("/handoffs/{handoff_id}/reply")
def reply(handoff_id: int, body: StaffReply, request: Request, app_store: AppStore = Depends(store),
          client: RasaClient = Depends(rasa), actor: Optional[Staff] = Depends(require_staff)):
    return send_reply(handoff_id, body.text, actor.label if actor else body.staff, app_store, client, actor,
                      client_ip(request))


@router.post("/handoffs/{handoff_id}/close")
def close(handoff_id: int, body: StaffAction, request: Request, app_store: AppStore = Depends(store),
          client: RasaClient = Depends(rasa), actor: Optional[Staff] = Depends(require_staff)):
    return end_handoff(handoff_id, actor.label if actor else body.staff, app_store, client, actor,
                       client_ip(request))


@router.get("/audit")
def read_audit(user: str = "", action: str = "", target: str = "",
               since: Optional[datetime] = None, until: Optional[datetime] = None,
               page: int = Query(1, ge=1, le=100_000), actor: Optional[Staff] = Depends(require_api("admin"))):
    """The audit log, newest first, 100 entries a page (admins only)."""
    entries, total = StaffStore().audit_entries(user=user, action=action, target=target, since=since, until=until,
                                                page=page)
    return {"total": total, "page": page, "entries": entries}
