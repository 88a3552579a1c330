"""The production profile on one machine: `make run-prod` calls `python -m bot.deploy.prod --model PATH`.

N Rasa servers (`RASA_SERVERS`, default 2) and M action servers (`ACTION_SERVERS`, default 2) share
the tracker store and app tables on PostgreSQL (`DATABASE_URL`) and a Redis lock store
(`REDIS_URL`); nginx, run as our own process from a configuration generated under `var/prod/`,
listens on the usual public ports and sends every request of one conversation to the same Rasa
server, action calls round robin, and the web app through. It reuses `bot.runner`'s `Service` and
`Stack` (start, health, supervise, stop); tests and `make bench` start the same stack on free ports.

Ports: the proxy takes `RASA_PORT` (5005), `ACTIONS_PORT` (5055) and `WEB_PORT` (8000); behind it the
Rasa servers listen on RASA_PORT+1... (5006, 5007, ...), the action servers on ACTIONS_PORT+1...
and the web app on WEB_PORT+1, all on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.deploy.lock_store import redis_settings
from bot.deploy.nginx import Listener, ProxyConfig, Upstream, proxy_service
from bot.runner import BIN, VAR, Service, Stack, cors_origins
from bot.settings import default, get_settings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/ipt"
DEFAULT_REDIS_URL = default("REDIS_URL")
ENDPOINTS = "deploy/endpoints.prod.yml"
# How long a conversation waits for the ticket of a turn that a dying server never finished
# (Rasa's default is 60 s). It must stay above the longest turn (a turn holds the lock meanwhile).
DEFAULT_LOCK_LIFETIME = "20"


@dataclass
class ProductionStack(Stack):
    """`Stack` with several Rasa and action servers behind nginx, on PostgreSQL and Redis.

    `rasa_port`, `actions_port` and `web_port` are the proxy's; the servers behind it listen on
    `rasa_ports`, `action_ports` and `web_internal_port`. Extra upstreams, listeners and services
    (the benchmark's reference bot) can be added before `start()`.
    """

    rasa_ports: list[int] = field(default_factory=list)
    action_ports: list[int] = field(default_factory=list)
    web_internal_port: Optional[int] = None
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    redis_key_prefix: str = "ipt"
    with_web: bool = True
    run_dir: Path = VAR / "prod"
    proxy_access_log: bool = True
    extra_upstreams: list[Upstream] = field(default_factory=list)
    extra_listeners: list[Listener] = field(default_factory=list)
    extra_services: list[Service] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = super().environment()  # ACTION_ENDPOINT_URL and RASA_URL point at the proxy
        env["DATABASE_URL"] = self.database_url
        env["REDIS_URL"] = self.redis_url
        env["REDIS_KEY_PREFIX"] = self.redis_key_prefix
        env.setdefault("TICKET_LOCK_LIFETIME", DEFAULT_LOCK_LIFETIME)
        # One core per Rasa server: scale out by adding servers. TensorFlow's thread pools would make
        # each server reach for every core, and servers on one machine then slow each other down
        # (measured by `make bench`: 2 servers gave 1.2x the throughput of 1 with TensorFlow's
        # defaults, 2.1x with one thread each).
        env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
        env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
        env.setdefault("SANIC_WORKERS", "1")
        env.setdefault("IPT_ENV", "production")  # no API description on the web app
        return env

    def proxy_config(self) -> ProxyConfig:
        upstreams = [
            Upstream("rasa", [f"127.0.0.1:{p}" for p in self.rasa_ports], "hash"),
            Upstream("actions", [f"127.0.0.1:{p}" for p in self.action_ports], "round_robin"),
        ]
        listeners = [Listener(self.rasa_port, "rasa", self.host), Listener(self.actions_port, "actions", public=False)]
        if self.with_web:
            upstreams.append(Upstream("web", [f"127.0.0.1:{self.web_internal_port}"], "round_robin"))
            listeners.append(Listener(self.web_port, "web", self.host))
        return ProxyConfig(upstreams + self.extra_upstreams, listeners + self.extra_listeners,
                           self.run_dir / "nginx", access_log=self.proxy_access_log)

    def build(self, env: dict[str, str]) -> list[Service]:
        if not self.rasa_ports or not self.action_ports:
            raise ValueError("a production stack needs at least one Rasa server and one action server")
        services = [
            Service(f"action server {i + 1}", [
                str(BIN / "python"), "-m", "bot.action_server", "--actions", "actions", "--port", str(port),
            ], f"http://127.0.0.1:{port}/health")
            for i, port in enumerate(self.action_ports)
        ]
        services += [
            Service(f"rasa server {i + 1}", [
                str(BIN / "python"), "-m", "bot.deploy.rasa_launcher",  # RASA_API_TOKEN from env, not argv
                "run", "--model", self.model, "--enable-api", "--cors", *cors_origins(self.web_port, env),
                "--interface", "127.0.0.1", "--port", str(port),
                "--endpoints", ENDPOINTS, "--credentials", "credentials.yml",
            ], f"http://127.0.0.1:{port}/")
            for i, port in enumerate(self.rasa_ports)
        ]
        if self.with_web:
            services.append(Service("web app", [
                str(BIN / "python"), "-m", "uvicorn", "bot.web.app:app", "--host", "127.0.0.1",
                "--port", str(self.web_internal_port),
                "--no-proxy-headers",  # the app believes X-Forwarded-For from TRUSTED_PROXIES (nginx: 127.0.0.1) only
            ], f"http://127.0.0.1:{self.web_internal_port}/healthz"))
        services += self.extra_services
        services.append(proxy_service(self.proxy_config()))
        return services

    def rasa_services(self) -> list[Service]:
        return [s for s in self.services if s.name.startswith("rasa server ")]


# --- preparing the databases ---------------------------------------------------------------------

def ensure_postgres_database(url: str) -> bool:
    """Create the database of `url` when it does not exist (connecting to `postgres`); True if created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": parsed.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            return not exists
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    """Raise a clear error when Redis does not answer."""
    import redis

    settings = redis_settings(url)
    client = redis.Redis(host=settings["host"], port=settings["port"], db=settings["db"],
                         username=settings["username"], password=settings["password"],
                         ssl=settings["use_ssl"], socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        raise RuntimeError(f"Redis does not answer at {settings['host']}:{settings['port']}: {error}") from error
    finally:
        client.close()


def prepare(database_url: str, redis_url: str) -> None:
    """Create the PostgreSQL database if missing, apply the migrations, check Redis."""
    from bot.store.migrate import upgrade

    safe = make_url(database_url).render_as_string(hide_password=True)
    if make_url(database_url).get_backend_name() != "postgresql":
        raise RuntimeError(f"the production profile needs PostgreSQL (DATABASE_URL is {safe}): several Rasa "
                           "servers cannot share a SQLite file")
    if ensure_postgres_database(database_url):
        print(f"[run-prod] created the database {safe}", flush=True)
    upgrade(database_url)
    print(f"[run-prod] migrations applied to {safe}", flush=True)
    check_redis(redis_url)


def stack_from_environment(model: str) -> ProductionStack:
    settings = get_settings()
    rasa_port, actions_port, web_port = settings.rasa_port, settings.actions_port, settings.web_port
    return ProductionStack(
        model=model, rasa_port=rasa_port, actions_port=actions_port, web_port=web_port,
        host=settings.bind_host,
        rasa_ports=[rasa_port + 1 + i for i in range(settings.rasa_servers)],
        action_ports=[actions_port + 1 + i for i in range(settings.action_servers)],
        web_internal_port=web_port + 1,
        database_url=settings.database_url or DEFAULT_DATABASE_URL,
        redis_url=settings.redis_url,
        redis_key_prefix=settings.redis_key_prefix or "ipt",
        log_dir=VAR / "prod" / "logs",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the IPT assistant's production profile on this machine.")
    parser.add_argument("--model", required=True)
    args = parser.parse_args(argv)
    stack = stack_from_environment(args.model)
    try:
        prepare(stack.database_url, stack.redis_url)
    except Exception as error:  # noqa: BLE001 - say what is missing, plainly
        print(f"[run-prod] {error}", file=sys.stderr)
        return 1
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"[run-prod] starting {len(stack.rasa_ports)} Rasa servers, {len(stack.action_ports)} action servers, "
          "the web app and nginx (about a minute) ...", flush=True)
    try:
        stack.start(timeout=300)
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        print(f"[run-prod] {error}", file=sys.stderr)
        return 1
    web = f"http://localhost:{stack.web_port}"
    rasa = f"http://localhost:{stack.rasa_port}"
    print(
        "\n[run-prod] The production profile is running. Press Ctrl-C to stop.\n"
        f"  Chat (demo page)   {web}/\n"
        f"  Staff dashboard    {web}/staff/\n"
        f"  REST webhook       {rasa}/webhooks/rest/webhook?sender=<conversation id>\n"
        f"  socket.io          {rasa}/socket.io (connect with ?sender=<conversation id>)\n"
        f"  Action servers     http://localhost:{stack.actions_port}/health (round robin)\n"
        f"  Behind nginx       Rasa {', '.join(map(str, stack.rasa_ports))}; actions "
        f"{', '.join(map(str, stack.action_ports))}; web app {stack.web_internal_port}\n"
        f"  Database / Redis   {make_url(stack.database_url).render_as_string(hide_password=True)} / "
        f"{stack.redis_url.split('@')[-1]}\n"
        f"  Logs               {stack.log_dir} (nginx: {stack.run_dir / 'nginx'})\n",
        flush=True,
    )
    return stack.supervise(lambda: stopping)


if __name__ == "__main__":
    sys.exit(main())
