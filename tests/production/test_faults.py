"""Faults on the production profile: PostgreSQL restarts, and a Rasa server is killed under load.

One stack for the module: two Rasa servers, two action servers, the web app and nginx, on a fresh
PostgreSQL database and Redis (tests/production/conftest.py). Each test works whether or not the
other ran before it (the restart test needs one live Rasa server, the kill test two; pytest runs
the restart first).

- **PostgreSQL restart**: the local PostgreSQL server itself is stopped for a few seconds and started
  again (`pg_ctlcluster`). Requests in between fail clearly (REST: 503 with `retry`; the web app
  5xx), quickly; crisis replies still go out; afterwards the same processes answer again, and the
  failed messages were not stored.
- **Rasa server killed**: simulated people (REST and socket.io, deploy/load/conversations.yml) chat
  for LOAD_SECONDS; after KILL_AFTER seconds Rasa server 1 gets SIGKILL. "Witness" conversations
  known to be on it are continued afterwards, through the other server. Then every conversation's
  stored events are compared with what its person sent and received (tests/production/events.py):
  nothing lost, nothing duplicated.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import time
import uuid

import aiohttp
import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.deploy.loadgen import LoadSpec, SocketPerson, Turn, load_scripts, run_load
from bot.deploy.nginx import ACCESS_LINE
from bot.store.repository import AppStore
from tests.conftest import STAFF_TOKEN, wait_for
from tests.production.conftest import postgres_control, production_stack
from tests.production.events import compare, stored_turns

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 6
CLEAR_FAILURE_WITHIN = 10  # seconds: a request during the outage must not hang
LOAD_SECONDS = float(os.environ.get("PRODUCTION_TEST_LOAD_SECONDS", 36))
KILL_AFTER = 10.0
LOCK_LIFETIME = 20  # TICKET_LOCK_LIFETIME of the profile: how long a dead server's ticket holds a conversation


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    with production_stack("faults", tmp_path_factory.mktemp("faults"), rasa_servers=2, action_servers=2,
                          with_web=True, extra_env={"TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME)}) as running:
        yield running


# --- PostgreSQL restarts ------------------------------------------------------------------------

def say(stack, sender: str, message: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook", params={"sender": sender},
                          json={"sender": sender, "message": message}, timeout=30)
    return response, time.monotonic() - started


def staff_handoffs(stack) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{stack.web_port}/staff/api/handoffs",
                     headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=30)


async def socket_turn(base: str, text: str) -> Turn:
    """One turn of a new conversation over socket.io, as the widget sends it."""
    person = SocketPerson(base, uuid.uuid4().hex, timeout=20)
    await person.connect()
    try:
        turn = Turn(person.sender, "socketio", "outage", 0, text, uuid.uuid4().hex, time.time())
        await person.turn(turn)
        return turn
    finally:
        await person.close()


def user_texts(admin_url: str, sender: str) -> list[str]:
    engine = create_engine(admin_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT data::json->>'text' FROM events WHERE sender_id = :s "
                                           "AND type_name = 'user' ORDER BY id"), {"s": sender})
            return [r[0] for r in rows]
    finally:
        engine.dispose()


def accepting(admin) -> bool:
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - not up yet
        admin.dispose()
        return False


def test_postgres_restart_fails_clearly_and_recovers_without_restarting_anything(production):
    stack, url, admin = production
    alive = [s for s in stack.services if s.process.poll() is None]
    pids = {s.name: s.process.pid for s in alive}
    senders = [uuid.uuid4().hex for _ in range(4)]  # spread over both Rasa servers
    for sender in senders:
        response, _ = say(stack, sender, "hello")
        assert response.status_code == 200 and response.json()
    assert staff_handoffs(stack).status_code == 200

    outage: list[tuple[int, float, dict]] = []
    postgres_control("stop")
    try:
        stopped = time.monotonic()
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            for sender in senders:
                response, seconds = say(stack, sender, "what is IPT?")
                outage.append((response.status_code, seconds, response.json()))
        crisis_sender = uuid.uuid4().hex
        crisis, _ = say(stack, crisis_sender, "i want to end my life")
        on_socket = asyncio.run(socket_turn(f"http://127.0.0.1:{stack.rasa_port}", "what is IPT?"))
        started = time.monotonic()
        staff_during = staff_handoffs(stack)
        staff_seconds = time.monotonic() - started
    finally:
        postgres_control("start")
    admin.dispose()  # the test's own pool holds connections from before the restart
    assert wait_for(lambda: accepting(admin), 30), "PostgreSQL did not come back"

    # during the outage: a clear 503 that says to retry, quickly, for every message
    assert outage and all(status == 503 for status, _, _ in outage), {s for s, _, _ in outage}
    assert max(seconds for _, seconds, _ in outage) < CLEAR_FAILURE_WITHIN
    assert all(body.get("retry") is True and body.get("error") for _, _, body in outage)
    # socket.io: the replies, then an `ipt_error` event that says the turn was not kept
    assert not on_socket.ok and on_socket.outcome == "store-unavailable", on_socket.outcome
    # ... except crisis help, which never depends on the database
    assert crisis.status_code == 200 and crisis.headers.get("X-IPT-Degraded") == "store-unavailable"
    assert any((m.get("custom") or {}).get("type") == "crisis" for m in crisis.json())
    assert "988" in " ".join(m.get("text") or "" for m in crisis.json())
    # the web app fails clearly too
    assert staff_during.status_code >= 500 and staff_seconds < CLEAR_FAILURE_WITHIN

    # afterwards: the same processes answer at once, with the conversations' context
    for sender in senders:
        response, seconds = say(stack, sender, "what are the phases of IPT?")
        assert response.status_code == 200 and response.json(), response.text
    assert staff_handoffs(stack).status_code == 200
    assert {s.name: s.process.pid for s in alive} == pids
    assert all(s.process.poll() is None for s in alive)
    # the failed messages were not stored; nothing else is missing or doubled
    for sender in senders:
        assert user_texts(url, sender) == ["hello", "what are the phases of IPT?"]
    # the proxy passed everything on (no "crit" such as a body it could not buffer)
    assert not re.search(r"\[(crit|alert|emerg)\]", (stack.run_dir / "nginx" / "error.log").read_text())
    # and the crisis hand-off, spooled during the outage, is recorded now
    assert wait_for(lambda: [h for h in AppStore(url).list_handoffs("requested") if h.sender_id == crisis_sender], 30)


# --- a Rasa server is killed under load ------------------------------------------------------------

def conversation_key(sender: str) -> str:
    """The routing key a witness sends (X-Conversation-Key), as the widget does: a hash of the id, which nginx
    routes by and logs (its access log holds no ids or query strings, bot/deploy/nginx.py)."""
    return hashlib.sha256(sender.encode()).hexdigest()[:32]


def upstreams_by_conversation(access_log) -> dict[str, list[str]]:
    """From nginx's access log: for each witness conversation (by its id), the Rasa servers that answered, in
    order. Lines carry the key, not the id: the witnesses' ids are looked up by their keys."""
    served: dict[str, list[str]] = {}
    for line in access_log.read_text().splitlines():
        match = ACCESS_LINE.search(line)
        if match and (match["method"], match["path"], match["status"]) == ("POST", "/webhooks/rest/webhook", "200") \
                and match["key"] != "-":  # "a, b" when nginx tried a dead server first: the last one answered
            served.setdefault(match["key"], []).append(match["upstream"].split(",")[-1].strip())
    return {sender: served[key] for sender, key in WITNESS_KEYS.items() if key in served}


