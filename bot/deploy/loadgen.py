"""Simulated people chatting over REST and socket.io: the load of `make bench` and tests/production.

Each simulated person runs one conversation script after another (a new conversation id each time)
until the load's time is up: send a turn, wait for the whole answer, "read and type" for a random
think time, send the next. Some people use socket.io (as the widget does), the others the REST
webhook. Every message carries a unique id in its metadata (`load_id`), which Rasa stores in the
user event, so a check afterwards can count each message's stored events exactly.

A turn's latency is from sending the message to having the whole answer: the REST response, or on
socket.io the acknowledgement Rasa's server sends once the turn's handler has returned (after the
turn's `bot_uttered` events, on the same connection).

Conversation ids go to the proxy as `?sender=<id>` (REST and socket.io), so one conversation stays
on one Rasa server (bot/deploy/nginx.py).
"""
from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import aiohttp
import socketio
import yaml

from bot import PROJECT_ROOT

CONVERSATIONS = PROJECT_ROOT / "deploy" / "load" / "conversations.yml"


@dataclass
class Script:
    """One conversation: the person's messages in order."""

    name: str
    turns: list[str]
    weight: float = 1.0


def load_scripts(path: Path = CONVERSATIONS) -> list[Script]:
    """The conversation scripts of a YAML file: `conversations: [{name, weight, turns: [...]}]`."""
    data = yaml.safe_load(Path(path).read_text())
    scripts = [Script(c["name"], [str(t) for t in c["turns"]], float(c.get("weight", 1.0)))
               for c in data["conversations"]]
    if not scripts or any(not s.turns for s in scripts):
        raise ValueError(f"{path}: every conversation needs turns")
    return scripts


@dataclass
class Turn:
    """One message of a simulated person and what came of it."""

    sender: str
    transport: str
    script: str
    index: int
    text: str
    load_id: str
    started: float
    latency: float = 0.0
    ok: bool = False
    outcome: str = ""  # "200", "503", "502", "timeout", "disconnected", "store-unavailable", ...
    replies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LoadSpec:
    base_url: str
    people: int = 10
    duration: float = 60.0
    think: tuple[float, float] = (2.0, 5.0)
    socketio_share: float = 0.3
    timeout: float = 60.0
    seed: int = 1


@dataclass
class LoadResult:
    spec: LoadSpec
    turns: list[Turn]
    elapsed: float
    connect_errors: int = 0
    connect_error_kinds: dict[str, int] = field(default_factory=dict)

    def ok_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.ok]

    def summary(self) -> dict[str, Any]:
        ok = sorted(t.latency for t in self.ok_turns())
        errors = len(self.turns) - len(ok) + self.connect_errors
        by_outcome: dict[str, int] = {}
        for t in self.turns:
            if not t.ok:
                by_outcome[t.outcome] = by_outcome.get(t.outcome, 0) + 1
        return {
            "people": self.spec.people,
            "turns": len(self.turns),
            "ok": len(ok),
            "errors": errors,
            "error_kinds": by_outcome | {f"connect: {k}": n for k, n in self.connect_error_kinds.items()},
            "p50_ms": percentile(ok, 50) * 1000 if ok else None,
            "p95_ms": percentile(ok, 95) * 1000 if ok else None,
            "p99_ms": percentile(ok, 99) * 1000 if ok else None,
            "mean_ms": statistics.fmean(ok) * 1000 if ok else None,
            "throughput": len(ok) / self.elapsed if self.elapsed else 0.0,
            "elapsed_s": self.elapsed,
            "socketio_turns": sum(1 for t in self.turns if t.transport == "socketio"),
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile with linear interpolation between closest ranks."""
    if not sorted_values:
        raise ValueError("no values")
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


# --- one person on REST ------------------------------------------------------------------------

async def rest_turn(http: aiohttp.ClientSession, base_url: str, turn: Turn, timeout: float) -> None:
    url = f"{base_url}/webhooks/rest/webhook"
    body = {"sender": turn.sender, "message": turn.text, "metadata": {"load_id": turn.load_id}}
    started = time.perf_counter()
    try:
        async with http.post(url, params={"sender": turn.sender}, json=body,
                             timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            payload = await response.json(content_type=None) if response.status == 200 else await response.text()
            turn.outcome = str(response.status)
            turn.ok = response.status == 200 and isinstance(payload, list)
            if turn.ok:
                turn.replies = payload
    except asyncio.TimeoutError:
        turn.outcome = "timeout"
    except (aiohttp.ClientError, ValueError) as error:
        turn.outcome = type(error).__name__
    turn.latency = time.perf_counter() - started


# --- one person on socket.io -------------------------------------------------------------------

class SocketPerson:
    """A socket.io connection for one conversation, like the widget's (with `?sender=`)."""

    def __init__(self, base_url: str, sender: str, timeout: float):
        self.base_url, self.sender, self.timeout = base_url, sender, timeout
        self.client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2,
                                           request_timeout=timeout)
        self.ready = asyncio.Event()
        self.replies: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.pending: Optional[asyncio.Future] = None
        client = self.client

        @client.event
        async def connect():
            await client.emit("session_request", {"session_id": self.sender})

        @client.event
        async def disconnect():
            self.ready.clear()
            if self.pending and not self.pending.done():
                self.pending.set_exception(ConnectionError("disconnected"))

        @client.on("session_confirm")
        async def session_confirm(_data):
            self.ready.set()

        @client.on("bot_uttered")
        async def bot_uttered(data):
            self.replies.append(data)

        @client.on("ipt_error")
        async def ipt_error(data):
            self.errors.append(data)

    async def connect(self) -> None:
        await self.client.connect(f"{self.base_url}?sender={self.sender}", socketio_path="/socket.io",
                                  wait_timeout=self.timeout)
        await asyncio.wait_for(self.ready.wait(), self.timeout)

    async def turn(self, turn: Turn) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self.ready.wait(), self.timeout)
            self.replies, self.errors = [], []
            loop = asyncio.get_running_loop()
            self.pending = loop.create_future()
            pending = self.pending

            def acknowledged(*_args):
                if not pending.done():
                    pending.set_result(True)

            await self.client.emit("user_uttered", {"message": turn.text, "session_id": self.sender,
                                                    "metadata": {"load_id": turn.load_id}},
                                   callback=acknowledged)
            await asyncio.wait_for(pending, self.timeout - (time.perf_counter() - started))
            turn.replies = list(self.replies)
            if self.errors:
                turn.outcome = str(self.errors[0].get("reason") or "error")
            else:
                turn.ok, turn.outcome = True, "ack"
        except asyncio.TimeoutError:
            turn.outcome = "timeout"
        except (ConnectionError, socketio.exceptions.SocketIOError) as error:
            turn.outcome = "disconnected" if isinstance(error, ConnectionError) else type(error).__name__
        finally:
            self.pending = None
        turn.latency = time.perf_counter() - started

    async def close(self) -> None:
        try:
            await self.client.disconnect()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


