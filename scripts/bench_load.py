"""`make bench` (load part): simulated people on the production profile, against the stock moodbot.

One run starts the production stack on free ports: 2 Rasa servers and 2 action servers on a fresh
PostgreSQL database and Redis, nginx in front, and the reference moodbot (`rasa init`) served the
same way. nginx listens three times: "1 server" (all conversations to Rasa server 1), "2 servers"
(hashed over both) and "moodbot". Each target gets, in turn (the order rotates between runs):

- a **latency** phase: `--people` (10) concurrent people with a think time of `--think` seconds
  between turns (reading the answer, typing the next message), 30% of them on socket.io;
- a **throughput** phase: `--throughput-people` (16) people sending without think time, so the
  servers are saturated; throughput = answered turns per second.

It reports p50/p95/p99 turn latency, throughput and errors per target as the median of `--runs`
runs, the ratios against the targets (p50 within 1.5x of the moodbot at 10 people, 2 servers at least
1.5x the throughput of 1, no errors), and checks afterwards that every answered message is stored
exactly once. Results: results/bench_load.json, results/bench_load.md and the chart results/bench_load.png.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from bot import PROJECT_ROOT
from bot.deploy.cpu import CpuWindow, postgres_backends, wait_until_quiet
from bot.deploy.loadgen import CONVERSATIONS, LoadSpec, load_scripts, run_load
from bot.deploy.moodbot import moodbot_model, moodbot_service
from bot.deploy.nginx import Listener, Upstream
from bot.deploy.prod import ProductionStack
from bot.runner import VAR
from scripts.bench_charts import load_chart

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
MOODBOT_SCRIPTS = PROJECT_ROOT / "deploy" / "load" / "moodbot.yml"
RESULTS = PROJECT_ROOT / "results"
METRICS = ("p50_ms", "p95_ms", "p99_ms", "throughput", "errors", "turns", "our_cores", "other_cores")
BUSY_WARNING = 0.25  # cores used by other jobs during a phase above which its figures are suspect


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newest_model() -> str:
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit("[bench] no trained model in models/: run `make train`")
    return str(models[-1].relative_to(PROJECT_ROOT))


class Databases:
    """Fresh PostgreSQL databases for the run, dropped at the end."""

    def __init__(self):
        # pre-ping: another job may restart the shared PostgreSQL server during a long run
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True, pool_pre_ping=True)
        self.names: list[str] = []

    def create(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def stored_user_events(url: str) -> Counter:
    """How many times each load id is stored as a user event."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    counts: Counter = Counter()
    try:
        with engine.connect() as connection:
            for (data,) in connection.execute(text("SELECT data FROM events WHERE type_name = 'user'")):
                load_id = ((json.loads(data).get("metadata") or {}).get("load_id"))
                if load_id:
                    counts[load_id] += 1
    finally:
        engine.dispose()
    return counts