def served_twice(access_log, senders: list[str], wait: float = 10.0) -> dict[str, list[str]]:
    """The upstreams of conversations with two answered turns, once nginx has logged both.

    nginx writes a request's log line after the client has its response, so the line for a turn
    just answered can be a moment late."""
    deadline = time.monotonic() + wait
    while True:
        served = upstreams_by_conversation(access_log)
        if all(len(served.get(s, [])) >= 2 for s in senders) or time.monotonic() > deadline:
            return served
        time.sleep(0.1)


WITNESS_KEYS: dict[str, str] = {}  # witness conversation id -> its routing key


async def witness_turn(base: str, sender: str, text: str, index: int) -> Turn:
    """One REST turn of a witness, routed (and logged) by its key in X-Conversation-Key, never by its id."""
    turn = Turn(sender, "rest", "witness", index, text, uuid.uuid4().hex, time.time())
    WITNESS_KEYS[sender] = conversation_key(sender)
    body = {"sender": sender, "message": text, "metadata": {"load_id": turn.load_id}}
    started = time.perf_counter()
    try:
        async with aiohttp.ClientSession() as http, http.post(
                f"{base}/webhooks/rest/webhook", json=body, headers={"X-Conversation-Key": WITNESS_KEYS[sender]},
                timeout=aiohttp.ClientTimeout(total=90)) as response:
            payload = await response.json(content_type=None) if response.status == 200 else await response.text()
            turn.outcome = str(response.status)
            turn.ok = response.status == 200 and isinstance(payload, list)
            if turn.ok:
                turn.replies = payload
    except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as error:
        turn.outcome = type(error).__name__
    turn.latency = time.perf_counter() - started
    return turn


