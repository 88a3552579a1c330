"""Every environment variable the assistant reads, typed, with its default and what it is for.

`get_settings()` reads the environment once per process (tests: `get_settings.cache_clear()`, which
tests/conftest.py does after each `monkeypatch.setenv`). A value that cannot be read (a word where a
number belongs, an unknown choice, an unknown CRISIS_LOCALE, malformed CLINIC_HOURS) raises
`SettingsError`, a ValueError whose sentence names the variable and says what to write; every
entry point (the runner, the Rasa plug-ins, the action server, the web app) reads the settings at
start-up, so a bad value stops it there. An empty value counts as unset (compose passes `""` for
variables it leaves out). Each field is named after its variable, in lower case.
docs/operators/configuration.md is generated from this file: `python -m bot.settings --write-doc`.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping, Optional

from pydantic import BaseSettings, Field, SecretStr, ValidationError, root_validator, validator

from bot import PROJECT_ROOT

DOC_PATH = PROJECT_ROOT / "docs" / "operators" / "configuration.md"
VAR = PROJECT_ROOT / "var"

# Groups, in the order the configuration guide lists them.
NETWORK = "Ports and addresses"
STORES = "Database, Redis and files"
SECRETS = "Secrets"
CONVERSATION = "Conversations"
SAFETY = "Safety, staffing and hand-offs"
NOTIFY = "Staff notifications"
DASHBOARD = "Staff dashboard"
CHANNELS = "Messaging channels"
PRODUCTION = "Production profile on one machine (`make run-prod`)"
OBSERVE = "Logs and metrics"
GROUPS = (NETWORK, STORES, SECRETS, CONVERSATION, SAFETY, NOTIFY, DASHBOARD, CHANNELS, PRODUCTION, OBSERVE)

_WORDS = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false", "off": "false"}
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+$")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and says what to write."""


def setting(name: str, default: Any, group: str, description: str, **constraints: Any) -> Any:
    """The field of the variable `name`, with its group and description (shown in the configuration guide)."""
    return Field(default, env=name, description=description, group=group, **constraints)


