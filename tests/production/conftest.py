"""The production profile under test: Rasa servers behind nginx on PostgreSQL and Redis.

Each test module starts its own `ProductionStack` on free ports with a fresh PostgreSQL database
(dropped afterwards) and its own Redis key prefix (deleted afterwards). PostgreSQL, Redis and
nginx must be there: missing, the tests are skipped on a developer's machine and fail in CI
(`CI` set), like the `postgres_url` fixture. Logs go to test-artifacts/logs-production/.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.deploy.lock_store import redis_settings
from bot.deploy.nginx import nginx_binary
from bot.deploy.prod import ProductionStack
from tests.conftest import RASA_TOKEN, STAFF_TOKEN, free_port, model_path, temporary_postgres_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOGS = PROJECT_ROOT / "test-artifacts" / "logs-production"


def unavailable(what: str, reason: str):
    message = f"{what} is needed for the production-profile tests and is not available: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the production-profile tests for real)")
    pytest.skip(message)


def redis_client():
    import redis

    s = redis_settings(REDIS_URL)
    return redis.Redis(host=s["host"], port=s["port"], db=s["db"], username=s["username"],
                       password=s["password"], socket_timeout=3, socket_connect_timeout=3)


def require_redis() -> None:
    import redis

    client = redis_client()
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", f"{REDIS_URL.split('@')[-1]}: {error}")
    finally:
        client.close()


def require_nginx() -> str:
    binary = nginx_binary()
    if not binary:
        unavailable("nginx", "not installed (scripts/setup.sh installs Debian's nginx when run as root)")
    return binary


def delete_redis_keys(prefix: str) -> None:
    client = redis_client()
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def production_stack(name: str, tmp: Path, rasa_servers: int = 2, action_servers: int = 2, with_web: bool = False,
                     extra_env: dict | None = None):
    """A running production stack; yields (stack, database url, admin engine)."""
    require_nginx()
    require_redis()
    prefix = f"t{uuid.uuid4().hex[:10]}"
    with temporary_postgres_database() as (url, admin):
        stack = ProductionStack(
            model=model_path(), rasa_port=free_port(), actions_port=free_port(), web_port=free_port(),
            rasa_ports=[free_port() for _ in range(rasa_servers)],
            action_ports=[free_port() for _ in range(action_servers)],
            web_internal_port=free_port(), with_web=with_web,
            database_url=url, redis_url=REDIS_URL, redis_key_prefix=prefix,
            run_dir=tmp / "prod", log_dir=LOGS / name,
            extra_env={"STAFF_API_TOKEN": STAFF_TOKEN, "RASA_API_TOKEN": RASA_TOKEN,
                       "HANDOFF_SPOOL": str(tmp / "spool.jsonl"), "NOTIFIER_INTERVAL": "0.5",
                       "CRISIS_LOCALE": "US",
                       # these tests and the load generator name their own conversations (issue 14: tokens)
                       "REQUIRE_CONVERSATION_TOKEN": "false", **(extra_env or {})},
        )
        try:
            stack.start(timeout=300)
            yield stack, url, admin
        finally:
            stack.stop()
            (LOGS / name).mkdir(parents=True, exist_ok=True)
            for log in ("error.log", "access.log"):
                if (tmp / "prod" / "nginx" / log).exists():
                    shutil.copy(tmp / "prod" / "nginx" / log, LOGS / name / f"nginx-{log}")
            delete_redis_keys(prefix)


# --- PostgreSQL itself ---------------------------------------------------------------------------

def postgres_cluster_command(action: str) -> list[str]:
    """`pg_ctlcluster` for the local cluster (`PG_CTLCLUSTER_ARGS`, default "<version> main")."""
    binary = shutil.which("pg_ctlcluster")
    clusters = sorted(glob.glob("/etc/postgresql/*/main"))
    if not binary or (not clusters and not os.environ.get("PG_CTLCLUSTER_ARGS")):
        unavailable("pg_ctlcluster (Debian's PostgreSQL)", "cannot stop and start the local PostgreSQL server")
    args = (os.environ.get("PG_CTLCLUSTER_ARGS") or f"{Path(clusters[-1]).parent.name} main").split()
    return [binary, "--skip-systemctl-redirect", *args, action]


def postgres_control(action: str) -> None:
    """Stop or start the local PostgreSQL server (the tests run as root or postgres in CI)."""
    command = postgres_cluster_command(action)  # stop: "fast" mode, pg_ctlcluster's default
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")