# --- the load --------------------------------------------------------------------------------

async def run_load(spec: LoadSpec, scripts: list[Script], stop: Optional[asyncio.Event] = None,
                   on_turn: Optional[Callable[[Turn], None]] = None) -> LoadResult:
    """Run `spec.people` simulated people for `spec.duration` seconds (or until `stop` is set).

    A person never starts a turn after the end; turns in flight finish (or time out).
    """
    rng = random.Random(spec.seed)
    n_socket = round(spec.people * spec.socketio_share)
    turns: list[Turn] = []
    connect_errors = 0
    connect_error_kinds: dict[str, int] = {}
    start = time.perf_counter()
    end = start + spec.duration
    stop = stop or asyncio.Event()

    def over() -> bool:
        return stop.is_set() or time.perf_counter() >= end

    async def think(person_rng: random.Random) -> None:
        delay = person_rng.uniform(*spec.think)
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), min(delay, max(0.0, end - time.perf_counter())))
            except asyncio.TimeoutError:
                pass

    async def person(number: int, http: aiohttp.ClientSession) -> None:
        nonlocal connect_errors
        person_rng = random.Random(rng.random())
        transport = "socketio" if number < n_socket else "rest"
        # people do not all arrive in the same instant
        await asyncio.sleep(person_rng.uniform(0, min(1.0, spec.duration / 10)))
        while not over():
            script = person_rng.choices(scripts, weights=[s.weight for s in scripts])[0]
            sender = uuid.UUID(int=person_rng.getrandbits(128)).hex
            socket_person = None
            if transport == "socketio":
                socket_person = SocketPerson(spec.base_url, sender, spec.timeout)
                try:
                    await socket_person.connect()
                except Exception as error:  # noqa: BLE001 - counted, then the person tries again
                    connect_errors += 1
                    kind = f"{type(error).__name__} {str(error)[:60]}".strip()
                    connect_error_kinds[kind] = connect_error_kinds.get(kind, 0) + 1
                    await socket_person.close()
                    await think(person_rng)
                    continue
            try:
                for index, text in enumerate(script.turns):
                    if over():
                        break
                    turn = Turn(sender, transport, script.name, index, text, uuid.uuid4().hex, time.time())
                    turns.append(turn)
                    if socket_person:
                        await socket_person.turn(turn)
                    else:
                        await rest_turn(http, spec.base_url, turn, spec.timeout)
                    if on_turn:
                        on_turn(turn)
                    await think(person_rng)
            finally:
                if socket_person:
                    await socket_person.close()

    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(person(i, http) for i in range(spec.people)))
    elapsed = time.perf_counter() - start
    return LoadResult(spec, turns, elapsed, connect_errors, connect_error_kinds)

