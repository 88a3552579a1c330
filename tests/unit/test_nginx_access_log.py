"""nginx's access log holds paths and keyed hashes, never query strings or conversation ids (issue 14): a real
nginx with our rendered configuration in front of a stand-in Rasa server, requests that carry ids and tokens
in every place a client can put them, and the log read with `ACCESS_LINE` as tests/production/test_faults.py
reads it."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from bot.channels import conversation_token
from bot.deploy.nginx import ACCESS_LINE, RENDERED, Listener, ProxyConfig, Upstream, nginx_binary, proxy_service
from tests.unit.test_routing_key import stand_in

pytestmark = pytest.mark.skipif(not nginx_binary(), reason="nginx is not installed")

SENDER, PHONE, TOKEN = "f00dfeedcafe4b1d9d0e1a2b3c4d5e6f", "+15557654321", "eyJhbGciOiJIUzI1NiJ9.secret.sig"


def test_a_sample_line_is_read_by_the_pattern():
    line = ('2026-12-02T11:00:00+00:00 127.0.0.1 "POST /webhooks/rest/webhook HTTP/1.1" 200 512 '
            'key=0123456789abcdef0123456789abcdef upstream=127.0.0.1:5005, 127.0.0.1:5006 rt=0.120 urt=0.119')
    match = ACCESS_LINE.search(line)
    assert match and match["path"] == "/webhooks/rest/webhook" and match["status"] == "200"
    assert match["key"] == "0123456789abcdef0123456789abcdef"
    assert match["upstream"].split(",")[-1].strip() == "127.0.0.1:5006"


def test_the_deploy_configs_log_paths_not_requests():
    for path in RENDERED:
        text = Path(path).read_text()
        assert '"$request_method $log_path $server_protocol"' in text and "key=$log_key" in text, path
        assert '"$request"' not in text and "key=$conversation_key" not in text, path


@pytest.fixture
def proxy(tmp_path, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("CONVERSATION_TOKEN_SECRET", "access-log-test-secret-0123456789")
    server, upstream_port = stand_in("a")
    port = free_port()
    config = ProxyConfig([Upstream("rasa", [f"127.0.0.1:{upstream_port}"])], [Listener(port, "rasa")],
                         tmp_path / "nginx")
    service = proxy_service(config)
    service.start({}, None)
    try:
        deadline = time.monotonic() + 20
        while not service.healthy():
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", tmp_path / "nginx" / "access.log", f"127.0.0.1:{upstream_port}"
    finally:
        service.stop()
        server.shutdown()


def test_the_access_log_holds_no_id_or_token(proxy):
    base, access_log, _upstream = proxy
    key = conversation_token.routing_key(SENDER)
    with httpx.Client(timeout=10) as client:
        client.post(f"{base}/webhooks/rest/webhook", params={"sender": SENDER, "token": TOKEN},
                    headers={"X-Conversation-Key": key}, json={"sender": SENDER, "message": "hi"})
        client.post(f"{base}/webhooks/rest/webhook", params={"sender": PHONE}, json={"message": "hi"})
        client.get(f"{base}/socket.io/", params={"conversation_key": key, "sender": SENDER, "EIO": "4",
                                                 "transport": "polling"})
        client.post(f"{base}/conversations/twilio:{PHONE}/tracker/events", params={"token": TOKEN}, json=[])
        client.post(f"{base}/webhooks/socketio/staff_typing/{SENDER}", json={})
        client.post(f"{base}/webhooks/rest/webhook", headers={"X-Conversation-Key": PHONE}, json={"message": "hi"})
    deadline = time.monotonic() + 5
    while len(access_log.read_text().splitlines()) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)  # nginx writes a line after the client has its answer
    logged = access_log.read_text()
    for secret in (SENDER, PHONE, PHONE.lstrip("+"), TOKEN, "token=", "sender=", "?"):
        assert secret not in logged, secret
    lines = [ACCESS_LINE.search(line) for line in logged.splitlines()]
    assert all(lines), logged
    assert [(m["method"], m["path"], m["key"]) for m in lines] == [
        ("POST", "/webhooks/rest/webhook", key),  # the keyed hash: what tests/production/test_faults.py follows
        ("POST", "/webhooks/rest/webhook", "-"),  # an older client's ?sender=: routed by it, never logged
        ("GET", "/socket.io/", key),
        ("POST", "/conversations/-/tracker/events", "-"),
        ("POST", "/webhooks/socketio/staff_typing/-", "-"),
        ("POST", "/webhooks/rest/webhook", "-"),  # a header that is no keyed hash is not logged either
    ]


def test_the_fault_tests_follow_a_witness_through_the_log(proxy, monkeypatch):
    from tests.production import test_faults

    base, access_log, upstream = proxy
    monkeypatch.setattr(test_faults, "WITNESS_KEYS", {})
    asyncio.run(test_faults.witness_turn(base, "witness-1", "hello", 0))  # the stand-in answers 200 "a"
    deadline = time.monotonic() + 5
    while not test_faults.upstreams_by_conversation(access_log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert test_faults.upstreams_by_conversation(access_log) == {"witness-1": [upstream]}
    assert "witness-1" not in access_log.read_text()
