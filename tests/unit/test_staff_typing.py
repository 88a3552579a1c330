"""Staff typing indicator: what the widget is told, who may tell it (the dashboard's owner of a taken
hand-off, at most once every 3 s), and the Rasa side's check of the web app's JWT. The path through a
running Rasa server to the widget is tests/browser/test_staff_typing.py."""
from __future__ import annotations

import time
from types import SimpleNamespace

import jwt

from bot.channels.socketio import is_admin_request
from bot.crisis.rasa_client import rasa_auth_headers
from bot.handoff import presence
from bot.store.repository import AppStore
from bot.web.app import app
from bot.web.dashboard import routes
from tests.unit.test_dashboard_web import FakeRasa, csrf_of, dash, signed_in  # noqa: F401 (dash: a fixture)


class TypingRasa(FakeRasa):
    def send_staff_typing(self, sender_id, staff):
        self.calls.append(("typing", sender_id, staff))


def test_typing_payload_names_only_a_display_name():
    assert presence.typing_payload("Sam") == {"type": "staff_typing", "staff_name": "Sam",
                                              "text": "Sam from the clinic is typing…"}
    for label in ("sam@clinic.test", "Clinic team", None, "  "):
        payload = presence.typing_payload(label)
        assert payload["staff_name"] is None and payload["text"] == "Someone from the clinic is typing…"


def typing_client(dash):  # noqa: F811
    fake = TypingRasa()
    app.dependency_overrides[routes.rasa_client] = lambda: fake
    routes._typing_sent.clear()
    return fake


def typing_calls(fake):
    return [c for c in fake.calls if c[0] == "typing"]


def test_only_the_owner_of_a_taken_handoff_sends_typing_at_most_every_3_seconds(dash, monkeypatch):  # noqa: F811
    fake = typing_client(dash)
    client = signed_in("clinician")
    csrf = csrf_of(client)
    hid = dash.handoff_id
    typing = f"/staff/handoffs/{hid}/typing"
    json_headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}

    assert client.post(typing, headers=json_headers).status_code == 409  # still waiting: nobody has joined
    assert client.post(f"/staff/handoffs/{hid}/take", data={"csrf_token": csrf}).status_code == 200
    assert client.post(typing, headers={"Accept": "application/json"}).status_code == 403  # no CSRF token

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    assert client.post(typing, headers=json_headers).json() == {"sent": True}
    clock[0] += 2.9
    assert client.post(typing, headers=json_headers).json()["sent"] is False
    clock[0] += 0.2
    assert client.post(typing, headers=json_headers).json() == {"sent": True}
    assert typing_calls(fake) == [("typing", "crisis-1", "Clinician Person")] * 2

    # a reply lets the next typing through at once (the widget hid the line when the reply arrived)
    client.post(f"/staff/handoffs/{hid}/reply", data={"text": "Hi", "csrf_token": csrf})
    assert client.post(typing, headers=json_headers).json() == {"sent": True}

    # a colleague's typing in Clinician Person's hand-off is not sent; a reviewer may not
    colleague = signed_in("admin")
    assert colleague.post(typing, headers={**json_headers, "X-CSRF-Token": csrf_of(colleague)}).status_code == 409
    reviewer = signed_in("reviewer")
    assert reviewer.post(typing, headers={**json_headers, "X-CSRF-Token": csrf_of(reviewer)}).status_code == 403
    assert len(typing_calls(fake)) == 3
    assert AppStore().get_handoff(hid).status == "taken"


def test_the_owner_s_reply_box_says_where_to_send_typing(dash):  # noqa: F811
    typing_client(dash)
    client = signed_in("clinician")
    csrf = csrf_of(client)
    page = client.get("/staff/conversations/crisis-1").text
    assert "data-typing" not in page  # not taken yet
    client.post(f"/staff/handoffs/{dash.handoff_id}/take", data={"csrf_token": csrf})
    assert f'data-typing="/staff/handoffs/{dash.handoff_id}/typing"' in client.get("/staff/conversations/crisis-1").text
    assert "data-typing" not in signed_in("admin").get("/staff/conversations/crisis-1").text


SECRET = "rasa-secret-for-tests-32-bytes-long-enough"


def test_rasa_accepts_typing_only_with_the_web_app_s_admin_jwt(monkeypatch):
    monkeypatch.setenv("RASA_API_TOKEN", SECRET)

    def request(headers):
        return SimpleNamespace(headers={k.lower(): v for k, v in headers.items()})

    assert is_admin_request(request(rasa_auth_headers(SECRET)))
    assert not is_admin_request(request(rasa_auth_headers("another-secret-32-bytes-long-for-hs256-keys")))
    assert not is_admin_request(request(rasa_auth_headers(SECRET, lifetime=-10)))  # expired
    guest = jwt.encode({"user": {"username": "x", "role": "guest"}}, SECRET, algorithm="HS256")
    assert not is_admin_request(request({"Authorization": f"Bearer {guest}"}))
    assert not is_admin_request(request({"Authorization": "Bearer not-a-jwt"}))
    assert not is_admin_request(request({}))
