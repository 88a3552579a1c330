"""The audit log in words: "Sam took over the hand-off of conv-ab12" instead of an action code and JSON.

`audit_sentence` gives the sentence without its time (the page adds "at <time>", shown in the reader's
time zone). Unknown actions still read as words, with their details listed plainly.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

LOGIN_FAILED_REASONS = {
    "no_such_user": "no account has this e-mail address", "inactive": "the account is switched off",
    "locked": "the account was locked", "wrong_password": "wrong password",
    "locked_now": "wrong password; the account is now locked for a while",
    "oidc_state": "the identity provider's answer did not belong to this sign-in (state)",
    "oidc_no_pending": "the sign-in through the identity provider took too long or started elsewhere",
    "oidc_domain": "the e-mail domain is not allowed", "oidc_subject": "another person at the identity provider",
    "oidc_no_role": "the identity provider gives no role for this service",
    "oidc_email_unverified": "the e-mail address is not verified at the identity provider",
}
REVIEW_WORDS = {"new": "new", "reviewed": "reviewed", "follow_up": "needs follow-up"}
ROLE_WORDS = {"admin": "admin", "clinician": "clinician", "reviewer": "reviewer", "viewer": "viewer"}
ACTION_LABELS = {
    "login": "Signed in", "login_failed": "Sign-in failed", "login_rate_limited": "Sign-in refused (too many tries)",
    "logout": "Signed out", "view": "Opened a conversation", "export": "Exported", "note": "Added a note",
    "review": "Set the review status", "take_over": "Took over a hand-off", "reply": "Replied to a person",
    "close_handoff": "Ended a hand-off", "user_create": "Added a user", "user_deactivate": "Switched a user off",
    "user_activate": "Switched a user on", "user_unlock": "Unlocked a user", "user_role": "Changed a user's role",
    "user_password": "Set a user's password", "api_token_create": "Made an API token",
    "api_token_revoke": "Revoked an API token",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or action.replace("_", " ").capitalize()


def _who(entry: Mapping[str, Any], names: Mapping[str, str]) -> str:
    email = entry.get("user") or ""
    if email == "api-token":
        return "The staff API (shared token)"
    if email in names:
        return names[email]
    return email or "Someone"


def _export(detail: Mapping[str, Any], target: Optional[str]) -> str:
    fmt = {"json": "JSON", "csv": "CSV", "print": "a printable page"}.get(str(detail.get("format")), "a file")
    redacted = " with names removed" if detail.get("redacted") else ""
    if target:
        return f"exported conversation {target} as {fmt}{redacted}"
    count = detail.get("conversations", 0)
    noun = "conversation" if count == 1 else "conversations"
    filters = f" (filters: {detail['filters']})" if detail.get("filters") else ""
    return f"exported {count} {noun} as {fmt}{redacted}{filters}"


def audit_sentence(entry: Mapping[str, Any], names: Optional[Mapping[str, str]] = None) -> str:
    """One audit entry (`StaffStore.audit_entries` row: user, action, target, detail) as a sentence,
    without the time. `names` maps staff e-mail addresses to their display names."""
    names = names or {}
    action = entry.get("action") or ""
    target = entry.get("target") or ""
    detail = entry.get("detail") if isinstance(entry.get("detail"), Mapping) else {}
    who = _who(entry, names)
    if action in ("take_over", "reply", "close_handoff") and detail.get("staff") and entry.get("user") not in names:
        who = str(detail["staff"])
    handoff = f" (hand-off #{detail['handoff']})" if detail.get("handoff") else ""
    if action == "login":
        return f"{who} signed in" + (" through the identity provider" if detail.get("via") == "oidc" else "")
    if action == "logout":
        return f"{who} signed out"
    if action == "login_failed":
        reason = LOGIN_FAILED_REASONS.get(str(detail.get("reason")), "")
        if not reason and str(detail.get("reason", "")).startswith("oidc_"):
            reason = "the identity provider's answer was refused"
        return f"A sign-in as {entry.get('user') or 'an unknown address'} failed" + (f": {reason}" if reason else "")
    if action == "login_rate_limited":
        return f"Sign-in as {entry.get('user') or 'an unknown address'} refused: too many tries from one address"
    if action == "view":
        return f"{who} opened conversation {target}"
    if action == "export":
        return f"{who} {_export(detail, target)}"
    if action == "note":
        return f"{who} added a staff note to conversation {target}"
    if action == "review":
        status = REVIEW_WORDS.get(str(detail.get("status")), str(detail.get("status") or ""))
        tags = str(detail.get("tags") or "").strip(" ,")
        return f"{who} marked conversation {target} as {status}" + (f" (tags: {tags})" if tags else "")
    if action == "take_over":
        return f"{who} took over the hand-off of {target}{handoff}"
    if action == "reply":
        chars = detail.get("chars")
        size = f" ({chars} characters)" if isinstance(chars, int) else ""
        return f"{who} replied to the person in {target}{size}"
    if action == "close_handoff":
        return f"{who} ended the hand-off of {target}{handoff}: the assistant resumed"
    if action == "user_create":
        role = ROLE_WORDS.get(str(detail.get("role")), str(detail.get("role") or ""))
        return f"{who} added the user {target}" + (f" as {role}" if role else "")
    if action == "user_role":
        role = ROLE_WORDS.get(str(detail.get("role")), str(detail.get("role") or "another role"))
        return f"{who} changed the role of {target} to {role}"
    if action == "user_deactivate":
        return f"{who} switched off the account of {target}"
    if action == "user_activate":
        return f"{who} switched on the account of {target}"
    if action == "user_unlock":
        return f"{who} unlocked the account of {target}"
    if action == "user_password":
        return f"{who} set a new password for {target}"
    if action in ("api_token_create", "api_token_revoke"):
        verb = "made" if action == "api_token_create" else "revoked"
        return f"{who} {verb} the API token \"{detail.get('name', '')}\" of {target}"
    extra = ", ".join(f"{str(k).replace('_', ' ')}: {v}" for k, v in detail.items())
    sentence = f"{who}: {action_label(action).lower()}" + (f" ({target})" if target else "")
    return sentence + (f"; {extra}" if extra else "")
