"""The proxy keeps a conversation on one Rasa server by its routing key, a keyed hash of the id (issue 14):
the widget sends it as X-Conversation-Key (REST) or ?conversation_key= (socket.io), never the id.
A real nginx with our rendered configuration in front of two stand-in Rasa servers."""
from __future__ import annotations

import http.server
import threading
import time

import httpx
import pytest

from bot.channels import conversation_token
from bot.deploy.nginx import Listener, ProxyConfig, Upstream, nginx_binary, proxy_service
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(not nginx_binary(), reason="nginx is not installed")


def stand_in(name: str) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def proxy(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVERSATION_TOKEN_SECRET", "routing-key-test-secret-0123456789")
    servers = [stand_in("a"), stand_in("b")]
    port = free_port()
    config = ProxyConfig([Upstream("rasa", [f"127.0.0.1:{p}" for _, p in servers])],
                         [Listener(port, "rasa")], tmp_path / "nginx")
    service = proxy_service(config)
    service.start({}, None)
    try:
        deadline = time.monotonic() + 20
        while not service.healthy():
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", tmp_path / "nginx" / "access.log"
    finally:
        service.stop()
        for server, _ in servers:
            server.shutdown()


def test_a_conversation_stays_on_one_server_by_its_key_and_its_id_is_never_in_the_log(proxy):
    base, access_log = proxy
    ids = [conversation_token.new_conversation_id() for _ in range(24)]
    served = {}
    with httpx.Client(timeout=10) as client:
        for conversation in ids:
            key = conversation_token.routing_key(conversation)
            answers = {client.post(f"{base}/webhooks/rest/webhook", headers={"X-Conversation-Key": key},
                                   json={"message": "hi"}).text for _ in range(4)}
            answers.add(client.get(f"{base}/socket.io/", params={"conversation_key": key, "EIO": "4",
                                                                 "transport": "polling"}).text)
            assert len(answers) == 1, f"one conversation answered by {answers}"
            served[conversation] = answers.pop()
    assert set(served.values()) == {"a", "b"}  # the key spreads conversations over the servers
    logged = access_log.read_text()
    assert "webhooks/rest/webhook" in logged
    assert not any(conversation in logged for conversation in ids)
