"""The widget with server-issued conversation ids (issue 14): it gets its id and token from the web app,
sends the token (REST: Authorization; socket.io: session_request), puts only the hashed routing key in
URLs, and keeps the same conversation across a reload. Chromium against the running assistant."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bot.channels import conversation_token
from tests.browser.test_widget import BOT, REPLY_TIMEOUT, USER, host_page, open_demo, say
from tests.conftest import CONVERSATION_TOKEN_SECRET

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def same_secret(monkeypatch):
    monkeypatch.setenv("CONVERSATION_TOKEN_SECRET", CONVERSATION_TOKEN_SECRET)  # the stack's, to read tokens


def stored_session(page) -> dict:
    return page.evaluate("""() => { for (const k of Object.keys(localStorage)) {
        if (k.endsWith(':session')) return JSON.parse(localStorage.getItem(k)); } return null; }""")


def test_the_widget_chats_in_the_conversation_its_token_names_and_no_url_holds_the_id(assistant, page):
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    open_demo(page, assistant)
    assert page.evaluate("IPTWidget.transport()") == "socket.io"
    sender = page.evaluate("IPTWidget.senderId()")
    session = stored_session(page)
    assert session["id"] == sender and conversation_token.subject(session["token"]) == sender
    assert session["key"] == conversation_token.routing_key(sender)

    say(page, "hello")
    expect(page.locator(BOT).first).to_contain_text("automated")
    page.reload()
    expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=REPLY_TIMEOUT)
    assert page.evaluate("IPTWidget.senderId()") == sender and stored_session(page)["token"] == session["token"]
    say(page, "what is IPT?")
    person = [line["text"] for line in assistant.store.transcript(sender) if line["from"] == "person"]
    assert person == ["hello", "what is IPT?"]
    socket_urls = [u for u in urls if "/socket.io/" in u]
    assert socket_urls and all(f"conversation_key={session['key']}" in u for u in socket_urls)
    assert not any(sender in u for u in urls)


def test_over_rest_the_widget_sends_its_token_and_routing_key_in_headers(assistant, page):
    """The REST path against the real Rasa server, reached through http://rasa.test (a page Playwright serves
    is "public" to Chromium, which then refuses requests to 127.0.0.1 itself)."""
    posts = []

    def forward(route):
        if route.request.method == "POST":
            posts.append(route.request)
        route.fulfill(response=route.fetch(url=route.request.url.replace("http://rasa.test", assistant.rasa)))

    page.route("http://rasa.test/**", forward)
    host_page(page, assistant, "http://rasa.test", 'data-transport="rest"')
    expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=REPLY_TIMEOUT)
    say(page, "hello")
    sender = page.evaluate("IPTWidget.senderId()")
    assert posts and all(r.url == "http://rasa.test/webhooks/rest/webhook" for r in posts)
    headers = posts[0].headers
    token = re.fullmatch(r"Bearer (\S+)", headers["authorization"]).group(1)
    assert conversation_token.subject(token) == sender
    assert headers["x-conversation-key"] == conversation_token.routing_key(sender)
    assert [line["text"] for line in assistant.store.transcript(sender) if line["from"] == "person"] == ["hello"]
    expect(page.locator(USER)).to_have_count(1)
