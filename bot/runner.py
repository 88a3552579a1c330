"""Starts the Rasa server, the action server and the web app; stops them all together.

`make run` calls `python -m bot.runner --model PATH`. Ctrl-C stops everything cleanly; if one
process dies, the runner says which and stops the others. Tests start the same stack on free ports.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlsplit

from bot import PROJECT_ROOT
from bot.secret_file import VAR, private_var  # noqa: F401 - VAR: where the tools (prod, moodbot, bench) keep files
from bot.settings import Settings, get_settings, secret

BIN = Path(sys.executable).parent


PRIVATE_UMASK = 0o077  # what the runner and every process it starts create: files 0600, folders 0700
WEB_TRUSTED_PROXIES = "127.0.0.1"  # the web app's default TRUSTED_PROXIES: nginx on this machine


def private_sqlite(settings: Settings) -> None:
    """The SQLite database file (default var/ipt.db, which `make migrate` may have made 0644) and its journal
    files: 0600."""
    url = settings.database
    if not url.startswith("sqlite:///"):
        return
    database = Path(url[len("sqlite:///"):])
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists() and path.stat().st_uid == os.geteuid():
            path.chmod(0o600)


def cors_origins(web_port: int | None = None, env: dict[str, str] | None = None) -> list[str]:
    """The origins whose pages may call the Rasa server from a browser (`rasa run --cors ...`): the web app's
    own (PUBLIC_WEB_URL, and on this machine localhost and 127.0.0.1 at WEB_PORT, for the demo page's
    widget) and ALLOWED_ORIGINS (comma-separated: the clinic sites that embed the widget). Never `*`.
    `env`: the environment of the processes the runner starts (default: this process's settings)."""
    settings = get_settings() if env is None else Settings.from_environ(env)
    found: list[str] = []
    candidates = [settings.public_web_url or ""] + settings.allowed_origins.split(",")
    if web_port:
        candidates += [f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}"]
    for candidate in candidates:
        parts = urlsplit(candidate.strip())
        if parts.scheme in ("http", "https") and parts.netloc and parts.netloc != "*":
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in found:
                found.append(origin)
    return found


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    process: Optional[subprocess.Popen] = None
    log_path: Optional[Path] = None

    def start(self, env: dict[str, str], log_dir: Optional[Path]) -> None:
        output = None
        if log_dir:
            log_dir.mkdir(parents=True, exist_ok=True)
            self.log_path = log_dir / f"{self.name.replace(' ', '_')}.log"
            output = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=PROJECT_ROOT, env=env, start_new_session=True, umask=PRIVATE_UMASK,
            stdout=output, stderr=subprocess.STDOUT if output else None,
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 15) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


