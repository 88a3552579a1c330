"""The dashboard's pages under /staff/ (server-rendered, Jinja2 with autoescaping).

Every route but /staff/login needs a session (`auth.require`), every POST a CSRF token, and each
role only what it may do. Hand-off changes go through `bot.web.staff_api` (one place).
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlencode

import httpx
import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from bot.crisis.rasa_client import RasaClient
from bot.handoff import presence, staffing
from bot.journey import problem_areas
from bot.journey.circle import describe
from bot.journey.state import PersonEntry
from bot.settings import get_settings
from bot.store.journey_repository import JourneyStore
from bot.store.repository import AppStore
from bot.store.staff_models import REVIEW_STATUSES, ROLES
from bot.store.staff_repository import CATEGORY_LABELS, ConversationFilter, StaffStore, category_label
from bot.store.staff_repository import _tier as staff_tier
from bot.web import staff_api
from bot.web.dashboard import conversation_view, export, oidc, security
from bot.web.dashboard.audit_text import action_label, audit_sentence
from bot.web.dashboard.auth import Staff, client_ip, require, session_staff
from bot.web.dashboard.live import LiveFeed, live_feed

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "staff"
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing a quiet stream
RECONNECT_MS = 3000
REVIEW_LABELS = {"new": "New", "reviewed": "Reviewed", "follow_up": "Needs follow-up"}
PHASE_LABELS = {"initial": "Initial phase (getting started)", "middle": "Middle phase (working on the focus)",
                "termination": "Termination phase (ending well)", "completed": "Completed"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                                                   autoescape=True))


def _ts(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _when(value: Any) -> Markup:
    """A time as <time>: UTC in the text and the title; static/staff/times.js shows it in the reader's zone."""
    text = _ts(value)
    if not text:
        return Markup("")
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    iso = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        iso.strftime("%Y-%m-%dT%H:%M:%SZ"), text, text)