def fmt(value, digits=0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def median_of(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="our model (default: the newest in models/)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60, help="seconds of the latency phase")
    parser.add_argument("--think", default="2,5", help="think time between turns, min,max seconds")
    parser.add_argument("--throughput-people", type=int, default=16)
    parser.add_argument("--throughput-duration", type=float, default=30)
    parser.add_argument("--socketio-share", type=float, default=0.3)
    parser.add_argument("--quick", action="store_true", help="one short run (CI, trying it out)")
    parser.add_argument("--quiet-timeout", type=float, default=45,
                        help="before each phase, wait up to this many seconds for other jobs to leave the CPU idle")
    parser.add_argument("--targets", default="moodbot,1 server,2 servers", help="comma-separated subset")
    parser.add_argument("--phases", default="latency,throughput", help="comma-separated subset")
    parser.add_argument("--out", default=str(RESULTS / "bench_load"))
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration, args.throughput_duration = 1, 20, 15
    think = tuple(float(x) for x in args.think.split(","))
    model = args.model or newest_model()
    mood_model = moodbot_model()
    scripts, mood_scripts = load_scripts(CONVERSATIONS), load_scripts(MOODBOT_SCRIPTS)
    print(f"[bench] our model {model}; reference {mood_model.relative_to(PROJECT_ROOT)}", flush=True)

    databases = Databases()
    tag = uuid.uuid4().hex[:8]
    ours_url = databases.create("ipt_bench_load")
    mood_url = databases.create("moodbot_bench")
    from bot.store.migrate import upgrade

    upgrade(ours_url)
    port_two, port_one, port_mood = free_port(), free_port(), free_port()
    rasa_ports, action_ports, mood_port = [free_port(), free_port()], [free_port(), free_port()], free_port()
    run_dir = VAR / "bench" / "load"
    stack = ProductionStack(
        model=model, rasa_port=port_two, actions_port=free_port(), web_port=free_port(),
        rasa_ports=rasa_ports, action_ports=action_ports, with_web=False,
        database_url=ours_url, redis_url=REDIS_URL, redis_key_prefix=f"bench{tag}",
        run_dir=run_dir, log_dir=run_dir / "logs", proxy_access_log=False,
        extra_upstreams=[Upstream("rasa_one", [f"127.0.0.1:{rasa_ports[0]}"]),
                         Upstream("moodbot", [f"127.0.0.1:{mood_port}"])],
        extra_listeners=[Listener(port_one, "rasa_one"), Listener(port_mood, "moodbot")],
        extra_services=[moodbot_service("moodbot server", mood_port, mood_url, REDIS_URL, f"mood{tag}",
                                        run_dir / "moodbot")] if "moodbot" in args.targets else [],
    )
    targets = [
        ("moodbot", f"http://127.0.0.1:{port_mood}", mood_scripts),
        ("1 server", f"http://127.0.0.1:{port_one}", scripts),
        ("2 servers", f"http://127.0.0.1:{port_two}", scripts),
    ]
    wanted = {t.strip() for t in args.targets.split(",")}
    phases = {p.strip() for p in args.phases.split(",")}
    targets = [t for t in targets if t[0] in wanted]
    results: dict[str, dict[str, list[dict]]] = {name: {"latency": [], "throughput": []} for name in
                                                 ("moodbot", "1 server", "2 servers")}
    answered: list[str] = []
    started = time.time()
    try:
        print("[bench] starting 2 Rasa servers, 2 action servers, the moodbot and nginx ...", flush=True)
        stack.start(timeout=400)
        for _name, url, target_scripts in targets:  # warm up every server (first turns are slow)
            asyncio.run(run_load(LoadSpec(url, people=6, duration=12, think=(0, 0.2), socketio_share=0.3, seed=99),
                                 target_scripts))
        for run in range(args.runs):
            shift = run % len(targets)
            order = targets[shift:] + targets[:shift]
            for name, url, target_scripts in order:
                for phase, spec in (
                    ("latency", LoadSpec(url, people=args.people, duration=args.duration, think=think,
                                         socketio_share=args.socketio_share, seed=run * 10 + 1)),
                    ("throughput", LoadSpec(url, people=args.throughput_people, duration=args.throughput_duration,
                                            think=(0, 0), socketio_share=args.socketio_share, seed=run * 10 + 2)),
                ):
                    if phase not in phases:
                        continue
                    waited_busy = wait_until_quiet(timeout=args.quiet_timeout) if args.quiet_timeout > 0 else None
                    ours = {s.process.pid for s in stack.services if s.process} | {os.getpid()}
                    window = CpuWindow(ours | postgres_backends(databases.names)).start()
                    result = asyncio.run(run_load(spec, target_scripts))
                    window.stop()
                    summary = result.summary()
                    summary.update(busy_cores=window.busy_cores, our_cores=window.our_cores,
                                   other_cores=window.other_cores, busy_before=waited_busy)
                    results[name][phase].append(summary)
                    if name != "moodbot":
                        answered += [t.load_id for t in result.ok_turns()]
                    print(f"[bench] run {run + 1}/{args.runs} {name:9s} {phase:10s} people {spec.people:2d}: "
                          f"p50 {fmt(summary['p50_ms'])} ms  p95 {fmt(summary['p95_ms'])} ms  "
                          f"p99 {fmt(summary['p99_ms'])} ms  {summary['throughput']:.1f} turns/s  "
                          f"errors {summary['errors']}/{summary['turns']} {summary['error_kinds'] or ''} "
                          f"(CPU: ours {window.our_cores:.2f}, other jobs {window.other_cores:.2f} cores)", flush=True)
        stored = stored_user_events(ours_url)
    finally:
        stack.stop()
        databases.drop_all()
        clear_redis(f"bench{tag}", f"mood{tag}")

    lost = [i for i in answered if stored.get(i, 0) == 0]
    duplicated = [i for i, n in stored.items() if n > 1]
    report = summarise(results, args, think, lost, duplicated, len(answered), time.time() - started)
    report["people"] = args.people
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    out.with_suffix(".md").write_text(report["markdown"])
    load_chart(report["table"], out.with_suffix(".png"), people=args.people)
    print("\n" + report["markdown"])
    print(f"[bench] written to {out.with_suffix('.json')}, {out.with_suffix('.md')} and {out.with_suffix('.png')}")
    return 0 if report["targets_met"] else 1


def clear_redis(*prefixes: str) -> None:
    import redis

    from bot.deploy.lock_store import redis_settings

    s = redis_settings(REDIS_URL)
    client = redis.Redis(host=s["host"], port=s["port"], db=s["db"], username=s["username"], password=s["password"])
    try:
        for prefix in prefixes:
            keys = list(client.scan_iter(f"{prefix}:*"))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def summarise(results, args, think, lost, duplicated, answered, seconds) -> dict:
    table = {}
    for name, phases in results.items():
        table[name] = {phase: {key: median_of(runs, key) for key in METRICS} for phase, runs in phases.items()}
    mood, one, two = table["moodbot"], table["1 server"], table["2 servers"]
    p50_ratio_1 = ratio(one["latency"]["p50_ms"], mood["latency"]["p50_ms"])
    p50_ratio_2 = ratio(two["latency"]["p50_ms"], mood["latency"]["p50_ms"])
    scale = ratio(two["throughput"]["throughput"], one["throughput"]["throughput"])
    errors = sum(r["errors"] for phases in results.values() for runs in phases.values() for r in runs)
    checks = {  # None: not measured in this run (--targets, --phases)
        "p50 at 10 people, 1 server / moodbot <= 1.5": None if p50_ratio_1 is None else p50_ratio_1 <= 1.5,
        "throughput 2 servers / 1 server >= 1.5": None if scale is None else scale >= 1.5,
        "no errors": errors == 0,
        "no answered message lost or duplicated in the tracker store": not lost and not duplicated,
    }
    lines = [
        f"# Load benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"median of {args.runs} run(s), {seconds / 60:.0f} min)",
        "",
        f"Latency phase: {args.people} people, think time {think[0]:g}-{think[1]:g} s, {args.duration:g} s; "
        f"throughput phase: {args.throughput_people} people without think time, {args.throughput_duration:g} s; "
        f"{args.socketio_share:.0%} of people on socket.io, the rest on REST; all through nginx.",
        "",
        "| target | p50 ms | p95 ms | p99 ms | turns/s at 10 people | errors | saturated turns/s | p50 ms saturated "
        "| errors saturated | CPU cores used (ours / other jobs), saturated |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in table.items():
        lat, thr = row["latency"], row["throughput"]
        lines.append(f"| {name} | {fmt(lat['p50_ms'])} | {fmt(lat['p95_ms'])} | {fmt(lat['p99_ms'])} | "
                     f"{fmt(lat['throughput'], 1)} | {fmt(lat['errors'])}/{fmt(lat['turns'])} | "
                     f"{fmt(thr['throughput'], 1)} | {fmt(thr['p50_ms'])} | {fmt(thr['errors'])}/{fmt(thr['turns'])} | "
                     f"{fmt(thr['our_cores'], 2)} / {fmt(thr['other_cores'], 2)} |")
    lines += [
        "",
        "| ratio | value | target |",
        "| --- | --- | --- |",
        f"| p50 at {args.people} people, 1 server / moodbot | {fmt(p50_ratio_1, 2)} | <= 1.5 |",
        f"| p50 at {args.people} people, 2 servers / moodbot | {fmt(p50_ratio_2, 2)} | (<= 1.5) |",
        f"| saturated throughput, 2 servers / 1 server | {fmt(scale, 2)} | >= 1.5 |",
        f"| saturated throughput, 1 server / moodbot | "
        f"{fmt(ratio(one['throughput']['throughput'], mood['throughput']['throughput']), 2)} | - |",
        f"| errors (all phases) | {errors} | 0 |",
        f"| answered messages lost / duplicated in the tracker store | {len(lost)} / {len(duplicated)} "
        f"(of {answered}) | 0 / 0 |",
        "",
    ]
    verdict = {None: "not measured", True: "met", False: "MISSED"}
    lines += [f"- {verdict[ok]}: {check}" for check, ok in checks.items()]
    busy = [(name, phase, r["other_cores"]) for name, phases in results.items() for phase, runs in phases.items()
            for r in runs if (r.get("other_cores") or 0) > BUSY_WARNING]
    if busy:
        lines += ["", f"Warning: other jobs used more than {BUSY_WARNING} cores during {len(busy)} phase(s) "
                      f"(up to {max(b[2] for b in busy):.2f}); those figures understate this machine."]
    return {"table": table, "runs": results, "ratios": {"p50_1_over_moodbot": p50_ratio_1,
                                                         "p50_2_over_moodbot": p50_ratio_2,
                                                         "throughput_2_over_1": scale},
            "errors": errors, "lost": len(lost), "duplicated": len(duplicated), "answered": answered,
            "checks": checks, "targets_met": all(ok is not False for ok in checks.values()),
            "markdown": "\n".join(lines) + "\n"}


def ratio(a, b):
    return a / b if a is not None and b else None


if __name__ == "__main__":
    sys.exit(main())