@dataclass
class Stack:
    model: str
    rasa_port: int = 5005
    actions_port: int = 5055
    web_port: int = 8000
    host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    services: list[Service] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The environment of the processes the runner starts: its own plus `extra_env`, checked by
        bot/settings.py (SettingsError when a value cannot be read), with the secrets and addresses they share."""
        env = dict(os.environ)  # handed on to the processes; this module reads its own values from the settings
        env.update(self.extra_env)
        settings = Settings.from_environ(env)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["RASA_TELEMETRY_ENABLED"] = "false"  # Rasa sends nothing to Rasa's telemetry service, ever
        env.setdefault("TRUSTED_PROXIES", WEB_TRUSTED_PROXIES)  # whose X-Forwarded-For the web app believes
        private_var()
        private_sqlite(settings)
        env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{self.actions_port}/webhook"
        env["RASA_URL"] = f"http://127.0.0.1:{self.rasa_port}"
        env.setdefault("PUBLIC_WEB_URL", f"http://localhost:{self.web_port}")  # links and journey pictures
        env["WEB_PORT"] = str(self.web_port)  # the socket.io channel accepts the same origins as --cors below
        # each from the environment, else made once in var/ (the Rasa server sends ACTION_SERVER_SECRET to the
        # action server in endpoints.yml's headers, which checks it). The deprecated shared STAFF_API_TOKEN is
        # not made: it is passed on only when set (staff make their own API tokens on the dashboard).
        for name in ("RASA_API_TOKEN", "ACTION_SERVER_SECRET"):
            env[name] = secret(name, settings)
        env.setdefault("ACTIONS_BIND_HOST", "127.0.0.1")  # the private network's address when split
        return env

    def build(self, env: dict[str, str]) -> list[Service]:
        return [
            Service("rasa server", [
                str(BIN / "python"), "-m", "bot.deploy.rasa_launcher",  # RASA_API_TOKEN from env, not argv
                "run", "--model", self.model, "--enable-api", "--cors", *cors_origins(self.web_port, env),
                "--interface", self.host, "--port", str(self.rasa_port),
                "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
            ], f"http://127.0.0.1:{self.rasa_port}/"),
            Service("action server", [
                str(BIN / "python"), "-m", "bot.action_server", "--actions", "actions",
                "--port", str(self.actions_port),
            ], f"http://127.0.0.1:{self.actions_port}/health"),
            Service("web app", [
                str(BIN / "python"), "-m", "uvicorn", "bot.web.app:app",
                "--host", self.host, "--port", str(self.web_port),
                "--no-proxy-headers",  # the app itself reads forwarded headers from TRUSTED_PROXIES only
            ], f"http://127.0.0.1:{self.web_port}/healthz"),
        ]

    def start(self, timeout: float = 240) -> None:
        self.env = self.environment()
        self.services = self.build(self.env)
        for service in self.services:
            service.start(self.env, self.log_dir)
        self.wait_until_healthy(self.services, timeout)

    def restart(self, name: str, timeout: float = 120) -> None:
        """Start one stopped service again (tests use it after stopping it on purpose)."""
        service = self.service(name)
        service.start(self.env, self.log_dir)
        self.wait_until_healthy([service], timeout)

    def wait_until_healthy(self, services: list[Service], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            for service in list(waiting):
                if service.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{service.name} exited while starting (code "
                                       f"{service.process.returncode}); see {service.log_path or 'above'}")
                if service.healthy():
                    print(f"[run] {service.name} is up", flush=True)
                    waiting.remove(service)
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("not up in time: " + ", ".join(s.name for s in waiting))
            time.sleep(0.5)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def dead(self) -> Optional[Service]:
        return next((s for s in self.services if s.process.poll() is not None), None)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def supervise(self, stop_requested: Callable[[], bool], poll: float = 0.5) -> int:
        """Watch the running services until asked to stop (0) or one of them dies (1); stops all."""
        while not stop_requested():
            dead = self.dead()
            if dead:
                print(f"[run] {dead.name} stopped unexpectedly (exit code {dead.process.returncode}); "
                      "stopping the others.", file=sys.stderr, flush=True)
                self.stop()
                return 1
            time.sleep(poll)
        print("\n[run] stopping ...", flush=True)
        self.stop()
        print("[run] stopped.", flush=True)
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the IPT assistant.")
    parser.add_argument("--model")
    parser.add_argument("--cors-origins", action="store_true",
                        help="print the origins for `rasa run --cors` (PUBLIC_WEB_URL, ALLOWED_ORIGINS) and exit")
    args = parser.parse_args(argv)
    if args.cors_origins:
        print(" ".join(cors_origins()))
        return 0
    if not args.model:
        parser.error("--model is required")
    os.umask(PRIVATE_UMASK)
    from bot.channels.limits import max_message_chars
    from bot.handoff.escalation import check_settings as check_escalation_settings
    from bot.policies.crisis import check_safety_settings

    try:
        settings = get_settings()  # every variable readable (bot/settings.py), or a sentence naming the wrong one
        check_safety_settings()
        check_escalation_settings()
        max_message_chars()  # MAX_MESSAGE_CHARS must be a positive whole number
    except ValueError as error:
        print(f"[run] {error}", file=sys.stderr)
        return 2
    stack = Stack(model=args.model, rasa_port=settings.rasa_port, actions_port=settings.actions_port,
                  web_port=settings.web_port, host=settings.bind_host)
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print("[run] starting the Rasa server, the action server and the web app ...", flush=True)
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"[run] {error}", file=sys.stderr)
        return 1
    web = f"http://localhost:{stack.web_port}"
    print(
        "\n[run] The IPT assistant is running. Press Ctrl-C to stop.\n"
        f"  Chat (demo page)   {web}/\n"
        f"  Staff dashboard    {web}/staff/\n"
        f"  REST webhook       http://localhost:{stack.rasa_port}/webhooks/rest/webhook\n"
        f"  socket.io          http://localhost:{stack.rasa_port}/socket.io\n"
        f"  Action server      http://localhost:{stack.actions_port}/health\n",
        flush=True,
    )
    return stack.supervise(lambda: stopping)


if __name__ == "__main__":
    sys.exit(main())
