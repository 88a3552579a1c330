"""`make bench`: the staff dashboard's list page and text search on 10,000 conversations / 500,000 events.

Seeds a fresh SQLite file (under var/bench/) and a fresh PostgreSQL database (TEST_POSTGRES_ADMIN_URL,
default postgres@127.0.0.1:5432; dropped afterwards), folds the events into the conversation summary
once (timed), then requests the pages through the real app (signed in, in-process HTTP client) and
reports the median of several runs. Target: under 300 ms. Results: results/bench_dashboard.json and
the chart results/bench_dashboard.png.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid

from sqlalchemy import Index, create_engine, text

from bot import PROJECT_ROOT
from bot.store.db import get_engine
from bot.store.migrate import upgrade
from bot.store.staff_repository import EVENTS, StaffStore
from bot.web.dashboard.security import hash_password
from scripts.bench_charts import dashboard_chart

WORDS = ("work family sister mother partner friend sleep tired lonely argue job move grief school money busy "
         "weekend talk help feel stress angry happy sad call message dinner plans boss exam holiday").split()
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-123"


def seed(url: str, conversations: int, events_per: int) -> None:
    engine = get_engine(url)
    EVENTS.create(engine, checkfirst=True)
    Index("ix_events_sender_id_bench", EVENTS.c.sender_id).create(engine, checkfirst=True)
    rng = random.Random(7)
    start = time.time() - 90 * 86400
    batch, written = [], 0
    with engine.begin() as connection:
        for c in range(conversations):
            sender = uuid.UUID(int=rng.getrandbits(128)).hex
            t = start + c * (90 * 86400 / conversations)
            crisis = c % 50 == 0
            for e in range(events_per):
                t += rng.uniform(1, 30)
                kind = ("user", "action", "bot", "action")[e % 4]
                if kind == "user":
                    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
                    intent = "crisis" if crisis and e == 8 else "chitchat"
                    parse = {"intent": {"name": intent, "confidence": 0.9}}
                    if intent == "crisis":
                        parse["intent"]["crisis_category"] = "suicide"
                    data = {"event": "user", "timestamp": t, "text": words, "parse_data": parse,
                            "input_channel": rng.choice(("socketio", "rest", "telegram"))}
                    row = dict(sender_id=sender, type_name="user", timestamp=t, intent_name=intent, action_name=None)
                elif kind == "bot":
                    data = {"event": "bot", "timestamp": t, "text": "Thanks for telling me. " * 3, "data": {}}
                    row = dict(sender_id=sender, type_name="bot", timestamp=t, intent_name=None, action_name=None)
                else:
                    data = {"event": "action", "timestamp": t, "name": "action_listen"}
                    row = dict(sender_id=sender, type_name="action", timestamp=t, intent_name=None,
                               action_name="action_listen")
                row["data"] = json.dumps(data)
                batch.append(row)
                if len(batch) >= 20_000:
                    connection.execute(EVENTS.insert(), batch)
                    written += len(batch)
                    batch = []
        if batch:
            connection.execute(EVENTS.insert(), batch)


def measure(url: str, runs: int) -> dict[str, float]:
    import re

    from fastapi.testclient import TestClient

    os.environ["DATABASE_URL"] = url
    from bot.settings import get_settings
    from bot.web.app import app

    get_settings.cache_clear()  # the settings are read once: read them again with this URL

    store = StaffStore(url)
    started = time.perf_counter()
    store.sync_conversations()
    figures = {"initial summary (s)": time.perf_counter() - started}
    store.create_user("bench@clinic.test", "Bench", "admin", hash_password(PASSWORD))
    client = TestClient(app)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").text).group(1)
    assert client.post("/staff/login", data={"email": "bench@clinic.test", "password": PASSWORD,
                                             "csrf_token": csrf}, follow_redirects=False).status_code == 303
    for name, path in [("list page 1", "/staff/conversations"), ("list page 100", "/staff/conversations?page=100"),
                       ("search 'grief'", "/staff/conversations?q=grief"),
                       ("search 'sister argue' (rare)", "/staff/conversations?q=sister+argue"),
                       ("crisis filter", "/staff/conversations?crisis=1")]:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        figures[f"{name} (ms)"] = statistics.median(times)
    return figures


def run(label: str, url: str, args) -> dict[str, float]:
    print(f"[bench] {label}: seeding {args.conversations} conversations x {args.events} events ...", flush=True)
    started = time.perf_counter()
    upgrade(url)
    seed(url, args.conversations, args.events)
    print(f"[bench] {label}: seeded in {time.perf_counter() - started:.0f} s", flush=True)
    figures = measure(url, args.runs)
    for key, value in figures.items():
        print(f"[bench] {label}: {key:34s} {value:8.1f}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50, help="events per conversation")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("STAFF_SESSION_SECRET", "bench")
    os.environ["NOTIFIER_ENABLED"] = "false"
    results = {}
    path = PROJECT_ROOT / "var" / "bench" / "dashboard.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(path) + suffix):
            os.remove(str(path) + suffix)
    results["sqlite"] = run("sqlite", f"sqlite:///{path}", args)
    if not args.skip_postgres:
        name = f"ipt_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            results["postgresql"] = run("postgresql", url, args)
        finally:
            get_engine(url).dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out = PROJECT_ROOT / "results" / "bench_dashboard"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    dashboard_chart(results, out.with_suffix(".png"), title=f"Staff dashboard, {args.conversations:,} conversations")
    print(f"[bench] written to {out.with_suffix('.json')} and {out.with_suffix('.png')}")
    slow = [(db, k, v) for db, figs in results.items() for k, v in figs.items() if k.endswith("(ms)") and v >= 300]
    print("[bench] all medians under 300 ms" if not slow else f"[bench] over 300 ms: {slow}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