def test_a_killed_rasa_server_loses_and_duplicates_nothing(production):
    stack, url, _admin = production
    base = f"http://127.0.0.1:{stack.rasa_port}"
    victim, survivor = stack.rasa_services()
    victim_addr = f"127.0.0.1:{stack.rasa_ports[0]}"
    survivor_addr = f"127.0.0.1:{stack.rasa_ports[1]}"
    access_log = stack.run_dir / "nginx" / "access.log"

    # witnesses: conversations that are on the server about to die
    witnesses: list[Turn] = []
    while sum(1 for t in witnesses if upstreams_by_conversation(access_log).get(t.sender) == [victim_addr]) < 3:
        turn = asyncio.run(witness_turn(base, uuid.uuid4().hex, "hello", 0))
        assert turn.ok, turn.outcome
        witnesses.append(turn)
    on_victim = [t.sender for t in witnesses if upstreams_by_conversation(access_log).get(t.sender) == [victim_addr]]

    killed_at = 0.0

    async def load_then_kill():
        nonlocal killed_at
        spec = LoadSpec(base, people=8, duration=LOAD_SECONDS, think=(0.2, 1.0), socketio_share=0.25,
                        timeout=LOCK_LIFETIME + 40, seed=7)
        load = asyncio.create_task(run_load(spec, load_scripts()))
        await asyncio.sleep(KILL_AFTER)
        os.killpg(victim.process.pid, signal.SIGKILL)
        killed_at = time.time()
        return await load

    result = asyncio.run(load_then_kill())
    assert victim.process.wait(timeout=10) == -signal.SIGKILL
    assert survivor.process.poll() is None and survivor.healthy()

    # the witnesses' conversations carry on, on the other server
    after = [asyncio.run(witness_turn(base, sender, "what is IPT?", 1)) for sender in on_victim]
    assert all(t.ok and t.replies for t in after), [(t.outcome, t.latency) for t in after]
    served = served_twice(access_log, on_victim)
    assert all(served[s] == [victim_addr, survivor_addr] for s in on_victim), {s: served[s] for s in on_victim}

    turns = result.turns + witnesses + after
    summary = result.summary()
    print(f"\nload: {summary}; killed at +{killed_at - (result.turns[0].started if result.turns else killed_at):.1f} s")
    assert summary["ok"] >= 40, summary
    assert result.connect_errors == 0
    # only turns in flight on the dying server fail; everything sent a moment later is answered
    failed = [t for t in result.turns if not t.ok]
    assert all(t.started <= killed_at + 1 and t.started + t.latency >= killed_at - 1 for t in failed), \
        [(t.outcome, t.started - killed_at, t.latency) for t in failed]
    assert len(failed) <= 8, failed  # at most one in-flight turn per person
    late = [t for t in result.turns if t.ok and t.started > killed_at + 1]
    assert late, "no turn was answered after the kill"
    # a conversation whose turn died with the server waits at most for that turn's lock to expire
    assert max(t.latency for t in late) < LOCK_LIFETIME + 10

    assert not re.search(r"\[(crit|alert|emerg)\]", (stack.run_dir / "nginx" / "error.log").read_text())
    # nothing lost, nothing duplicated: the store holds exactly what the people sent and received
    problems = compare(turns, stored_turns(url, {t.sender for t in turns}))
    assert not problems, "\n".join(problems[:20])
