"""The stock Rasa "moodbot" (`rasa init`), served like our assistant: the benchmark's reference.

It is trained once into var/moodbot/project/models/ (about a minute) and reused. Served the same
way means: a Rasa server of the same version in the same virtual environment, behind the same
nginx, with Rasa's own SQL tracker store on the same PostgreSQL server (its own database) and
Rasa's own Redis lock store; its stock `rest` and `socketio` channels. It has no custom actions.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from bot.deploy.lock_store import redis_settings
from bot.runner import BIN, VAR, Service

MOODBOT_DIR = VAR / "moodbot" / "project"


def moodbot_model() -> Path:
    """The trained moodbot model, trained now (`rasa init --no-prompt`) when there is none."""
    models = sorted((MOODBOT_DIR / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if models:
        return models[-1]
    MOODBOT_DIR.mkdir(parents=True, exist_ok=True)
    log = MOODBOT_DIR.parent / "train.log"
    print(f"[bench] training the reference moodbot once into {MOODBOT_DIR} (about a minute) ...", flush=True)
    with open(log, "ab") as output:
        if (MOODBOT_DIR / "config.yml").exists():  # the project is there, only the model is missing
            command = [str(BIN / "rasa"), "train", "--out", "models", "--quiet"]
        else:
            command = [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", "."]
        subprocess.run(command, cwd=MOODBOT_DIR, stdout=output, stderr=subprocess.STDOUT, check=True)
    models = sorted((MOODBOT_DIR / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError(f"training the moodbot produced no model; see {log}")
    return models[-1]


def moodbot_service(name: str, port: int, database_url: str, redis_url: str, key_prefix: str,
                    run_dir: Path) -> Service:
    """A Rasa server with the moodbot model on `port`, writing its endpoints and credentials to `run_dir`."""
    db = make_url(database_url)
    redis = redis_settings(redis_url)
    endpoints = {
        "tracker_store": {"type": "SQL", "dialect": "postgresql", "url": db.host or "127.0.0.1",
                          "port": db.port or 5432, "db": db.database, "username": db.username,
                          "password": db.password},
        "lock_store": {"type": "redis", "url": redis["host"], "port": redis["port"], "db": redis["db"],
                       "password": redis["password"], "key_prefix": key_prefix},
    }
    credentials = {"rest": None, "socketio": {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                                              "session_persistence": True}}
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    (run_dir / "credentials.yml").write_text(yaml.safe_dump(credentials))
    return Service(name, [
        str(BIN / "rasa"), "run", "--model", str(moodbot_model()), "--interface", "127.0.0.1",
        "--port", str(port), "--endpoints", str(run_dir / "endpoints.yml"),
        "--credentials", str(run_dir / "credentials.yml"),
    ], f"http://127.0.0.1:{port}/")
