"""Staff sign-in through the clinic's identity provider: OpenID Connect, authorization code flow with PKCE.

The provider is found by discovery (`STAFF_OIDC_ISSUER` + /.well-known/openid-configuration). Authlib's
OAuth client makes the authorization URL (state, nonce, S256 code challenge) and exchanges the code;
joserfc (Authlib's JOSE library) checks the ID token: signature by a key of the provider's JWKS, issuer,
audience (our client id), expiry and the nonce of this sign-in. Staff accounts are matched by e-mail: an
admin creates the account (with its role) first; an unknown address is refused, never created.
The routes are in `routes.py` (/staff/login/oidc and its callback).

Settings (environment):
- `STAFF_OIDC_ISSUER`: the provider's issuer URL; OpenID Connect sign-in is on when it is set.
- `STAFF_OIDC_CLIENT_ID`; `STAFF_OIDC_CLIENT_SECRET` or `STAFF_OIDC_CLIENT_SECRET_FILE` (a file holding it;
  none: a public client, PKCE only).
- `STAFF_OIDC_PROVIDER_NAME`: the button's "Sign in with ..." (default "your clinic account").
- `STAFF_OIDC_SCOPES` (default "openid email profile").
- `STAFF_OIDC_ALLOWED_DOMAINS`: comma-separated e-mail domains that may sign in this way (default: any).
- `STAFF_OIDC_ROLE_CLAIM` and `STAFF_OIDC_ROLES` ("ipt-admins=admin,ipt-clinicians=clinician"): when set,
  the account's role follows the provider's claim at each sign-in, and a person with no mapped value is
  refused.
- `STAFF_PASSWORD_LOGIN` (default true): false turns local passwords off (needs the issuer set).
"""
from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from bot.settings import get_settings
from bot.store.staff_models import ROLES

CALLBACK_PATH = "/staff/login/oidc/callback"
PENDING_COOKIE = "ipt_staff_oidc"
PENDING_SECONDS = 600  # a sign-in must come back from the provider within 10 minutes
DISCOVERY_TTL = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY = 60  # seconds of clock difference allowed between us and the provider
TIMEOUT = 10.0