class Settings(BaseSettings):
    # --- ports and addresses ---
    rasa_port: int = setting(
        "RASA_PORT", 5005, NETWORK,
        "Port of the Rasa server (REST webhook, socket.io, HTTP API).", ge=1, le=65535)
    actions_port: int = setting("ACTIONS_PORT", 5055, NETWORK, "Port of the action server.", ge=1, le=65535)
    web_port: int = setting(
        "WEB_PORT", 8000, NETWORK,
        "Port of the web app (demo page, staff dashboard).", ge=1, le=65535)
    bind_host: str = setting("BIND_HOST", "127.0.0.1", NETWORK, "Address the Rasa server and the web app listen on "
                             "(`0.0.0.0`: every interface).")
    actions_bind_host: str = setting(
        "ACTIONS_BIND_HOST", "127.0.0.1", NETWORK,
        "Address the action server listens on (the private network's address when it runs on another machine).")
    rasa_url: Optional[str] = setting(
        "RASA_URL", None, NETWORK,
        "Where the web app and the action side reach the Rasa server's HTTP API; unset: `http://127.0.0.1:RASA_PORT` "
        "(the runner sets it).")
    public_rasa_url: Optional[str] = setting(
        "PUBLIC_RASA_URL", None, NETWORK,
        "Where browsers reach the Rasa server (the widget's server); unset: RASA_URL, else "
        "`http://localhost:RASA_PORT`.")
    public_web_url: Optional[str] = setting(
        "PUBLIC_WEB_URL", None, NETWORK,
        "The web app's public address, for links in staff notifications, journey pictures and CORS; unset: "
        "`http://localhost:WEB_PORT`.")
    allowed_origins: str = setting(
        "ALLOWED_ORIGINS", "", NETWORK,
        "Comma-separated origins (https://clinic.example) of sites that embed the widget; `*` is ignored. Default: "
        "none.")
    trusted_proxies: str = setting(
        "TRUSTED_PROXIES", "127.0.0.1", NETWORK,
        "Comma-separated addresses, networks or host names of the reverse proxy whose X-Forwarded-For the web app "
        "believes (`*` is ignored).")
    action_endpoint_url: Optional[str] = setting(
        "ACTION_ENDPOINT_URL", None, NETWORK,
        "The action server's webhook, read by Rasa from endpoints.yml; the runner sets it.")

    # --- database, Redis and files ---
    database_url: Optional[str] = setting(
        "DATABASE_URL", None, STORES,
        "SQLAlchemy URL of the database (tracker store and app tables); `postgres://` is read as `postgresql://`; "
        "unset: SQLite file var/ipt.db (production profile: postgresql://postgres@127.0.0.1:5432/ipt).")
    redis_url: str = setting(
        "REDIS_URL", "redis://127.0.0.1:6379/0", STORES,
        "Redis URL of the lock store shared by several Rasa servers (`rediss://` for TLS).")
    redis_key_prefix: Optional[str] = setting(
        "REDIS_KEY_PREFIX", None, STORES,
        "Prefix of the lock store's Redis keys (letters and digits), so deployments can share a Redis database; "
        "unset: none (production profile: `ipt`).")
    handoff_spool: Path = setting(
        "HANDOFF_SPOOL", VAR / "handoff_spool.jsonl", STORES,
        "File that keeps hand-offs while the database cannot be reached.")
    spacy_pipeline_dir: Path = setting(
        "SPACY_PIPELINE_DIR", VAR / "spacy" / "en_ipt", STORES,
        "Where the built spaCy pipeline lives.")
    erasure_key_file: Path = setting(
        "ERASURE_KEY_FILE", VAR / "erasure_key", STORES,
        "File of the erasure key, used (and made) when ERASURE_KEY is unset.")

    # --- secrets ---
    rasa_api_token: Optional[SecretStr] = setting(
        "RASA_API_TOKEN", None, SECRETS,
        "Secret of Rasa's HTTP API (JWT, HS256), shared by the web app and every Rasa server; unset: made once in "
        "var/rasa_api_token by the runner.")
    staff_api_token: Optional[SecretStr] = setting(
        "STAFF_API_TOKEN", None, SECRETS,
        "Deprecated shared bearer token of the staff API (clinician rights; staff make their own tokens on the "
        "dashboard); unset (the default): the shared token is off.")
    action_server_secret: Optional[SecretStr] = setting(
        "ACTION_SERVER_SECRET", None, SECRETS,
        "Secret the Rasa server sends to the action server; unset: made once in var/action_server_secret by the "
        "runner.")
    staff_session_secret: Optional[SecretStr] = setting(
        "STAFF_SESSION_SECRET", None, SECRETS,
        "Key that signs the dashboard's session cookies; unset: made once in var/staff_session_secret.")
    conversation_token_secret: Optional[SecretStr] = setting(
        "CONVERSATION_TOKEN_SECRET", None, SECRETS,
        "Key that signs conversation tokens; unset: derived from RASA_API_TOKEN, else made once in "
        "var/conversation_token_secret.")
    erasure_key: Optional[SecretStr] = setting("ERASURE_KEY", None, SECRETS, "Key of the hash that replaces an erased "
                                               "conversation's id (the same on every server); unset: "
                                               "ERASURE_KEY_FILE.")
    socketio_jwt_key: Optional[SecretStr] = setting(
        "SOCKETIO_JWT_KEY", None, SECRETS,
        "If set, a socket.io connection needs a JWT signed with this key.")
    socketio_jwt_method: str = setting("SOCKETIO_JWT_METHOD", "HS256", SECRETS, "Algorithm of those socket.io JWTs.")

    # --- conversations ---
    require_conversation_token: bool = setting(
        "REQUIRE_CONVERSATION_TOKEN", True, CONVERSATION,
        "Whether REST and socket.io refuse a message without a conversation token issued by the server.")
    conversation_token_days: float = setting(
        "CONVERSATION_TOKEN_DAYS", 90, CONVERSATION,
        "Days a conversation token stays valid.", gt=0)
    max_message_chars: int = setting(
        "MAX_MESSAGE_CHARS", 2000, CONVERSATION,
        "Longest message accepted, in characters.", ge=1)
    journey_weeks: int = setting(
        "JOURNEY_WEEKS", 12, CONVERSATION,
        "Weeks of check-ins a journey plans (kept between 12 and 16).")
    picture_token_days: int = setting(
        "PICTURE_TOKEN_DAYS", 7, CONVERSATION,
        "Days a closeness-circle picture's address works (kept between 1 and 365).")
    log_message_text: Literal["deny", "allow"] = setting(
        "LOG_MESSAGE_TEXT", "deny", CONVERSATION,
        "`allow` lets message text into the logs (for debugging on a test machine only).")
    retention_days: int = setting(
        "RETENTION_DAYS", 0, CONVERSATION,
        "Conversations and their data older than this many days are purged by `python -m bot.store.retention`; 0 "
        "keeps everything.", ge=0)

    # --- safety, staffing and hand-offs ---
    crisis_locale: Optional[str] = setting(
        "CRISIS_LOCALE", None, SAFETY,
        "Country whose crisis lines the assistant gives (a code in bot/crisis/resources.yml, UK means GB); unset: US.")
    clinic_hours: Optional[str] = setting("CLINIC_HOURS", None, SAFETY, "On-duty hours, e.g. `mon-fri 09:00-17:00; sat "
                                          "10:00-14:00`; unset: nobody is on duty (the crisis reply says so).")
    clinic_timezone: str = setting(
        "CLINIC_TIMEZONE", "UTC", SAFETY,
        "IANA time zone of CLINIC_HOURS, e.g. Europe/London.")
    handoff_escalate_after_minutes: int = setting(
        "HANDOFF_ESCALATE_AFTER_MINUTES", 10, SAFETY,
        "Whole minutes a hand-off may wait untaken before the on-call target is notified; 0 turns escalation off.")

    # --- staff notifications ---
    notifier_enabled: bool = setting(
        "NOTIFIER_ENABLED", True, NOTIFY,
        "Whether the web app runs the staff notifier (the outbox worker).")
    notifier_interval: float = setting(
        "NOTIFIER_INTERVAL", 2, NOTIFY,
        "Seconds between the notifier's looks at the outbox.", gt=0)
    staff_webhook_url: Optional[str] = setting(
        "STAFF_WEBHOOK_URL", None, NOTIFY,
        "Webhook that gets each new hand-off (JSON).")
    staff_webhook_secret: Optional[SecretStr] = setting(
        "STAFF_WEBHOOK_SECRET", None, NOTIFY,
        "HMAC-SHA256 key that signs the webhook's body.")
    staff_email_to: Optional[str] = setting(
        "STAFF_EMAIL_TO", None, NOTIFY,
        "Comma-separated addresses e-mailed about each new hand-off (needs SMTP_HOST).")
    oncall_webhook_url: Optional[str] = setting(
        "ONCALL_WEBHOOK_URL", None, NOTIFY,
        "Webhook of hand-off escalations; with neither ONCALL_* target, escalations go to the staff targets.")
    oncall_webhook_secret: Optional[SecretStr] = setting(
        "ONCALL_WEBHOOK_SECRET", None, NOTIFY,
        "Key that signs escalations; unset: STAFF_WEBHOOK_SECRET.")
    oncall_email_to: Optional[str] = setting(
        "ONCALL_EMAIL_TO", None, NOTIFY,
        "Comma-separated addresses e-mailed about escalations (needs SMTP_HOST).")
    notify_apprise_urls: Optional[SecretStr] = setting(
        "NOTIFY_APPRISE_URLS", None, NOTIFY,
        "Apprise URLs (Slack, Teams, PagerDuty, SMS ...), separated by spaces or commas, notified about each hand-off"
        " (bot/handoff/apprise_notify.py).")
    smtp_host: Optional[str] = setting("SMTP_HOST", None, NOTIFY, "Mail server for the e-mails.")
    smtp_port: int = setting("SMTP_PORT", 587, NOTIFY, "Its port.", ge=1, le=65535)
    smtp_user: Optional[str] = setting("SMTP_USER", None, NOTIFY, "User to log in as (no login when unset).")
    smtp_password: Optional[SecretStr] = setting("SMTP_PASSWORD", None, NOTIFY, "Its password.")
    smtp_from: str = setting("SMTP_FROM", "ipt-assistant@localhost", NOTIFY, "Sender address of the e-mails.")
    smtp_starttls: bool = setting("SMTP_STARTTLS", True, NOTIFY, "Whether to use STARTTLS.")

    # --- staff dashboard ---
    ipt_env: Optional[str] = setting(
        "IPT_ENV", None, DASHBOARD,
        "`production`: no API description on the web app, and the stricter checks of a production deployment.")
    environment: Optional[str] = setting(
        "ENVIRONMENT", None, DASHBOARD,
        "Same as IPT_ENV (either may say `production`).")
    staff_password: Optional[SecretStr] = setting("STAFF_PASSWORD", None, DASHBOARD, "Password for `python -m "
                                                  "bot.web.dashboard.users` (asked for when unset).")
    staff_idle_minutes: float = setting(
        "STAFF_IDLE_MINUTES", 30, DASHBOARD,
        "Minutes without activity before a staff session ends.", gt=0)
    staff_session_hours: float = setting(
        "STAFF_SESSION_HOURS", 12, DASHBOARD,
        "Hours after which a staff session ends anyway.", gt=0)
    staff_lockout_failures: int = setting(
        "STAFF_LOCKOUT_FAILURES", 5, DASHBOARD,
        "Failed sign-ins that lock an account.", ge=1)
    staff_lockout_minutes: float = setting(
        "STAFF_LOCKOUT_MINUTES", 15, DASHBOARD,
        "Minutes an account stays locked.", ge=0)
    staff_address_failures: int = setting(
        "STAFF_ADDRESS_FAILURES", 10, DASHBOARD,
        "Failed sign-ins from one address that lock it out.", ge=1)
    staff_lockout_addresses: int = setting(
        "STAFF_LOCKOUT_ADDRESSES", 3, DASHBOARD,
        "Addresses locked out over one account that lock the account.", ge=1)
    staff_login_rate: int = setting(
        "STAFF_LOGIN_RATE", 10, DASHBOARD,
        "Sign-in attempts per address in 5 minutes.", ge=1)
    staff_cookie_secure: Literal["auto", "true", "false"] = setting(
        "STAFF_COOKIE_SECURE", "auto", DASHBOARD,
        "Secure session cookies: `true`, `false` or `auto` (when the request came over https).")
    staff_export_limit: int = setting(
        "STAFF_EXPORT_LIMIT", 500, DASHBOARD,
        "Most conversations in one dashboard export.", ge=1)
    staff_password_login: bool = setting(
        "STAFF_PASSWORD_LOGIN", True, DASHBOARD,
        "Whether staff may sign in with a local password; false needs STAFF_OIDC_ISSUER.")
    staff_oidc_issuer: Optional[str] = setting(
        "STAFF_OIDC_ISSUER", None, DASHBOARD,
        "Issuer URL of the clinic's OpenID Connect identity provider (found by discovery); set: the sign-in page "
        "offers it.")
    staff_oidc_client_id: Optional[str] = setting(
        "STAFF_OIDC_CLIENT_ID", None, DASHBOARD,
        "Our client id at that provider.")
    staff_oidc_client_secret: Optional[SecretStr] = setting(
        "STAFF_OIDC_CLIENT_SECRET", None, DASHBOARD,
        "Our client secret there (unset with no _FILE: a public client, PKCE only).")
    staff_oidc_client_secret_file: Optional[Path] = setting(
        "STAFF_OIDC_CLIENT_SECRET_FILE", None, DASHBOARD,
        "A file holding that secret (read instead of STAFF_OIDC_CLIENT_SECRET).")
    staff_oidc_provider_name: str = setting(
        "STAFF_OIDC_PROVIDER_NAME", "your clinic account", DASHBOARD,
        "The sign-in button's \"Sign in with ...\".")
    staff_oidc_scopes: str = setting(
        "STAFF_OIDC_SCOPES", "openid email profile", DASHBOARD,
        "Scopes asked of the provider.")
    staff_oidc_allowed_domains: str = setting(
        "STAFF_OIDC_ALLOWED_DOMAINS", "", DASHBOARD,
        "Comma-separated e-mail domains that may sign in through the provider; empty: any (the account must exist).")
    staff_oidc_role_claim: Optional[str] = setting(
        "STAFF_OIDC_ROLE_CLAIM", None, DASHBOARD,
        "Claim of the ID token whose values give the role (e.g. `groups`), with STAFF_OIDC_ROLES.")
    staff_oidc_roles: str = setting(
        "STAFF_OIDC_ROLES", "", DASHBOARD,
        "Claim values to roles, e.g. `ipt-admins=admin,ipt-staff=clinician`; set: the role follows the provider at "
        "each sign-in.")

    # --- messaging channels (a channel whose variables are unset answers 503 "not configured") ---
    slack_token: Optional[SecretStr] = setting("SLACK_TOKEN", None, CHANNELS, "Slack bot token.")
    slack_signing_secret: Optional[SecretStr] = setting("SLACK_SIGNING_SECRET", None, CHANNELS, "Slack signing secret.")
    slack_api_url: Optional[str] = setting("SLACK_API_URL", None, CHANNELS, "Slack API base URL (a stand-in in tests).")
    fb_verify: Optional[SecretStr] = setting("FB_VERIFY", None, CHANNELS, "Messenger webhook verify token.")
    fb_secret: Optional[SecretStr] = setting("FB_SECRET", None, CHANNELS, "Messenger app secret.")
    fb_page_access_token: Optional[SecretStr] = setting(
        "FB_PAGE_ACCESS_TOKEN", None, CHANNELS,
        "Messenger page access token.")
    fb_graph_api_url: Optional[str] = setting(
        "FB_GRAPH_API_URL", None, CHANNELS,
        "Graph API base URL (a stand-in in tests).")
    telegram_token: Optional[SecretStr] = setting("TELEGRAM_TOKEN", None, CHANNELS, "Telegram bot token.")
    telegram_secret_token: Optional[SecretStr] = setting(
        "TELEGRAM_SECRET_TOKEN", None, CHANNELS,
        "Secret Telegram sends with each update.")
    telegram_webhook_url: Optional[str] = setting(
        "TELEGRAM_WEBHOOK_URL", None, CHANNELS,
        "Our public Telegram webhook address.")
    telegram_api_url: Optional[str] = setting(
        "TELEGRAM_API_URL", None, CHANNELS,
        "Telegram API base URL (a stand-in in tests).")
    twilio_account_sid: Optional[str] = setting("TWILIO_ACCOUNT_SID", None, CHANNELS, "Twilio account SID.")
    twilio_auth_token: Optional[SecretStr] = setting(
        "TWILIO_AUTH_TOKEN", None, CHANNELS,
        "Twilio auth token (checks signatures).")
    twilio_number: Optional[str] = setting("TWILIO_NUMBER", None, CHANNELS, "Twilio SMS number.")
    twilio_whatsapp_number: Optional[str] = setting("TWILIO_WHATSAPP_NUMBER", None, CHANNELS, "Twilio WhatsApp number.")
    twilio_webhook_url: Optional[str] = setting(
        "TWILIO_WEBHOOK_URL", None, CHANNELS,
        "Our public Twilio webhook address (signatures are computed over it).")
    twilio_api_base_url: Optional[str] = setting(
        "TWILIO_API_BASE_URL", None, CHANNELS,
        "Twilio API base URL (a stand-in in tests).")

    # --- production profile on one machine ---
    rasa_servers: int = setting("RASA_SERVERS", 2, PRODUCTION, "Rasa servers behind the proxy.", ge=1)
    action_servers: int = setting("ACTION_SERVERS", 2, PRODUCTION, "Action servers behind the proxy.", ge=1)

    # --- logs and metrics (docs/operators/monitoring.md) ---
    log_format: Literal["text", "json"] = setting(
        "LOG_FORMAT", "text", OBSERVE,
        "`json`: one JSON object per log line (web app, action server, our Rasa plug-ins), still without message "
        "text; `text`: plain lines.")
    metrics_token: Optional[SecretStr] = setting(
        "METRICS_TOKEN", None, OBSERVE,
        "Bearer token Prometheus sends to `/metrics` (web app) and `/webhooks/rest/metrics` (Rasa); unset: those "
        "answer only direct requests from the same machine.")

    class Config:
        anystr_strip_whitespace = True

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            return init_settings, _environment

    @validator("*", pre=True)
    def _lower_choices(cls, value: Any, field) -> Any:
        if isinstance(value, str) and field.name in ("log_message_text", "log_format", "staff_cookie_secure"):
            value = value.strip().lower()
            return _WORDS.get(value, value) if field.name == "staff_cookie_secure" else value
        return value

    @validator("handoff_escalate_after_minutes", pre=True)
    def _whole_minutes(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"\d{1,6}", value.strip()):
            raise ValueError(f"{value.strip()!r} is not a whole number of minutes; write e.g. 10 "
                             "(0 turns escalation off)")
        return value

    @validator("oncall_webhook_url")
    def _http_address(cls, value: Optional[str]) -> Optional[str]:
        if value and not _URL.match(value):
            raise ValueError("not an http(s) address; write e.g. https://oncall.example.org/hook")
        return value

    @validator("oncall_email_to")
    def _addresses(cls, value: Optional[str]) -> Optional[str]:
        bad = [a for a in (p.strip() for p in (value or "").split(",")) if not _EMAIL.match(a)]
        if value and bad:
            raise ValueError(f"{bad[0]!r} is not an e-mail address (comma-separated addresses, "
                             "e.g. oncall@clinic.example)")
        return value

    @validator("crisis_locale")
    def _known_locale(cls, value: Optional[str]) -> Optional[str]:
        from bot.crisis.resources import check_locale

        check_locale(value)
        return value

    @validator("clinic_hours")
    def _readable_hours(cls, value: Optional[str]) -> Optional[str]:
        from bot.handoff.staffing import parse_hours

        parse_hours(value)
        return value

    @validator("clinic_timezone")
    def _known_zone(cls, value: str) -> str:
        from bot.handoff.staffing import clinic_timezone

        clinic_timezone(value)
        return value

    @root_validator(skip_on_failure=True)
    def _mail_needs_a_server(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("oncall_email_to") and not values.get("smtp_host"):
            raise ValueError("ONCALL_EMAIL_TO is set but SMTP_HOST is not: set SMTP_HOST (and SMTP_PORT, "
                             "SMTP_USER, SMTP_PASSWORD as needed) so the escalation e-mail can be sent")
        return values

    # --- derived values: one default for each ---
    @property
    def database(self) -> str:
        """DATABASE_URL (`postgres://` read as `postgresql://`), else the SQLite file var/ipt.db."""
        url = self.database_url or f"sqlite:///{VAR / 'ipt.db'}"
        return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url

    @property
    def web_url(self) -> str:
        """PUBLIC_WEB_URL without a trailing slash, else http://localhost:WEB_PORT."""
        return (self.public_web_url or f"http://localhost:{self.web_port}").rstrip("/")

    @property
    def rasa_api_url(self) -> str:
        """Where this side reaches the Rasa server's HTTP API."""
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def browser_rasa_url(self) -> str:
        """Where browsers reach the Rasa server."""
        return self.public_rasa_url or self.rasa_url or f"http://localhost:{self.rasa_port}"

    @property
    def production(self) -> bool:
        return "production" in ((self.ipt_env or "").lower(), (self.environment or "").lower())

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Settings":
        """The settings an explicit environment (a subprocess's, a test's) gives; SettingsError when invalid."""
        token = _SOURCE.set(environ)
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError(explain(error, environ)) from None
        finally:
            _SOURCE.reset(token)

    def value(self, name: str) -> Optional[str]:
        """The text of the variable `name` (secrets revealed); KeyError for a variable not declared here."""
        if name.lower() not in self.__fields__ or name != name.upper():
            raise KeyError(f"{name} is not a setting: declare it in bot/settings.py")
        value = getattr(self, name.lower())
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return None if value is None else str(value)


_SOURCE: ContextVar[Optional[Mapping[str, str]]] = ContextVar("settings_environ", default=None)


def _environment(settings: BaseSettings) -> dict[str, str]:
    """The declared variables that are set and not empty, without surrounding spaces."""
    environ = _SOURCE.get()
    environ = os.environ if environ is None else environ
    found = {}
    for field in settings.__fields__.values():
        raw = environ.get(field.field_info.extra["env"])
        if raw is not None and raw.strip():
            found[field.name] = raw.strip()  # secrets too: a key pasted with a newline is the same key
    return found


_PLAIN = {
    "type_error.integer": "is not a whole number",
    "type_error.float": "is not a number",
    "type_error.bool": "is not true or false",
    "value_error.path": "is not a path",
}


def explain(error: ValidationError, environ: Mapping[str, str]) -> str:
    """One sentence per wrong variable: its name, what it holds, what to write."""
    sentences = []
    for problem in error.errors():
        field = str(problem["loc"][0])
        if field == "__root__":
            sentences.append(problem["msg"])
            continue
        name = Settings.__fields__[field].field_info.extra["env"]
        raw = (environ.get(name) or "").strip()
        kind, context = problem["type"], problem.get("ctx", {})
        if kind in _PLAIN:
            text = f"{name}={raw!r} {_PLAIN[kind]}"
        elif kind.startswith("value_error.number."):
            limit = next(iter(context.values()), "")
            words = {"not_ge": "at least", "not_gt": "more than", "not_le": "at most", "not_lt": "less than"}
            text = f"{name}={raw!r}: must be {words.get(kind.rsplit('.', 1)[1], '')} {limit}".replace("  ", " ")
        elif kind == "value_error.const":
            choices = ", ".join(map(str, context.get("permitted", ())))
            text = f"{name}={raw!r} is not one of: {choices}"
        elif problem["msg"].startswith(name):
            text = problem["msg"]
        else:
            text = f"{name}: {problem['msg']}"
        sentences.append(text)
    return "Configuration error: " + "; ".join(sentences)


def default(name: str) -> Any:
    """The default of the variable `name`, for code that needs it without reading the environment."""
    return Settings.__fields__[name.lower()].default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment; SettingsError (a ValueError) when invalid."""
    return Settings.from_environ(os.environ)


def secret(name: str, settings: Optional[Settings] = None) -> str:
    """The secret `name` from the settings (default: this process's), else one made once in
    var/<name in lower case> (0600)."""
    from bot.secret_file import private_var, secret_in_file

    return (settings or get_settings()).value(name) or secret_in_file(private_var() / name.lower())


# --- the configuration guide ---------------------------------------------------------------------------------

def _default_text(field) -> str:
    default = field.default
    if default is None:
        return ""
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, Path):
        return str(default.relative_to(PROJECT_ROOT)) if default.is_relative_to(PROJECT_ROOT) else str(default)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def configuration_doc() -> str:
    """docs/operators/configuration.md: every variable, by group, with its default and what it does."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from bot/settings.py by `python -m bot.settings --write-doc`; do not edit by hand. -->",
        "",
        "Everything is set by environment variables; none is needed to try the assistant on one machine.",
        "An empty value counts as unset; surrounding spaces are ignored. A value that cannot be read (a word",
        "where a number belongs, an unknown choice or country) stops start-up with a sentence naming the variable.",
        "`make run` and the production profile pass the environment on to every process they start.",
    ]
    for group in GROUPS:
        fields = [f for f in Settings.__fields__.values() if f.field_info.extra.get("group") == group]
        lines += ["", f"## {group}", "", "| Variable | Default | What it does |", "|---|---|---|"]
        for field in fields:
            default = _default_text(field)
            lines.append(f"| `{field.field_info.extra['env']}` | {f'`{default}`' if default else ''} | "
                         f"{field.field_info.description} |")
    lines += ["", "## Read by Rasa and TensorFlow, set by the runners", "",
              "`make run` always sets `RASA_TELEMETRY_ENABLED=false` (nothing goes to Rasa's telemetry service) and "
              "`TF_CPP_MIN_LOG_LEVEL=2`; the production profile also sets `TICKET_LOCK_LIFETIME` (20 s), "
              "`TF_INTRA_OP_PARALLELISM_THREADS` and `TF_INTER_OP_PARALLELISM_THREADS` (1) and `SANIC_WORKERS` (1) "
              "unless they are set."]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.settings", description="Check the settings, or write "
                                     "or check the configuration guide generated from them.")
    parser.add_argument("--write-doc", action="store_true", help=f"write {DOC_PATH.relative_to(PROJECT_ROOT)}")
    parser.add_argument("--check-doc", action="store_true", help="fail when that file is out of date")
    args = parser.parse_args(argv)
    if args.write_doc:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(configuration_doc(), encoding="utf-8")
        return 0
    if args.check_doc:
        if not DOC_PATH.exists() or DOC_PATH.read_text(encoding="utf-8") != configuration_doc():
            print(f"{DOC_PATH.relative_to(PROJECT_ROOT)} is out of date: run `python -m bot.settings --write-doc`",
                  file=sys.stderr)
            return 1
        return 0
    try:
        get_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    print("settings OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
