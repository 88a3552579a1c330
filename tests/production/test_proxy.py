"""nginx of the production profile in front of stand-in servers: one conversation, one server.

Fast (no Rasa): two tiny HTTP servers say who answered; the configuration is the one
`bot/deploy/nginx.py` renders for the real stack.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager

import httpx
import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.deploy.lock_store import RedisUrlLockStore, redis_settings
from bot.deploy.nginx import Listener, ProxyConfig, Upstream, proxy_service, render_config
from tests.conftest import free_port, wait_for
from tests.production.conftest import REDIS_URL, delete_redis_keys, redis_client, require_nginx, require_redis

pytestmark = pytest.mark.integration


STAND_IN = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = sys.argv[1].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
"""


class StandIn:
    """A process answering every HTTP request with its name; `kill()` ends it as a crash would."""

    def __init__(self, name: str):
        self.name, self.port = name, free_port()
        self.process = subprocess.Popen([sys.executable, "-c", STAND_IN, name, str(self.port)])
        assert wait_for(self.listening, 10), f"stand-in {name} did not start"

    def listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def running_proxy(run_dir):
    """nginx in front of two stand-ins, "a" and "b": a hashed Rasa listener and a round-robin one."""
    require_nginx()
    a, b = StandIn("a"), StandIn("b")
    rasa_port, actions_port = free_port(), free_port()
    config = ProxyConfig(
        [Upstream("rasa", [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], "hash"),
         Upstream("actions", [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], "round_robin")],
        [Listener(rasa_port, "rasa"), Listener(actions_port, "actions")],
        run_dir, fail_timeout=30,
    )
    service = proxy_service(config)
    service.start(dict(os.environ), run_dir)
    try:
        assert wait_for(service.healthy, 15), (run_dir / "error.log").read_text()
        yield {"rasa": f"http://127.0.0.1:{rasa_port}", "actions": f"http://127.0.0.1:{actions_port}", "a": a, "b": b}
    finally:
        service.stop()
        a.kill()
        b.kill()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    with running_proxy(tmp_path_factory.mktemp("nginx")) as running:
        yield running


def who(url: str, method: str = "POST", **kwargs) -> str:
    response = httpx.request(method, url, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.text


def test_the_rendered_configuration_hashes_rasa_on_the_conversation_and_spreads_actions(tmp_path):
    config = ProxyConfig([Upstream("rasa", ["127.0.0.1:1", "127.0.0.1:2"]),
                          Upstream("actions", ["127.0.0.1:3"], "round_robin")],
                         [Listener(5005, "rasa")], tmp_path)
    rendered = render_config(config)
    assert "hash $conversation_key consistent;" in rendered
    assert "least_conn;" in rendered
    assert "proxy_next_upstream error timeout;" in rendered
    assert "non_idempotent" not in rendered  # a POST that reached a server is never sent twice


def test_every_request_of_one_conversation_goes_to_the_same_server(proxy):
    webhook = proxy["rasa"] + "/webhooks/rest/webhook"
    for _ in range(10):
        sender = uuid.uuid4().hex
        answers = {who(webhook, params={"sender": sender}, json={"sender": sender, "message": "hi"})
                   for _ in range(5)}
        # the staff API's path, the header and socket.io's query name the same conversation
        answers.add(who(f"{proxy['rasa']}/conversations/{sender}/tracker/events", json=[]))
        answers.add(who(webhook, headers={"X-Conversation-Id": sender}, json={"sender": sender, "message": "hi"}))
        answers.add(who(f"{proxy['rasa']}/socket.io/", method="GET",
                        params={"sender": sender, "EIO": "4", "transport": "polling"}))
        assert len(answers) == 1, f"conversation {sender} was answered by {answers}"


def test_conversations_are_spread_over_the_servers(proxy):
    webhook = proxy["rasa"] + "/webhooks/rest/webhook"
    answers = [who(webhook, params={"sender": uuid.uuid4().hex}, json={}) for _ in range(60)]
    assert 10 <= answers.count("a") <= 50, answers.count("a")
    # socket.io without a conversation id sticks to the client's address (long-polling needs it)
    assert len({who(f"{proxy['rasa']}/socket.io/", method="GET", params={"EIO": "4"}) for _ in range(6)}) == 1


def test_action_calls_are_spread_round_robin(proxy):
    answers = [who(proxy["actions"] + "/webhook", json={"next_action": "x"}) for _ in range(10)]
    assert set(answers) == {"a", "b"}


def test_when_a_server_dies_its_conversations_move_to_the_other_without_errors(tmp_path):
    with running_proxy(tmp_path) as proxy:
        webhook = proxy["rasa"] + "/webhooks/rest/webhook"
        senders = {}
        while list(senders.values()).count("a") < 5 or list(senders.values()).count("b") < 5:
            sender = uuid.uuid4().hex
            senders[sender] = who(webhook, params={"sender": sender}, json={})
        proxy["a"].kill()  # its connections close and new ones are refused
        answers = {sender: who(webhook, params={"sender": sender}, json={"sender": sender, "message": "still there?"})
                   for sender in senders}
        assert set(answers.values()) == {"b"}
        # and they stay there while "a" is down
        assert {who(webhook, params={"sender": s}, json={}) for s in senders} == {"b"}


# --- the Redis lock store from REDIS_URL ---------------------------------------------------------

def test_redis_settings_come_from_one_url():
    assert redis_settings("redis://:secret@db.example:6380/3") == {
        "host": "db.example", "port": 6380, "db": 3, "username": None, "password": "secret", "use_ssl": False}
    assert redis_settings("rediss://user:pw@cache.example/1")["use_ssl"] is True
    assert redis_settings("redis://127.0.0.1")["db"] == 0


async def test_the_lock_store_keeps_tickets_in_redis_under_its_prefix():
    require_redis()
    prefix, other_prefix = f"t{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    server_1 = RedisUrlLockStore(EndpointConfig(url=REDIS_URL, key_prefix=prefix))
    server_2 = RedisUrlLockStore(EndpointConfig(url=REDIS_URL, key_prefix=prefix))
    other_deployment = RedisUrlLockStore(EndpointConfig(url=REDIS_URL, key_prefix=other_prefix))
    try:
        async with server_1.lock("conversation-1", lock_lifetime=5):
            assert redis_client().exists(f"{prefix}:lock:conversation-1")
            # another server sees the ticket: its own ticket waits behind it
            ticket = server_2.issue_ticket("conversation-1", lock_lifetime=5)
            assert server_2.get_lock("conversation-1").is_locked(ticket)
            assert other_deployment.get_lock("conversation-1") is None
            server_2.cleanup("conversation-1", ticket)
        assert not redis_client().exists(f"{prefix}:lock:conversation-1")
    finally:
        delete_redis_keys(prefix)
