"""The chat widget on the demo page, in a real browser against the running assistant."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.conftest import free_port

pytestmark = pytest.mark.browser

BOT = ".ipt-w__msg--bot"
USER = ".ipt-w__msg--user"
REPLY_TIMEOUT = 30_000
WIDGET_JS = "/static/widget/ipt-widget.js"


def open_demo(page, assistant):
    page.goto(assistant.web + "/")
    expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=REPLY_TIMEOUT)
    return page.locator("#ipt-widget")


def say(page, text):
    """Type a message like a person and wait for the assistant to answer it."""
    before = page.locator(BOT).count()
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(BOT)).not_to_have_count(before, timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(800)  # the rest of the turn's messages


def host_page(page, assistant, server, extra=""):
    """A page that embeds the widget with one tag (a stand-in for a clinic's site)."""
    html = (f'<!doctype html><html lang="en"><head><title>Clinic</title></head><body><h1>Clinic</h1>'
            f'<script src="{assistant.web}{WIDGET_JS}" data-server="{server}" data-open="true" {extra} defer>'
            '</script></body></html>')
    url = assistant.web + "/clinic-site-stand-in"
    page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(url)


def test_a_short_conversation_with_buttons_survives_a_reload(assistant, page, screenshot):
    open_demo(page, assistant)
    assert page.evaluate("IPTWidget.transport()") == "socket.io"
    sender = page.evaluate("IPTWidget.senderId()")
    assert re.fullmatch(r"[0-9a-f]{32}", sender)

    say(page, "hello")
    expect(page.locator(BOT).first).to_contain_text("automated")
    quick = page.locator(".ipt-w__quick button:not([disabled])")
    expect(quick.first).to_be_visible()
    title = quick.first.inner_text()
    bots = page.locator(BOT).count()
    quick.first.click()
    expect(page.locator(USER).last).to_have_text(re.compile(re.escape(title)))
    expect(page.locator(BOT)).not_to_have_count(bots, timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(800)
    expect(page.locator(".ipt-w__time").first).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    screenshot("widget-conversation")

    messages = page.locator(".ipt-w__bubble").all_inner_texts()
    page.reload()
    expect(page.locator(".ipt-w__bubble")).to_have_count(len(messages))
    assert page.locator(".ipt-w__bubble").all_inner_texts() == messages
    assert page.evaluate("IPTWidget.senderId()") == sender
    # the same conversation goes on after the reload (Rasa still has its tracker)
    expect(page.locator(".ipt-w__status")).to_have_text("Connected", timeout=REPLY_TIMEOUT)
    say(page, "what is IPT?")
    expect(page.locator(BOT).last).to_be_visible()


def test_crisis_message_shows_a_card_that_stays(assistant, page, screenshot):
    open_demo(page, assistant)
    say(page, "i want to kill myself")
    card = page.locator(".ipt-w__crisis")
    expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(card.locator("a[href='tel:988']")).to_be_visible()
    expect(card.locator("a[href^='sms:988']")).to_be_visible()
    expect(card.locator("a[href='tel:911']")).to_be_visible()
    screenshot("widget-crisis-card")
    say(page, "ok")
    expect(card).to_be_visible()
    page.reload()
    expect(page.locator(".ipt-w__crisis a[href='tel:988']")).to_be_visible()


def test_keyboard_only(assistant, page):
    open_demo(page, assistant)
    page.keyboard.press("Tab")
    for _ in range(15):
        if page.evaluate("document.activeElement && document.activeElement.id") == "ipt-widget-input":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ipt-widget-input"
    page.keyboard.type("hi there")
    page.keyboard.press("Enter")
    expect(page.locator(USER).last).to_contain_text("hi there")
    expect(page.locator(".ipt-w__quick button:not([disabled])").first).to_be_visible(timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(800)
    # Shift+Tab from the message box reaches the latest quick replies; Enter chooses one
    users = page.locator(USER).count()
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.closest('.ipt-w__quick') !== null")
    assert focused, "the last quick reply is one Shift+Tab away from the message box"
    page.keyboard.press("Enter")
    expect(page.locator(USER)).to_have_count(users + 1)
    assert page.evaluate("document.activeElement.id") == "ipt-widget-input"
    # Escape closes the chat and gives focus to the launcher; Enter opens it again
    page.keyboard.press("Escape")
    expect(page.locator(".ipt-w__panel")).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('ipt-w__launcher')")
    page.keyboard.press("Enter")
    expect(page.locator(".ipt-w__panel")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "ipt-widget-input"
    # named controls and a live region for new messages
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Clear conversation")).to_be_visible()
    expect(page.get_by_role("button", name="Close chat")).to_be_visible()


def test_html_in_messages_is_shown_as_text(assistant, page):
    open_demo(page, assistant)
    attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold</b>'
    say(page, attack)
    expect(page.locator(USER).last.locator(".ipt-w__bubble")).to_have_text(attack)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#ipt-widget img").count() == 0
    assert page.locator("#ipt-widget b").count() == 0
    page.reload()
    expect(page.locator(USER).last.locator(".ipt-w__bubble")).to_have_text(attack)
    assert page.evaluate("window.__xss") is None


def fake_rasa(page, replies):
    """A stand-in Rasa REST webhook at http://rasa.test that answers with `replies`."""
    sent = []

    def handle(route):
        if route.request.method == "POST":
            sent.append(json.loads(route.request.post_data))
            route.fulfill(json=replies, headers={"Access-Control-Allow-Origin": "*"})
        else:
            route.fulfill(json={"ok": True}, headers={"Access-Control-Allow-Origin": "*"})

    page.route("http://rasa.test/**", handle)
    return sent


def test_bot_messages_with_html_and_bad_links_are_harmless_and_images_render(assistant, page, screenshot):
    image = "data:image/svg+xml," + "<svg xmlns='http://www.w3.org/2000/svg' width='80' height='80'/>"
    page.route("http://img.test/circle.svg", lambda route: route.fulfill(
        body='<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120"><circle cx="60" cy="60" r="50" '
             'fill="none" stroke="#1d4ed8" stroke-width="4"/><circle cx="60" cy="60" r="8" fill="#1d4ed8"/></svg>',
        content_type="image/svg+xml"))
    sent = fake_rasa(page, [
        {"text": '<img src=x onerror="window.__xss=3"> see https://example.org/ipt.', "buttons": [
            {"title": "<b>One</b>", "payload": "/one"}]},
        {"image": "http://img.test/circle.svg"},
        {"image": "javascript:window.__xss=4"},
        {"image": image},
        {"custom": {"type": "crisis", "resources": [
            {"name": "<i>Line</i>", "tel": "javascript:window.__xss=5", "sms_link": "sms:988", "sms": "988"}]}},
    ])
    host_page(page, assistant, "http://rasa.test", 'data-transport="rest"')
    page.get_by_label("Your message").fill("hi")
    page.keyboard.press("Enter")
    expect(page.locator(".ipt-w__bubble--image img")).to_have_count(1, timeout=REPLY_TIMEOUT)
    assert sent[0]["message"] == "hi" and re.fullmatch(r"[0-9a-f]{32}", sent[0]["sender"])
    expect(page.locator(BOT).first.locator(".ipt-w__bubble")).to_contain_text('<img src=x onerror=')
    expect(page.locator(BOT).first.locator("a")).to_have_attribute("href", "https://example.org/ipt")
    expect(page.get_by_role("button", name="<b>One</b>")).to_be_visible()
    card = page.locator(".ipt-w__crisis")
    expect(card).to_contain_text("<i>Line</i>")
    assert card.locator("a[href^='javascript']").count() == 0
    expect(card.locator("a[href='sms:988']")).to_be_visible()
    assert page.evaluate("window.__xss") is None
    page.get_by_role("button", name="<b>One</b>").click()
    expect(page.locator(USER)).to_have_count(2)
    assert sent[-1]["message"] == "/one"
    screenshot("widget-rich-replies")


def test_data_locale_goes_with_every_message_and_web_lines_are_links(assistant, page):
    sent = fake_rasa(page, [{"text": "lines"}, {"custom": {"type": "crisis", "locale": "INTL", "resources": [
        {"name": "Find A Helpline", "url": "https://findahelpline.com", "hours": "lists each line's hours"},
        {"name": "Bad", "url": "javascript:window.__xss=6"},
        {"name": "Emergency services", "phone": "your local emergency number", "emergency": True}]}}])
    host_page(page, assistant, "http://rasa.test", 'data-transport="rest" data-locale="en-GB"')
    page.get_by_label("Your message").fill("hi")
    page.keyboard.press("Enter")
    card = page.locator(".ipt-w__crisis")
    expect(card.locator("a[href='https://findahelpline.com/']")).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("Call your local emergency number")
    assert card.locator("a[href^='javascript']").count() == 0 and page.evaluate("window.__xss") is None
    assert sent[0]["metadata"] == {"locale": "en-GB"}


def test_without_data_locale_no_metadata_is_sent(assistant, page):
    sent = fake_rasa(page, [{"text": "ok"}])
    host_page(page, assistant, "http://rasa.test", 'data-transport="rest" data-locale="<b>"')
    page.get_by_label("Your message").fill("hi")
    page.keyboard.press("Enter")
    expect(page.locator(BOT)).to_have_count(1, timeout=REPLY_TIMEOUT)
    assert "metadata" not in sent[0]


def test_server_down_is_said_and_messages_go_out_when_it_is_back(assistant, page):
    blocked = ["**/socket.io/**", "**/webhooks/rest/**"]
    for pattern in blocked:
        page.route(pattern, lambda route: route.abort())
    page.goto(assistant.web + "/")
    status = page.locator(".ipt-w__status")
    expect(status).to_contain_text("Can't reach the assistant", timeout=REPLY_TIMEOUT)
    page.get_by_label("Your message").fill("hello")
    page.keyboard.press("Enter")
    expect(page.locator(".ipt-w__pending")).to_have_text("Not sent yet: will retry")
    for pattern in blocked:
        page.unroute(pattern)
    expect(status).to_have_text("Connected", timeout=45_000)
    expect(page.locator(".ipt-w__pending")).to_have_count(0, timeout=REPLY_TIMEOUT)
    expect(page.locator(BOT).first).to_contain_text("automated", timeout=REPLY_TIMEOUT)


def test_a_server_that_never_answers(assistant, page):
    host_page(page, assistant, f"http://127.0.0.1:{free_port()}")
    expect(page.locator(".ipt-w__status")).to_contain_text("Can't reach the assistant", timeout=REPLY_TIMEOUT)


def test_long_messages_are_limited_with_a_counter(assistant, page):
    open_demo(page, assistant)
    box = page.get_by_label("Your message")
    expect(page.locator(".ipt-w__counter")).to_have_text("0 / 1000")
    box.fill("a" * 10)
    expect(page.locator(".ipt-w__counter")).to_have_text("10 / 1000")
    box.fill("")
    box.press_sequentially("word ")  # typing updates it too
    expect(page.locator(".ipt-w__counter")).to_have_text("5 / 1000")
    box.fill("")
    page.keyboard.insert_text("x" * 1500)
    assert len(box.input_value()) == 1000
    expect(page.locator(".ipt-w__counter")).to_have_text("1000 / 1000")
    page.keyboard.press("Enter")
    expect(page.locator(USER).last.locator(".ipt-w__bubble")).to_have_text("x" * 1000)
    expect(page.locator(".ipt-w__counter")).to_have_text("0 / 1000")


def test_double_clicks_send_once(assistant, page):
    open_demo(page, assistant)
    say(page, "hello")
    quick = page.locator(".ipt-w__quick button:not([disabled])").first
    quick.dblclick()
    expect(page.locator(USER)).to_have_count(2)
    page.wait_for_timeout(1500)
    expect(page.locator(USER)).to_have_count(2)
    page.get_by_label("Your message").fill("what is IPT")
    page.get_by_role("button", name="Send").dblclick()
    page.wait_for_timeout(1500)
    expect(page.locator(USER)).to_have_count(3)


def test_clear_conversation_starts_a_new_one(assistant, page):
    open_demo(page, assistant)
    say(page, "hello")
    old = page.evaluate("IPTWidget.senderId()")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Clear conversation").click()
    expect(page.locator(".ipt-w__msg")).to_have_count(0)
    new = page.evaluate("IPTWidget.senderId()")
    assert new != old and re.fullmatch(r"[0-9a-f]{32}", new)
    page.reload()
    expect(page.locator(".ipt-w__msg")).to_have_count(0)
    assert page.evaluate("IPTWidget.senderId()") == new


def test_delete_my_data_also_clears_this_device(assistant, page):
    """The deletion reply carries {"type": "data_deleted"}: the widget forgets its transcript and id too."""
    open_demo(page, assistant)
    say(page, "hello")
    old = page.evaluate("IPTWidget.senderId()")
    say(page, "delete my data")
    say(page, "yes")
    expect(page.locator(BOT).last).to_contain_text("deleted your saved answers")
    new = page.evaluate("IPTWidget.senderId()")
    assert new != old and re.fullmatch(r"[0-9a-f]{32}", new)
    assert page.locator(USER).count() == 0  # nothing of the old conversation on the screen
    stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert old not in stored and "delete my data" not in stored
    page.reload()
    assert page.evaluate("IPTWidget.senderId()") == new


CONTRAST_JS = """
() => {
  const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = (c) => { const m = c.match(/[\\d.]+/g); return m && (m.length < 4 || Number(m[3]) === 1); };
  const background = (el) => { for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor; if (opaque(bg)) return bg; } return 'rgb(255,255,255)'; };
  const bad = [];
  for (const el of document.querySelectorAll('#ipt-widget *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('.ipt-w__sr') || el.offsetParent === null) continue;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(`${el.className || el.tagName}: ${ratio.toFixed(2)} "${el.textContent.slice(0, 30)}"`);
  }
  return bad;
}
"""


def test_text_contrast_meets_wcag_aa(assistant, page):
    open_demo(page, assistant)
    say(page, "i want to kill myself")
    say(page, "hello")
    assert page.evaluate(CONTRAST_JS) == []


def test_mobile_screenshot(assistant, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_demo(page, assistant)
        say(page, "hello")
        panel = page.locator(".ipt-w__panel").bounding_box()
        assert panel["width"] <= 390 and panel["x"] >= 0
        # nothing in the widget is wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "widget-mobile.png"))
        say(page, "i can't go on, i want to end my life")
        card = page.locator(".ipt-w__crisis")
        expect(card.locator("a[href='tel:988']")).to_be_in_viewport()
        page.screenshot(path=str(SCREENSHOTS / "widget-mobile-crisis.png"))
    finally:
        context.close()
