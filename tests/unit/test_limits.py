"""bot/channels/limits.py: the message size cap and the REST/socket.io sender id rules; the runner
starts the closed action server (bot/action_server.py)."""
import asyncio
import subprocess

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.action_server import where
from bot.channels.limits import (
    TOO_LONG,
    TOO_LONG_INTENT,
    check_sender_id,
    max_message_chars,
    size_guard,
)
from bot.runner import Stack


@pytest.mark.parametrize("sender", [
    None, "", "   ", 42, "+15551234567", "15551234567", "whatsapp:+15551234567", "WhatsApp:+15551234567",
    "telegram:123456", "twilio:+15551234567", "123456789", "+1 (555) 123-4567", "x" * 129, "a/b", "a b",
])
def test_sender_ids_that_are_missing_too_long_or_another_channels_are_refused(sender):
    assert check_sender_id(sender)


@pytest.mark.parametrize("sender", ["4f9c2d0e8b7a4c1e9d3f5a6b7c8d9e0f", "x" * 128, "test-user_1.a~b", "default-1"])
def test_ordinary_web_ids_are_accepted(sender):
    assert check_sender_id(sender) is None


def test_the_cap_defaults_to_2000_and_is_configurable(monkeypatch):
    monkeypatch.delenv("MAX_MESSAGE_CHARS", raising=False)
    assert max_message_chars() == 2000
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "500")
    assert max_message_chars() == 500
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "lots")
    with pytest.raises(ValueError):
        max_message_chars()


class FakeProcessor:
    def __init__(self):
        self.tracker = DialogueStateTracker("person-1", [])
        self.saved = []

    async def fetch_tracker_with_initial_session(self, sender_id, output_channel=None, metadata=None):
        return self.tracker

    async def save_tracker(self, tracker):
        self.saved.append(tracker)


class FakeAgent:
    def __init__(self):
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor()


async def test_a_too_long_message_is_answered_kindly_kept_and_never_parsed(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "20")
    parsed, agent, output = [], FakeAgent(), CollectingOutputChannel()

    async def nlu_and_dialogue(message):
        parsed.append(message.text)

    guarded = size_guard(nlu_and_dialogue, agent)
    await guarded(UserMessage("x" * 21, output, "person-1", input_channel="rest"))
    assert parsed == []
    assert [m["text"] for m in output.messages] == [TOO_LONG]
    events = list(agent.processor.saved[0].events)
    user = [e for e in events if isinstance(e, UserUttered)]
    assert [(u.text, u.intent_name, u.input_channel) for u in user] == [("x" * 21, TOO_LONG_INTENT, "rest")]
    assert [e.text for e in events if isinstance(e, BotUttered)] == [TOO_LONG]

    await guarded(UserMessage("x" * 20, output, "person-1", input_channel="rest"))
    assert parsed == ["x" * 20]  # at the cap: parsed as usual


def test_the_runner_starts_the_closed_action_server_on_loopback_with_a_secret(monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_SECRET", "from-the-environment")
    monkeypatch.delenv("ACTIONS_BIND_HOST", raising=False)
    stack = Stack(model="models/m.tar.gz")
    env = stack.environment()
    assert env["ACTION_SERVER_SECRET"] == "from-the-environment"
    assert env["ACTIONS_BIND_HOST"] == "127.0.0.1"
    actions = next(s for s in stack.build(env) if s.name == "action server")
    assert actions.command[1:4] == ["-m", "bot.action_server", "--actions"]
    assert not any("from-the-environment" in part for s in stack.build(env) for part in s.command)


def test_an_action_error_is_described_by_place_not_by_message():
    def action():
        raise ValueError("i want to tell you something private")

    try:
        action()
    except ValueError as error:
        described = where(error)
    assert "test_limits.py" in described and "private" not in described


def test_the_proxy_limits_public_bodies_and_rates_but_not_action_calls(tmp_path):
    from bot.deploy.nginx import Listener, ProxyConfig, Upstream, nginx_binary, render_config, write_config

    config = ProxyConfig([Upstream("rasa", ["127.0.0.1:1"]), Upstream("actions", ["127.0.0.1:2"], "round_robin")],
                         [Listener(15005, "rasa"), Listener(15055, "actions", public=False)], tmp_path)
    rendered = render_config(config)
    rasa_block, actions_block = rendered.split("listen 127.0.0.1:15005;")[1], rendered.split(
        "listen 127.0.0.1:15055;")[1]
    assert "client_max_body_size 64k;" in rasa_block.split("}")[0]
    assert "limit_req zone=public" in rasa_block.split("}")[0]
    assert "limit_req" not in actions_block.split("}")[0] and "64k" not in actions_block.split("}")[0]
    assert "limit_req_zone $rate_key zone=public:10m rate=20r/s;" in rendered
    if nginx_binary():  # nginx -t accepts it
        run = config.run_dir.resolve()
        result = subprocess.run([nginx_binary(), "-t", "-p", str(run), "-e", str(run / "error.log"),
                                 "-c", str(write_config(config))], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


# --- every turn gets a reply -------------------------------------------------------------------

def _agent_with(slot_value):
    from types import SimpleNamespace

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml("version: '3.1'\nslots:\n  handoff_status:\n    type: text\n    mappings:\n"
                              "    - type: custom\n")
    store = InMemoryTrackerStore(domain)
    tracker = DialogueStateTracker.from_events("p", [SlotSet("handoff_status", slot_value)], domain.slots)
    asyncio.run(store.save(tracker))
    return SimpleNamespace(tracker_store=store)


@pytest.mark.parametrize("handoff, replied", [(None, True), ("requested", True), ("taken", False)])
def test_a_turn_that_sent_nothing_gets_the_fallback_line_unless_staff_have_it(handoff, replied):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot.channels.limits import NO_REPLY, answered

    async def silent(message):  # Rasa predicted nothing to say
        return None

    output = CollectingOutputChannel()
    asyncio.run(answered(UserMessage("yes", output, "p"), silent, _agent_with(handoff)))
    assert ([m.get("text") for m in output.messages] == [NO_REPLY]) is replied


def test_a_turn_that_replied_gets_nothing_more():
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot.channels.limits import answered

    async def replies(message):
        await message.output_channel.send_response(message.sender_id, {"text": "hello"})

    output = CollectingOutputChannel()
    asyncio.run(answered(UserMessage("hi", output, "p"), replies, _agent_with(None)))
    assert [m.get("text") for m in output.messages] == ["hello"]
