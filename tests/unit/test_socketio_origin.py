"""The socket.io channel accepts connections only from the CORS allow-list (bot/channels/socketio.py): our
channel's blueprint on a small Sanic app on localhost, and python-socketio's own AsyncClient connecting with
an `Origin` header from the allow-list, from another site, and without one."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import socketio
from sanic import Sanic

from bot.channels.socketio import SocketIOChannel, allowed_origins
from tests.conftest import free_port

GOOD, BAD = "https://clinic.example", "https://evil.example"


@pytest.fixture
def origins(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{GOOD}, *")
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://ipt.example/assistant")
    monkeypatch.setenv("WEB_PORT", "8123")


def test_the_allow_list_is_the_cors_list(origins):
    assert allowed_origins() == ["https://ipt.example", GOOD, "http://localhost:8123", "http://127.0.0.1:8123"]


async def ignore(message):
    pass


async def connects(url: str, origin: str | None) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, headers={"Origin": origin} if origin else {}, transports=["polling"],
                             socketio_path="/socket.io", wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True


def test_a_page_from_another_site_cannot_connect(origins):
    channel = SocketIOChannel.from_credentials({"session_persistence": True})
    app = Sanic(f"origin_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(ignore))
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    async def scenario():
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        try:
            results = [await connects(url, origin) for origin in (GOOD, BAD, "https://ipt.example", None)]
            async with httpx.AsyncClient() as http:
                refused = await http.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                                         headers={"Origin": BAD})
                handshake = await http.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                                           headers={"Origin": GOOD})
            return results, refused, handshake
        finally:
            server.close()
            await server.wait_closed()

    (good, bad, own, no_origin), refused, handshake = asyncio.run(scenario())
    assert good and own and no_origin  # the allow-list, and clients that are not browsers
    assert not bad
    assert refused.status_code == 400 and "not an accepted origin" in refused.text
    assert handshake.status_code == 200
    # CORS headers come from Rasa's --cors (sanic-cors) only; engineio adding its own would double them
    assert "access-control-allow-origin" not in handshake.headers
