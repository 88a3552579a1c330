"""Start `rasa run` with its API secret from the environment, never on a command line.

Rasa 3.6 reads its HTTP API secrets only from arguments (`--auth-token`, `--jwt-secret`), which
`ps` shows to every user of the machine, and its plain `--auth-token` is only accepted as a
`?token=` URL parameter, which proxies log. So we start Rasa through this module instead:

    RASA_API_TOKEN=... python -m bot.deploy.rasa_launcher run --model models/x.tar.gz --enable-api ...

It reads `RASA_API_TOKEN` and hands it to Rasa in-process as the JWT secret (HS256), so the
process's own argv (`/proc/<pid>/cmdline`) never holds it, and no `?token=` is accepted: every
call to Rasa's HTTP API carries a short-lived JWT signed with the secret in
`Authorization: Bearer ...` (`bot.crisis.rasa_client.rasa_auth_headers`).
"""
from __future__ import annotations

import sys
from typing import Mapping, Optional

from bot.settings import Settings, get_settings

TOKEN_ENV = "RASA_API_TOKEN"
JWT_METHOD = "HS256"
SECRET_FLAGS = ("--auth-token", "--jwt-secret", "--jwt-private-key")


def rasa_arguments(args: list[str], env: Optional[Mapping[str, str]] = None) -> list[str]:
    """The argument list Rasa's CLI parses (in-process only): `args` plus the JWT secret (from `env`, by
    default this process's settings)."""
    for flag in SECRET_FLAGS:
        if any(a == flag or a.startswith(flag + "=") for a in args):
            raise SystemExit(f"{flag} must not be given on the command line: set {TOKEN_ENV} instead")
    token = (get_settings() if env is None else Settings.from_environ(env)).value(TOKEN_ENV)
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: Rasa's HTTP API would be open to anyone")
    if not args or args[0] != "run":
        raise SystemExit("usage: python -m bot.deploy.rasa_launcher run [rasa run options]")
    return ["rasa", *args, "--jwt-secret", token, "--jwt-method", JWT_METHOD]


def main(argv: list[str] | None = None) -> None:
    try:
        arguments = rasa_arguments(list(sys.argv[1:] if argv is None else argv))
    except ValueError as error:  # a setting that cannot be read (bot/settings.py): say which, and stop
        raise SystemExit(f"[rasa] {error}") from None
    from rasa.__main__ import main as rasa_main

    sys.argv = arguments  # Rasa's argparse reads sys.argv; /proc/<pid>/cmdline keeps the launcher's own
    rasa_main()


if __name__ == "__main__":
    main()