def _waited(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((datetime.now(timezone.utc) - value).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _epoch(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


templates.env.filters.update(ts=_ts, when=_when, waited=_waited, epoch=_epoch, category=category_label)
templates.env.globals.update(review_labels=REVIEW_LABELS, roles=ROLES, phase_labels=PHASE_LABELS,
                             area_labels=problem_areas.LABELS, action_label=action_label)


class SecureRoute(APIRoute):
    """Adds security headers to every dashboard response and turns errors into plain pages."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as error:
                if error.status_code == 303:
                    response = RedirectResponse(error.headers["Location"], status_code=303)
                elif request.url.path.endswith("/poll") or "json" in request.headers.get("accept", ""):
                    response = JSONResponse({"detail": error.detail}, status_code=error.status_code)
                else:
                    response = templates.TemplateResponse(
                        request, "staff/error.html",
                        {"staff": getattr(request.state, "staff", None), "status": error.status_code,
                         "message": error.detail}, status_code=error.status_code)
            headers = response.headers
            headers["Content-Security-Policy"] = CSP
            headers["X-Content-Type-Options"] = "nosniff"
            headers["X-Frame-Options"] = "DENY"
            headers["Referrer-Policy"] = "no-referrer"
            headers.setdefault("Cache-Control", "no-store")
            return response

        return secured


router = APIRouter(prefix="/staff", route_class=SecureRoute)


def staff_store() -> StaffStore:
    return StaffStore()


def app_store() -> AppStore:
    return AppStore()


def rasa_client() -> RasaClient:
    return RasaClient()


def render(request: Request, name: str, staff: Staff | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, f"staff/{name}", {"staff": staff, **context})


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff/conversations"


# --- sign in and out ------------------------------------------------------------------------


def _login_form(request: Request, next: str, error: str = "", email: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in page: the password form (unless turned off) and the identity provider's button (if set)."""
    token = security.new_token()
    provider = oidc.settings()
    response = render(request, "login.html", None, csrf=token, next=_safe_next(next), error=error, email=email,
                      password_login=oidc.password_login_enabled(),
                      provider_name=provider.provider_name if provider else "")
    response.status_code = status
    response.set_cookie(security.LOGIN_CSRF_COOKIE, security.sign(token), httponly=True, samesite="strict",
                        secure=security.cookie_secure(request.url.scheme), path="/staff/login")
    return response


def _start_session(request: Request, store: StaffStore, user, how: str) -> str:
    """A new session for `user` (audited); returns the signed cookie value."""
    token, csrf = security.new_token(), security.new_token()
    store.create_session(user.id, token, csrf)
    store.audit("login", user, None, {"via": how} if how != "password" else None, client_ip(request))
    return security.sign(token)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "", error: str = ""):
    if session_staff(request, touch=False):
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_form(request, next, error)


@router.post("/login")
def login(request: Request, email: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form(""), store: StaffStore = Depends(staff_store)):
    ip = client_ip(request)
    expected = security.unsign(request.cookies.get(security.LOGIN_CSRF_COOKIE))
    if not security.same_token(csrf_token, expected):
        raise HTTPException(status_code=403, detail="The sign-in form expired. Reload the page and try again.")

    def fail(message: str, status: int = 401) -> HTMLResponse:
        return _login_form(request, next, message, email, status)

    if not oidc.password_login_enabled():
        return fail("Sign-in with a password is turned off here: use the button below.", 403)
    guard = security.login_limiter
    if not guard.allow(ip) or guard.address_wait(ip) > 0:
        store.audit("login_rate_limited", None, None, {"email": email[:254]}, ip, email=email[:254] or None)
        return fail("Too many sign-in attempts. Wait a few minutes and try again.", 429)
    found = store.user_by_email(email) if email else None
    user, password_hash = found if found else (None, None)
    ok, new_hash = security.check_password(password_hash, password)
    now = datetime.now(timezone.utc)
    locked = (user is not None and user.locked_until is not None and _aware(user.locked_until) > now) \
        or guard.account_locked(email, ip)
    if user is None or not user.active or locked or not ok:
        # One answer for an unknown, inactive, locked or wrong account: it never tells which (only the audit does).
        reason = "no_such_user" if user is None else "inactive" if not user.active else \
            "locked" if locked else "wrong_password"
        if not ok and guard.failed(email, ip) and user is not None:
            store.login_failed(user.id, 1, security.lockout_time())  # guessed from several addresses
            reason = "locked_now"
        store.audit("login_failed", user, None, {"reason": reason}, ip, email=email[:254] or None)
        return fail(security.LOGIN_FAILED)
    guard.succeeded(email, ip)
    store.login_succeeded(user.id, new_hash)
    signed = _start_session(request, store, user, "password")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(security.SESSION_COOKIE, signed, httponly=True, samesite="strict",
                        secure=security.cookie_secure(request.url.scheme), path="/staff")
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/staff/login")
    return response


def _callback_url(request: Request) -> str:
    base = (get_settings().public_web_url or str(request.base_url)).rstrip("/")
    return base + oidc.CALLBACK_PATH


@router.get("/login/oidc")
def oidc_start(request: Request, next: str = ""):
    """Off to the clinic's identity provider (authorization code flow with PKCE); the state, nonce and code
    verifier wait in a signed cookie that only the callback reads."""
    config = oidc.settings()
    if config is None:
        return RedirectResponse("/staff/login", status_code=303)
    try:
        url, pending = oidc.start(config, _callback_url(request), _safe_next(next))
    except (oidc.SignInRefused, httpx.HTTPError):
        return _login_form(request, next, "The identity provider cannot be reached just now. Try again in a "
                                          "minute, or ask an admin.", status=503)
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider sends the browser back with a cross-site navigation.
    response.set_cookie(oidc.PENDING_COOKIE, security.sign(oidc.encode_pending(pending)), httponly=True,
                        samesite="lax", secure=security.cookie_secure(request.url.scheme),
                        path=oidc.CALLBACK_PATH, max_age=oidc.PENDING_SECONDS)
    return response


@router.get("/login/oidc/callback")
def oidc_callback(request: Request, store: StaffStore = Depends(staff_store)):
    """Back from the identity provider: check state, exchange the code, verify the ID token (nonce,
    audience, issuer, signature), then find the staff account by e-mail. Unknown e-mail: refused."""
    config = oidc.settings()
    if config is None:
        return RedirectResponse("/staff/login", status_code=303)
    pending = oidc.decode_pending(security.unsign(request.cookies.get(oidc.PENDING_COOKIE)))
    ip, next_path = client_ip(request), (pending or {}).get("next", "")

    def refuse(reason: str, message: str, email: str | None = None, user=None) -> HTMLResponse:
        store.audit("login_failed", user, None, {"reason": reason, "via": "oidc"}, ip,
                    email=(email or "")[:254] or None)
        response = _login_form(request, next_path, message, status=403)
        response.delete_cookie(oidc.PENDING_COOKIE, path=oidc.CALLBACK_PATH)
        return response

    if pending is None:
        return refuse("oidc_no_pending", "This sign-in took too long or did not start in this browser. "
                                         "Start again.")
    try:
        claims = oidc.finish(config, _callback_url(request), pending, dict(request.query_params))
    except oidc.SignInRefused as refused:
        return refuse(refused.reason, refused.message, refused.email)
    except (httpx.HTTPError, ValueError):  # the provider's keys or user info could not be read
        return refuse("oidc_unreachable", "The identity provider cannot be reached just now. Try again in a minute.")
    email = str(claims["email"]).strip().lower()
    if not oidc.email_allowed(config, email):
        return refuse("oidc_domain", f"{email} may not sign in here: its domain is not one this clinic "
                                     "allows.", email)
    found = store.user_by_email(email)
    user = found[0] if found else None
    if user is None or not user.active:
        return refuse("no_such_user" if user is None else "inactive",
                      f"There is no active staff account for {email}. An admin must add you (with your role) "
                      "before you can sign in.", email, user)
    if user.oidc_subject and user.oidc_subject != claims["sub"]:
        return refuse("oidc_subject", f"The account {email} belongs to another person at the identity provider. "
                                      "Ask an admin.", email, user)
    if config.role_map:
        role = oidc.mapped_role(config, claims)
        if role is None:
            return refuse("oidc_no_role", "Your identity provider gives you no role for this service. Ask an "
                                          "admin.", email, user)
        if role != user.role:
            store.update_user(user.id, role=role)
            store.audit("user_role", None, email, {"role": role, "via": "oidc"}, ip, email="oidc")
    if not user.oidc_subject:
        store.bind_oidc_subject(user.id, str(claims["sub"]))
    store.login_succeeded(user.id)
    signed = _start_session(request, store, user, "oidc")
    # A page of our own, not a redirect: a Strict session cookie is not sent on the rest of a cross-site chain.
    response = render(request, "signed_in.html", None, next=_safe_next(next_path))
    response.set_cookie(security.SESSION_COOKIE, signed, httponly=True, samesite="strict",
                        secure=security.cookie_secure(request.url.scheme), path="/staff")
    response.delete_cookie(oidc.PENDING_COOKIE, path=oidc.CALLBACK_PATH)
    return response


@router.post("/logout")
def logout(request: Request, staff: Staff = Depends(require("view")), store: StaffStore = Depends(staff_store)):
    store.end_session(staff.token)
    store.audit("logout", staff.user, None, None, client_ip(request))
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/staff")
    return response


@router.get("/")
def home(_staff: Staff = Depends(require("view"))):
    return RedirectResponse("/staff/conversations", status_code=303)


# --- conversations --------------------------------------------------------------------------


def _date(value: str, end: bool = False) -> Optional[float]:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return (day + timedelta(days=1 if end else 0)).timestamp()


def conversation_filter(q: str = Query("", max_length=200), crisis: str = "", handoff: str = "",
                        date_from: str = Query("", alias="from"), date_to: str = Query("", alias="to"),
                        channel: str = "", phase: str = "", focus: str = "", review: str = "") -> ConversationFilter:
    return ConversationFilter(
        q=q, crisis=crisis == "1", open_handoff=handoff == "open",
        date_from=_date(date_from), date_to=_date(date_to, end=True), channel=channel[:64],
        phase=phase[:32], focus=focus[:32], review=review if review in REVIEW_STATUSES else "")


def _filter_query(request: Request, **changes: Any) -> str:
    params = {k: v for k, v in request.query_params.items() if v and k != "page"}
    params.update({k: v for k, v in changes.items() if v})
    return urlencode(params)


@router.get("/conversations", response_class=HTMLResponse)
def conversations(request: Request, page: int = Query(1, ge=1, le=100_000),
                  flt: ConversationFilter = Depends(conversation_filter),
                  staff: Staff = Depends(require("view")), store: StaffStore = Depends(staff_store)):
    store.sync_conversations()
    result = store.list_conversations(flt, page)
    params = dict(request.query_params)
    return render(request, "conversations.html", staff, result=result, params=params,
                  query=_filter_query(request), filtered=any(v for k, v in params.items() if k != "page"),
                  review_statuses=REVIEW_STATUSES)


def _conversation_or_404(store: StaffStore, sender_id: str) -> dict[str, Any]:
    store.sync_conversations()
    summary = store.conversation(sender_id)
    if summary is None or store.forget_if_erased(sender_id):
        raise HTTPException(status_code=404, detail="No such conversation (it may have been deleted "
                                                    "at the person's request).")
    return summary


def journey(sender_id: str, url: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The person's IPT journey (`JourneyStore.summary`: phase, inventory, focus, formulation, goals,
    check-ins, ending), read from the dashboard's database (`url`, default DATABASE_URL), or None.

    Adds `circle_alt`, the closeness circle in words, for the picture's alt text.
    """
    store = JourneyStore(url)
    summary = store.summary(sender_id)
    if summary is not None:
        people = [PersonEntry(**person) for person in summary["inventory"]]
        summary["circle_alt"] = "Closeness circle. " + describe(people)
        summary["week_text"] = conversation_view.week_text(summary)
        summary["phq9_view"] = conversation_view.phq9_view(store.load(sender_id).checkins)
    return summary


@router.get("/conversations/{sender_id}", response_class=HTMLResponse)
def conversation(request: Request, sender_id: str, nlu: str = "", staff: Staff = Depends(require("view")),
                 store: StaffStore = Depends(staff_store)):
    summary = _conversation_or_404(store, sender_id)
    store.audit("view", staff.user, sender_id, None, client_ip(request))
    transcript = store.transcript(sender_id)
    open_handoff = next((h for h in reversed(summary["handoffs"]) if h["status"] in ("requested", "taken")), None)
    # The header: the open (else the latest) hand-off's tier in plain words, and the message that raised it.
    latest = open_handoff or (summary["handoffs"][-1] if summary["handoffs"] else None)
    record = AppStore(store.url).get_handoff(latest["id"]) if latest else None
    tier = staff_tier(record) if record else None
    trigger = conversation_view.trigger_index(transcript, record.message, record.created_at) if record else None
    return render(request, "conversation.html", staff, c=summary, transcript=transcript, notes=store.notes(sender_id),
                  journey=journey(sender_id, store.url), show_nlu=nlu == "1", open_handoff=open_handoff,
                  flags=store.review_flags(sender_id), tier=tier, trigger=trigger,
                  banner=conversation_view.banner(tier, open_handoff is not None, bool(summary.get("has_crisis"))),
                  review_statuses=REVIEW_STATUSES, flash=request.query_params.get("done", ""))


@router.post("/conversations/{sender_id}/notes")
def add_note(request: Request, sender_id: str, text: str = Form(..., min_length=1, max_length=5000),
             staff: Staff = Depends(require("note")), store: StaffStore = Depends(staff_store)):
    _conversation_or_404(store, sender_id)
    note_id = store.add_note(sender_id, staff.user.email, text.strip())
    store.audit("note", staff.user, sender_id, {"note": note_id}, client_ip(request))
    return RedirectResponse(f"/staff/conversations/{_q(sender_id)}?done=note#notes", status_code=303)


@router.post("/conversations/{sender_id}/review")
def set_review(request: Request, sender_id: str, status: str = Form(...), tags: str = Form("", max_length=255),
               staff: Staff = Depends(require("note")), store: StaffStore = Depends(staff_store)):
    if status not in REVIEW_STATUSES:
        raise HTTPException(status_code=422, detail="Unknown review status.")
    summary = _conversation_or_404(store, sender_id)
    if status == "reviewed" and any(h["status"] == "requested" for h in summary["handoffs"]):
        raise HTTPException(status_code=409, detail="This conversation has a hand-off still waiting for someone "
                                                    "to take it. Take it over (or end it) first; then it can be "
                                                    "marked reviewed.")
    store.set_review(sender_id, status, tags.split(","), staff.user.email)
    store.audit("review", staff.user, sender_id, {"status": status, "tags": tags[:255]}, client_ip(request))
    return RedirectResponse(f"/staff/conversations/{_q(sender_id)}?done=review#review", status_code=303)


def _q(sender_id: str) -> str:
    from urllib.parse import quote

    return quote(sender_id, safe="")


# --- hand-offs ------------------------------------------------------------------------------


QUEUE_STATUSES = {"": "Open and recently ended", "open": "Open", "waiting": "Waiting", "taken": "Taken",
                  "closed": "Ended"}


def _on_duty_now() -> Optional[bool]:
    try:
        return staffing.is_open()
    except ValueError:
        return None


@router.get("/handoffs", response_class=HTMLResponse)
def handoffs(request: Request, fragment: str = "", category: str = Query("", max_length=32),
             status: str = Query("", max_length=16), staff: Staff = Depends(require("view")),
             store: StaffStore = Depends(staff_store)):
    category = category if category in CATEGORY_LABELS else ""
    status = status if status in QUEUE_STATUSES else ""
    queue = store.triage_queue(category=category, status=status)
    name = "handoff_table.html" if fragment == "1" else "handoffs.html"
    return render(request, name, staff, queue=queue["rows"], version=queue["version"], open_count=queue["open"],
                  waiting_count=queue["waiting"], category=category, status=status, queue_statuses=QUEUE_STATUSES,
                  category_labels=CATEGORY_LABELS, on_duty=_on_duty_now(),
                  fragment_query=urlencode({"fragment": "1", "category": category, "status": status}))


@router.get("/handoffs/poll")
def handoffs_poll(_staff: Staff = Depends(require("view", touch=False)), store: StaffStore = Depends(staff_store)):
    """For pages without Server-Sent Events; does not count as activity for the idle time-out."""
    return JSONResponse(store.queue_status())


# --- the live feed (Server-Sent Events) --------------------------------------------------------


def _sse(event: str, data: Any, event_id: Optional[int] = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def message_html(line: dict[str, Any], index: int) -> str:
    """One transcript line as the conversation page shows it (the same template, escaped)."""
    return templates.env.get_template("staff/message.html").render(m=line, index=index)


@router.get("/live")
async def live(request: Request, conversation: str = Query("", max_length=255), after: int = Query(0, ge=0),
               feed: LiveFeed = Depends(live_feed)):
    """Server-Sent Events for an open page: `queue` (the badge's and queue's state, when it changes),
    and with `conversation`, `line` for each new transcript line (its id: the lines the page then has,
    so a reconnecting browser's Last-Event-ID resumes where it was). Reading the stream does not count as
    activity for the idle time-out; it ends when the session does (`signed-out`)."""
    staff = await asyncio.to_thread(session_staff, request, False)
    if staff is None:
        raise HTTPException(status_code=401, detail="Please sign in.")
    resume = request.headers.get("last-event-id", "")
    if resume.isdigit():
        after = int(resume)
    subscriber = feed.subscribe(conversation or None, after)

    async def stream():
        try:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            while not subscriber.overflowed:  # too far behind: end; the browser reconnects and resumes
                try:
                    kind, payload = await asyncio.wait_for(subscriber.inbox.get(), timeout=HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:
                    if await asyncio.to_thread(session_staff, request, False) is None:
                        yield _sse("signed-out", {})
                        return
                    yield ": heartbeat\n\n"
                    continue
                if kind == "line":
                    index, line = payload
                    yield _sse("line", {"index": index, "from": line["from"], "timestamp": line.get("timestamp"),
                                        "html": message_html(line, index)}, index + 1)
                else:
                    yield _sse(kind, payload)
        finally:
            feed.unsubscribe(subscriber)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _back(handoff_id: int, done: str, app: AppStore) -> RedirectResponse:
    handoff = app.get_handoff(handoff_id)
    return RedirectResponse(f"/staff/conversations/{_q(handoff.sender_id)}?done={done}#handoff", status_code=303)


@router.get("/handoffs/{handoff_id}")
def handoff_link(handoff_id: int, _staff: Staff = Depends(require("view")), app: AppStore = Depends(app_store)):
    """The address staff notifications link to: the hand-off's place on its conversation page."""
    handoff = app.get_handoff(handoff_id)
    if handoff is None:
        raise HTTPException(status_code=404, detail="No such hand-off.")
    return RedirectResponse(f"/staff/conversations/{_q(handoff.sender_id)}#handoff", status_code=303)


def _handoff_or_404(app: AppStore, handoff_id: int):
    handoff = app.get_handoff(handoff_id)
    if handoff is None:
        raise HTTPException(status_code=404, detail="No such hand-off.")
    return handoff


def _colleague(handoff, staff: Staff) -> Optional[str]:
    """The colleague who holds this hand-off, if it is taken by someone else."""
    if handoff.status == "taken" and handoff.taken_by and handoff.taken_by != staff.label:
        return handoff.taken_by
    return None


def _confirm(request: Request, staff: Staff, handoff, action: str, title: str, message: str, button: str,
             text: str = "", status_code: int = 200) -> HTMLResponse:
    """A confirmation step as a plain form (no script needed): the same POST again with confirm=1."""
    response = render(request, "confirm.html", staff, handoff=handoff, action=action, title=title, message=message,
                      button=button, text=text, back=f"/staff/conversations/{_q(handoff.sender_id)}#handoff")
    response.status_code = status_code
    return response


@router.post("/handoffs/{handoff_id}/take")
def take(request: Request, handoff_id: int, confirm: str = Form(""), staff: Staff = Depends(require("handoff")),
         app: AppStore = Depends(app_store), client: RasaClient = Depends(rasa_client)):
    handoff = _handoff_or_404(app, handoff_id)
    colleague = _colleague(handoff, staff)
    if colleague and confirm != "1":
        return _confirm(request, staff, handoff, "take", f"{colleague} has this hand-off",
                        f"{colleague} took this conversation over. Take it over from them? They will see you "
                        "as its owner.", "Yes, take it over", status_code=409)
    staff_api.take_over(handoff_id, staff.label, app, client, staff, client_ip(request))
    return _back(handoff_id, "taken", app)


_typing_sent: dict[int, float] = {}  # hand-off id -> when its last "typing" went to the person


@router.post("/handoffs/{handoff_id}/reply")
def reply(request: Request, handoff_id: int, text: str = Form(..., min_length=1, max_length=2000),
          confirm: str = Form(""), staff: Staff = Depends(require("handoff")), app: AppStore = Depends(app_store),
          client: RasaClient = Depends(rasa_client)):
    handoff = _handoff_or_404(app, handoff_id)
    colleague = _colleague(handoff, staff)
    if colleague and confirm != "1":
        return _confirm(request, staff, handoff, "reply", f"{colleague} is replying to this person",
                        f"{colleague} has this hand-off. Two people answering at once can confuse someone in "
                        "crisis: check with them first. Your reply has not been sent.", "Send my reply anyway",
                        text=text, status_code=409)
    staff_api.send_reply(handoff_id, text.strip(), staff.label, app, client, staff, client_ip(request))
    _typing_sent.pop(handoff_id, None)  # the widget hid "is typing…" with the reply: the next typing shows at once
    return _back(handoff_id, "sent", app)


@router.post("/handoffs/{handoff_id}/typing")
def typing(handoff_id: int, staff: Staff = Depends(require("handoff", touch=False)),
           app: AppStore = Depends(app_store), client: RasaClient = Depends(rasa_client)):
    """The reply box's "I am typing" (sent by staff.js while the owner of a taken hand-off types): the
    person's widget shows "<name> from the clinic is typing…". At most one every TYPING_INTERVAL seconds
    per hand-off; best effort (nothing stored, nothing audited)."""
    handoff = _handoff_or_404(app, handoff_id)
    if handoff.status != "taken" or handoff.taken_by != staff.label:
        return JSONResponse({"sent": False, "reason": "not your taken hand-off"}, status_code=409)
    now, last = time.monotonic(), _typing_sent.get(handoff_id)
    if last is not None and now - last < presence.TYPING_INTERVAL:
        return JSONResponse({"sent": False, "reason": "throttled"})
    _typing_sent[handoff_id] = now
    try:
        client.send_staff_typing(handoff.sender_id, staff.label)
    except httpx.HTTPError:
        return JSONResponse({"sent": False, "reason": "the assistant could not be reached"}, status_code=502)
    return JSONResponse({"sent": True})


@router.post("/handoffs/{handoff_id}/close")
def close(request: Request, handoff_id: int, confirm: str = Form(""), staff: Staff = Depends(require("handoff")),
          app: AppStore = Depends(app_store), client: RasaClient = Depends(rasa_client)):
    """Ends the hand-off. The page's button asks first (a <details> step with confirm=1); a POST
    without it from a colleague's hand-off gets the confirmation page."""
    handoff = _handoff_or_404(app, handoff_id)
    colleague = _colleague(handoff, staff)
    if colleague and confirm != "1":
        return _confirm(request, staff, handoff, "close", f"{colleague} has this hand-off",
                        f"{colleague} took this conversation over. End the hand-off anyway? The assistant will "
                        "start answering the person again.", "Yes, end the hand-off", status_code=409)
    staff_api.end_handoff(handoff_id, staff.label, app, client, staff, client_ip(request))
    return _back(handoff_id, "closed", app)


# --- export ---------------------------------------------------------------------------------


def _documents(store: StaffStore, sender_ids: list[str], redacted: bool) -> list[dict[str, Any]]:
    docs = []
    for sender_id in sender_ids:
        summary = store.conversation(sender_id)
        if summary is not None:
            docs.append(export.conversation_document(summary, store.transcript(sender_id), store.notes(sender_id),
                                                     redacted))
    return docs


def _export_response(docs: list[dict[str, Any]], fmt: str, filename: str, redacted: bool) -> Response:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        body, media = export.to_csv(docs), "text/csv; charset=utf-8"
    else:
        body = json.dumps({"exported_at": datetime.now(timezone.utc).isoformat(), "redacted": redacted,
                           "conversations": docs}, ensure_ascii=False, indent=1)
        media = "application/json"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}-{stamp}.{"csv" if fmt == "csv" else "json"}"'})


@router.get("/conversations/{sender_id}/export")
def export_one(request: Request, sender_id: str, format: str = "json", redact: str = "",
               staff: Staff = Depends(require("export")), store: StaffStore = Depends(staff_store)):
    _conversation_or_404(store, sender_id)
    redacted = redact == "1"
    docs = _documents(store, [sender_id], redacted)
    store.audit("export", staff.user, sender_id, {"format": format, "redacted": redacted, "conversations": 1},
                client_ip(request))
    return _export_response(docs, format, "conversation", redacted)


@router.get("/conversations/{sender_id}/print", response_class=HTMLResponse)
def print_one(request: Request, sender_id: str, redact: str = "", staff: Staff = Depends(require("export")),
              store: StaffStore = Depends(staff_store)):
    _conversation_or_404(store, sender_id)
    redacted = redact == "1"
    doc = _documents(store, [sender_id], redacted)[0]
    store.audit("export", staff.user, sender_id, {"format": "print", "redacted": redacted, "conversations": 1},
                client_ip(request))
    return render(request, "print.html", staff, doc=doc, redacted=redacted)


@router.get("/export")
def export_filtered(request: Request, format: str = "json", redact: str = "",
                    flt: ConversationFilter = Depends(conversation_filter),
                    staff: Staff = Depends(require("export")), store: StaffStore = Depends(staff_store)):
    store.sync_conversations()
    sender_ids = store.filtered_sender_ids(flt, get_settings().staff_export_limit)
    redacted = redact == "1"
    docs = _documents(store, sender_ids, redacted)
    store.audit("export", staff.user, None, {"format": format, "redacted": redacted, "conversations": len(docs),
                                             "filters": _filter_query(request)}, client_ip(request))
    return _export_response(docs, format, "conversations", redacted)


# --- audit log and users (admins) -------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, user: str = "", action: str = "", target: str = "",
              date_from: str = Query("", alias="from"), date_to: str = Query("", alias="to"),
              page: int = Query(1, ge=1, le=100_000), staff: Staff = Depends(require("admin")),
              store: StaffStore = Depends(staff_store)):
    since, until = _date(date_from), _date(date_to, end=True)
    entries, total = store.audit_entries(
        user=user, action=action, target=target,
        since=datetime.fromtimestamp(since, tz=timezone.utc) if since else None,
        until=datetime.fromtimestamp(until, tz=timezone.utc) if until else None, page=page)
    names = {u.email: u.name for u in store.list_users()}
    for entry in entries:
        entry["sentence"] = audit_sentence(entry, names)
        entry["action_label"] = action_label(entry["action"] or "")
    return render(request, "audit.html", staff, entries=entries, total=total, page=page,
                  pages=max(1, -(-total // 100)), params=dict(request.query_params),
                  query=_filter_query(request))


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, staff: Staff = Depends(require("admin")), store: StaffStore = Depends(staff_store)):
    return render(request, "users.html", staff, users=store.list_users(), error=request.query_params.get("error", ""),
                  done=request.query_params.get("done", ""), now=datetime.now(timezone.utc),
                  oidc_on=oidc.settings() is not None)


@router.post("/users")
def create_user(request: Request, email: str = Form(..., max_length=254), name: str = Form(..., max_length=120),
                role: str = Form(...), password: str = Form(""), staff: Staff = Depends(require("admin")),
                store: StaffStore = Depends(staff_store)):
    problem = None if role in ROLES else "Unknown role."
    # With the identity provider on, an account may have no password (it signs in there only).
    no_password = not password and oidc.settings() is not None
    problem = problem or (None if no_password else security.password_problem(password))
    if "@" not in email:
        problem = problem or "Enter an e-mail address."
    if problem is None:
        try:
            created = store.create_user(email, name or email, role,
                                        security.NO_PASSWORD if no_password else security.hash_password(password))
        except IntegrityError:
            problem = "A user with this e-mail address exists already."
    if problem:
        return RedirectResponse("/staff/users?" + urlencode({"error": problem}), status_code=303)
    store.audit("user_create", staff.user, created.email, {"role": role}, client_ip(request))
    return RedirectResponse("/staff/users?done=created", status_code=303)


@router.post("/users/{user_id}")
def change_user(request: Request, user_id: int, change: str = Form(...), password: str = Form(""),
                role: str = Form(""), staff: Staff = Depends(require("admin")),
                store: StaffStore = Depends(staff_store)):
    target = store.get_user(user_id)
    if target is None:
        raise HTTPException(status_code=404, detail="No such user.")
    if change in ("deactivate", "role") and user_id == staff.user.id:
        return RedirectResponse("/staff/users?" + urlencode({"error": "You cannot change your own account "
                                                                      "this way."}), status_code=303)
    if change == "deactivate":
        store.update_user(user_id, active=False)
    elif change == "activate":
        store.update_user(user_id, active=True)
    elif change == "unlock":
        store.update_user(user_id, unlock=True)
    elif change == "role" and role in ROLES:
        store.update_user(user_id, role=role)
    elif change == "password":
        problem = security.password_problem(password)
        if problem:
            return RedirectResponse("/staff/users?" + urlencode({"error": problem}), status_code=303)
        store.update_user(user_id, password_hash=security.hash_password(password), unlock=True)
    else:
        raise HTTPException(status_code=422, detail="Unknown change.")
    store.audit("user_" + change, staff.user, target.email, {"role": role} if change == "role" else None,
                client_ip(request))
    return RedirectResponse("/staff/users?done=" + change, status_code=303)


# --- personal API tokens (the staff API) ---------------------------------------------------------


def _tokens_page(request: Request, staff: Staff, store: StaffStore, new_token: str = "", new_name: str = "",
                 error: str = "", status: int = 200) -> HTMLResponse:
    """Your tokens (admins: everyone's); a token just made is shown here once and never again."""
    tokens = store.api_tokens(None if staff.can("admin") else staff.user.id)
    response = render(request, "tokens.html", staff, tokens=tokens, new_token=new_token, new_name=new_name,
                      error=error, done=request.query_params.get("done", ""))
    response.status_code = status
    return response


@router.get("/tokens", response_class=HTMLResponse)
def api_tokens(request: Request, staff: Staff = Depends(require("view")), store: StaffStore = Depends(staff_store)):
    return _tokens_page(request, staff, store)


@router.post("/tokens", response_class=HTMLResponse)
def create_api_token(request: Request, name: str = Form("", max_length=80), staff: Staff = Depends(require("view")),
                     store: StaffStore = Depends(staff_store)):
    if not name.strip():
        return _tokens_page(request, staff, store, error="Give the token a name (what it is for).", status=422)
    record, token = store.create_api_token(staff.user.id, name)
    store.audit("api_token_create", staff.user, staff.user.email, {"token": record.id, "name": record.name},
                client_ip(request))
    return _tokens_page(request, staff, store, new_token=token, new_name=record.name)


@router.post("/tokens/{token_id}/revoke")
def revoke_api_token(request: Request, token_id: int, staff: Staff = Depends(require("view")),
                     store: StaffStore = Depends(staff_store)):
    """Revoke one of your tokens (admins: anyone's); it is refused from the next request on."""
    record = store.get_api_token(token_id)
    if record is None or (record.user_id != staff.user.id and not staff.can("admin")):
        raise HTTPException(status_code=404, detail="No such token.")
    if store.revoke_api_token(token_id):
        store.audit("api_token_revoke", staff.user, record.user_email, {"token": record.id, "name": record.name},
                    client_ip(request))
    return RedirectResponse("/staff/tokens?done=revoked", status_code=303)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
