"""The action server: rasa-sdk's, closed to everyone but our Rasa servers, and quiet about conversations.

`python -m bot.action_server --actions actions --port 5055` (bot/runner.py, the production profile,
docker compose and Kubernetes start it so) differs from `rasa run actions` in three ways:

- it listens on ACTIONS_BIND_HOST, by default 127.0.0.1 (loopback only); set it to the private
  network's address (or 0.0.0.0 inside a container whose port only the Rasa servers can reach);
- every request except `GET /health` must carry `Authorization: Bearer <ACTION_SERVER_SECRET>`,
  the secret the Rasa server sends (endpoints.yml: `action_endpoint.headers`); without it the
  answer is `401` and no action runs. The secret comes from the environment (bot/runner.py sets it
  from var/action_server_secret, generated once), never from the command line. Without a
  secret the server does not start;
- when an action fails, the log says which action and the error's type (and where, as file and
  line), and the `500` answer says no more: rasa-sdk's own handler logs the exception's message
  and answers with the whole request body, the tracker with every message the person wrote, which
  the Rasa server then writes into its log at ERROR.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from bot import log_format, logging_filter
from bot.settings import get_settings

logger = logging.getLogger("bot.action_server")

SECRET_ENV = "ACTION_SERVER_SECRET"
OPEN_PATHS = {"/health"}
PROJECT = str(Path(__file__).resolve().parents[1]) + os.sep


def authorised(request: Request, secret: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and bool(token) and hmac.compare_digest(token.strip(), secret)


def action_name(request: Request) -> str:
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - an unreadable body has no action name
        return "?"
    name = body.get("next_action") if isinstance(body, dict) else None
    return name if isinstance(name, str) and len(name) <= 100 else "?"


def where(error: BaseException) -> str:
    """File and line of our frames (actions/, bot/) and of the innermost: no values, no message."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith(PROJECT) and "site-packages" not in f.filename]
    shown = ours + ([frames[-1]] if frames and frames[-1] not in ours else [])
    return " -> ".join(f"{os.path.relpath(f.filename, PROJECT) if f in ours else os.path.basename(f.filename)}"
                       f":{f.lineno} {f.name}" for f in shown[-8:])


def secure(app: Sanic, secret: str) -> Sanic:
    """Add the secret check and the quiet error handler to rasa-sdk's app."""
    if not secret:
        raise ValueError(f"{SECRET_ENV} is empty: the action server would be open to anyone")

    @app.on_request
    async def check_secret(request: Request) -> Optional[response.HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if not authorised(request, secret):
            logger.warning("Refused a %s %s without the action server secret.", request.method, request.path)
            return response.json({"error": "unauthorized"}, status=401)
        return None

    async def quiet_error(request: Request, error: Exception) -> response.HTTPResponse:
        name = action_name(request)
        logger.error("Action %s failed: %s at %s", name, type(error).__name__, where(error))
        return response.json({"error": f"the action failed ({type(error).__name__})", "action_name": name},
                             status=500)

    app.error_handler.add(Exception, quiet_error)  # replaces rasa-sdk's handler (echoes the tracker)
    return app


def create_app(actions: str, secret: str) -> Sanic:
    from rasa_sdk.endpoint import create_app as sdk_app

    return secure(sdk_app(actions, cors_origins=""), secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The action server (rasa-sdk) with the shared secret.")
    parser.add_argument("--actions", default="actions")
    parser.add_argument("--port", type=int, help="default: ACTIONS_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s  %(message)s")
    logging_filter.install()  # no message text or tracker dumps in this process's logs (bot/logging_filter.py)
    log_format.configure()  # LOG_FORMAT=json: JSON lines (bot/log_format.py)
    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    utils.update_sanic_log_level()
    try:  # a setting that cannot be read (bot/settings.py) or no secret: say which, and stop
        settings = get_settings()
        port, host = args.port or settings.actions_port, settings.actions_bind_host
        app = create_app(args.actions, settings.value(SECRET_ENV) or "")
    except ValueError as error:
        print(f"[actions] {error}", file=sys.stderr)
        return 2
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("Action server on http://%s:%d (secret required)", host, port)
    app.run(host, port, workers=utils.number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