class SignInRefused(Exception):
    """The sign-in is refused; `message` is for the person, `reason` for the audit log."""

    def __init__(self, reason: str, message: str, email: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.message, self.email = reason, message, email


def _client_secret() -> str:
    settings = get_settings()
    if settings.staff_oidc_client_secret_file:
        return Path(settings.staff_oidc_client_secret_file).read_text(encoding="utf-8").strip()
    return settings.value("STAFF_OIDC_CLIENT_SECRET") or ""


def _role_map(raw: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {value.strip(): role.strip() for value, role in pairs if value.strip()}


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = ""
    provider_name: str = "your clinic account"
    scopes: str = "openid email profile"
    allowed_domains: tuple[str, ...] = ()
    role_claim: str = ""
    role_map: dict[str, str] = field(default_factory=dict)


def settings() -> OidcSettings | None:
    """The OpenID Connect settings, or None when `STAFF_OIDC_ISSUER` is not set."""
    given = get_settings()
    issuer = (given.staff_oidc_issuer or "").rstrip("/")
    if not issuer:
        return None
    domains = given.staff_oidc_allowed_domains
    return OidcSettings(
        issuer=issuer, client_id=given.staff_oidc_client_id or "", client_secret=_client_secret(),
        provider_name=given.staff_oidc_provider_name, scopes=given.staff_oidc_scopes,
        allowed_domains=tuple(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()),
        role_claim=given.staff_oidc_role_claim or "", role_map=_role_map(given.staff_oidc_roles))


def password_login_enabled() -> bool:
    return get_settings().staff_password_login


def check_settings() -> None:
    """For start-up: raises ValueError, saying what to set, when the sign-in settings cannot work."""
    config = settings()
    if config is None:
        if not password_login_enabled():
            raise ValueError("STAFF_PASSWORD_LOGIN=false turns passwords off, but STAFF_OIDC_ISSUER is not set: "
                             "nobody could sign in. Set STAFF_OIDC_ISSUER (and its client) or allow passwords.")
        return
    if not config.issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError("STAFF_OIDC_ISSUER must be an https:// URL.")
    if not config.client_id:
        raise ValueError("STAFF_OIDC_ISSUER is set but STAFF_OIDC_CLIENT_ID is not.")
    unknown = sorted(set(config.role_map.values()) - set(ROLES))
    if unknown:
        raise ValueError(f"STAFF_OIDC_ROLES names unknown roles {unknown}; roles are {', '.join(ROLES)}.")
    if config.role_map and not config.role_claim:
        raise ValueError("STAFF_OIDC_ROLES is set but STAFF_OIDC_ROLE_CLAIM (the claim to read) is not.")


# --- the provider's metadata and keys, cached --------------------------------------------------

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def _get_json(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
    response.raise_for_status()
    return response.json()


def _cached(key: str, load, refresh: bool = False) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and not refresh and now - hit[0] < DISCOVERY_TTL:
            return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def metadata(config: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document (its issuer must be the configured one)."""
    def load() -> dict[str, Any]:
        document = _get_json(config.issuer + "/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != config.issuer:
            raise SignInRefused("oidc_discovery", "The identity provider's settings do not match STAFF_OIDC_ISSUER.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not document.get(key):
                raise SignInRefused("oidc_discovery", f"The identity provider does not publish its {key}.")
        return document

    return _cached("meta:" + config.issuer, load)


def _keys(config: OidcSettings, refresh: bool = False) -> KeySet:
    uri = metadata(config)["jwks_uri"]
    return _cached("jwks:" + uri, lambda: KeySet.import_key_set(_get_json(uri)), refresh)


# --- the flow --------------------------------------------------------------------------------------


def _client(config: OidcSettings, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(config.client_id, config.client_secret or None, scope=config.scopes,
                        redirect_uri=redirect_uri, code_challenge_method="S256", timeout=TIMEOUT,
                        token_endpoint_auth_method="client_secret_basic" if config.client_secret else "none")


def start(config: OidcSettings, redirect_uri: str, next_path: str) -> tuple[str, dict[str, Any]]:
    """The provider's authorization URL, and what this sign-in must find again on its return (kept in a
    signed cookie: state, nonce, the PKCE verifier, where to go after, when it started)."""
    pending = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64),
               "next": next_path, "at": int(time.time())}
    with _client(config, redirect_uri) as client:
        url, _ = client.create_authorization_url(metadata(config)["authorization_endpoint"], state=pending["state"],
                                                 nonce=pending["nonce"], code_verifier=pending["verifier"])
    return url, pending


def encode_pending(pending: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(pending, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_pending(value: str | None) -> dict[str, Any] | None:
    """The pending sign-in of the (already signature-checked) cookie value, if it is still young enough."""
    if not value:
        return None
    try:
        pending = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return None
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


def _decode_id_token(config: OidcSettings, id_token: str):
    try:
        return jwt.decode(id_token, _keys(config), algorithms=ALGORITHMS)
    except InvalidKeyIdError:  # the provider rotated its keys: read them again, once
        return jwt.decode(id_token, _keys(config, refresh=True), algorithms=ALGORITHMS)


def id_token_claims(config: OidcSettings, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, times and nonce are right."""
    try:
        claims = _decode_id_token(config, id_token).claims
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY, iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.client_id}, sub={"essential": True},
            exp={"essential": True}, iat={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError) as error:
        raise SignInRefused(f"oidc_id_token:{type(error).__name__}",
                            "The identity provider's answer could not be verified. Try again, or ask an admin.") \
            from error
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != config.client_id:
        raise SignInRefused("oidc_id_token:azp", "The identity provider's answer was meant for another service.")
    return claims


def finish(config: OidcSettings, redirect_uri: str, pending: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """The verified claims of the person the provider signed in (with `email` and `sub`), or SignInRefused."""
    if params.get("error"):
        raise SignInRefused(f"oidc_error:{params['error'][:40]}", "The identity provider did not sign you in.")
    if not params.get("state") or params["state"] != pending.get("state"):
        raise SignInRefused("oidc_state", "This sign-in did not start here, or was started in another window. "
                                          "Start again from the sign-in page.")
    if not params.get("code"):
        raise SignInRefused("oidc_no_code", "The identity provider did not sign you in.")
    try:
        with _client(config, redirect_uri) as client:
            token = client.fetch_token(metadata(config)["token_endpoint"], grant_type="authorization_code",
                                       code=params["code"], code_verifier=pending["verifier"])
    except Exception as error:  # noqa: BLE001 - any failure of the exchange refuses the sign-in
        raise SignInRefused(f"oidc_token:{type(error).__name__}", "The identity provider did not confirm the "
                                                                  "sign-in. Try again.") from error
    if not token.get("id_token"):
        raise SignInRefused("oidc_no_id_token", "The identity provider sent no ID token (is the 'openid' scope on?).")
    claims = id_token_claims(config, token["id_token"], pending["nonce"])
    if not claims.get("email") and metadata(config).get("userinfo_endpoint"):
        claims = {**_userinfo(config, token["access_token"], claims["sub"]), **claims}
    if not claims.get("email"):
        raise SignInRefused("oidc_no_email", "The identity provider did not tell us your e-mail address.")
    if claims.get("email_verified") is False:
        raise SignInRefused("oidc_email_unverified", "Your e-mail address is not verified at the identity provider.",
                            claims["email"])
    return claims


def _userinfo(config: OidcSettings, access_token: str, subject: str) -> dict[str, Any]:
    response = httpx.get(metadata(config)["userinfo_endpoint"], timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {access_token}"})
    response.raise_for_status()
    info = response.json()
    if info.get("sub") != subject:  # OpenID Connect Core 5.3.2: must be the ID token's subject
        raise SignInRefused("oidc_userinfo_sub", "The identity provider's answers do not agree.")
    return {k: info[k] for k in ("email", "email_verified", "name") if k in info}


def email_allowed(config: OidcSettings, email: str) -> bool:
    return not config.allowed_domains or email.rsplit("@", 1)[-1].lower() in config.allowed_domains


def mapped_role(config: OidcSettings, claims: dict[str, Any]) -> str | None:
    """With a role mapping: the highest role the person's claim maps to (None: no mapped value).
    Without one: None (the account keeps the role an admin gave it)."""
    values = claims.get(config.role_claim)
    values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
    roles = {config.role_map[v] for v in values if isinstance(v, str) and v in config.role_map}
    return next((role for role in ROLES if role in roles), None)  # ROLES is ordered admin, clinician, reviewer
