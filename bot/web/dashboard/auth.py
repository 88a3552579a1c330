"""Who is signed in, what their role lets them do, and the CSRF check on every state-changing request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from fastapi import HTTPException, Request

from bot.store.staff_repository import StaffStore, UserRecord
from bot.web.dashboard import security

# What each role may do. "view": read conversations and the queue; "handoff": take over, reply,
# end; "note": notes, tags and review status; "export": JSON/CSV/print; "admin": users and audit log.
PERMISSIONS = {
    "admin": frozenset({"view", "handoff", "note", "export", "admin"}),
    "clinician": frozenset({"view", "handoff", "note", "export"}),
    "reviewer": frozenset({"view"}),
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Staff:
    user: UserRecord
    csrf: str
    token: str
    api_token: int | None = None  # the id of the personal API token this request came with (staff API)

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.user.role, frozenset())

    @property
    def label(self) -> str:
        """How the person sees a staff member in messages and who the hand-off records."""
        return self.user.name or self.user.email


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_staff(request: Request, touch: bool = True) -> Staff | None:
    """The signed-in staff member of this request, or None (no, forged, expired or idle session)."""
    token = security.unsign(request.cookies.get(security.SESSION_COOKIE))
    if not token:
        return None
    found = StaffStore().session_user(token, security.idle_timeout(), security.session_lifetime(), touch=touch)
    if found is None:
        return None
    return Staff(found[0], found[1], token)


async def check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get("x-csrf-token")
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            given = (await request.form()).get("csrf_token")
    if not security.same_token(given, expected):
        raise HTTPException(status_code=403, detail="The form has expired or did not come from this site. "
                                                    "Reload the page and try again.")


def require(permission: str = "view", touch: bool = True) -> Callable:
    """A dependency: a signed-in staff member with `permission`; CSRF-checked on POST and friends."""

    async def dependency(request: Request) -> Staff:
        staff = session_staff(request, touch=touch)
        if staff is None:
            if request.url.path.endswith("/poll") or "json" in request.headers.get("accept", ""):
                raise HTTPException(status_code=401, detail="Please sign in.")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(status_code=303, headers={"Location": f"/staff/login?next={quote(target)}"})
        if request.method not in SAFE_METHODS:
            await check_csrf(request, staff.csrf)
        if not staff.can(permission):
            raise HTTPException(status_code=403, detail="Your role does not allow this.")
        request.state.staff = staff
        return staff

    return dependency
