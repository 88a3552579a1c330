"""What every channel checks before a message reaches NLU: its size, and (REST, socket.io) its sender id.

**Size.** A message longer than MAX_MESSAGE_CHARS (default 2,000 characters) is not parsed: NLU on
100 KB of text stalls every conversation of the server for tens of seconds and grows its memory by
gigabytes. Crisis words inside it still count: the crisis rules read its first 6,000 characters first
(in a thread, about 0.2 s), and a
sentence with clear risk goes on, alone, through NLU and the crisis policy. Otherwise the person
gets a kind reply (`TOO_LONG`) and the message is kept in the transcript as
sent (up to `STORED_CHARS`; beyond that, cut with a note), as a user event with the intent
`message_too_long`, written under the conversation's lock without running NLU or a policy. The
dialogue goes on where it was: no action follows that event, so the next message is predicted as
if the long one had not come (Rasa builds dialogue states at actions).

**Sender ids** (REST and socket.io, where the client chooses the id): required, at most 128
characters of `A-Z a-z 0-9 _ . ~ -`, and not shaped like another channel's ids: never a messaging
app's prefix (`twilio:`, `telegram:`, `slack:`, `facebook:`: bot/channels/common.py, and no `:` at all), nor a
phone number or a Telegram chat id (all digits: ids stored before the prefixes), so nobody reaches an
SMS, WhatsApp, Telegram, Slack or Messenger conversation through the web channels, even with
REQUIRE_CONVERSATION_TOKEN=false (a 400 that says so). `check_sender_id` says what is wrong, or None.

**Malformed bodies** (REST and socket.io): a message that is missing, not a string, or holds a NUL
character (PostgreSQL cannot store it, so the turn would fail and the widget resend it forever), and
socket.io metadata that is not a JSON object, are refused before anything runs: REST answers
`400 {"error": <reason>}`, socket.io an `ipt_error` event `{"error": <reason>, "status": 400}`.
`check_message_text` and `check_message_payload` say what is wrong, or None.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage

from bot.channels.common import messaging_channel_of
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STORED_CHARS = 20_000
CRISIS_SCAN_CHARS = 6_000  # how much of a too-long message the crisis rules read (about 0.2 s)
TOO_LONG = "That message is too long for me; could you send it in shorter parts?"
TOO_LONG_INTENT = "message_too_long"
NO_REPLY = ("Sorry, I lost track of what we were doing there. You can say \"continue\" to go on with the guided "
            "steps, or \"menu\" to see what I can do.")
MAX_SENDER_CHARS = 128
OTHER_CHANNEL = ("this conversation id belongs to a messaging app (SMS, WhatsApp, Telegram, Slack or Messenger), "
                 "so the web chat cannot open it; please start a web conversation instead (the web app issues one: "
                 "POST /chat/session)")

_SENDER = re.compile(r"^[A-Za-z0-9_.~-]+$")
_PHONE_OR_CHAT_ID = re.compile(r"^[+]?[\d\s().-]+$")


def max_message_chars() -> int:
    """MAX_MESSAGE_CHARS (default 2,000); a value that is not a positive number is an error (bot/settings.py)."""
    return get_settings().max_message_chars


def too_long(text: Any) -> bool:
    return isinstance(text, str) and len(text) > max_message_chars()


def check_sender_id(sender: Any) -> Optional[Text]:
    """None when `sender` is an acceptable REST/socket.io conversation id, else the reason."""
    if sender is None or (isinstance(sender, str) and not sender.strip()):
        return "a sender id is required"
    if not isinstance(sender, str):
        return "the sender id must be a string"
    if len(sender) > MAX_SENDER_CHARS:
        return f"the sender id must be at most {MAX_SENDER_CHARS} characters"
    if messaging_channel_of(sender) or sender.lower().startswith(("whatsapp:", "sms:", "tel:", "messenger:")):
        return OTHER_CHANNEL
    if _PHONE_OR_CHAT_ID.match(sender):
        return "the sender id looks like a phone number or a chat id of another channel"
    if not _SENDER.match(sender):
        return "the sender id may only contain letters, digits, '_', '.', '~' and '-'"
    return None


def check_message_text(text: Any) -> Optional[Text]:
    """None when `text` can be a message (REST `message`, socket.io `message`), else the reason."""
    if text is None:
        return "a message is required"
    if not isinstance(text, str):
        return "the message must be a string"
    if "\x00" in text:
        return "the message must not contain NUL characters"
    return None


def check_message_payload(data: Any, metadata_key: Text = "metadata") -> Optional[Text]:
    """None when a socket.io message event's `data` can be handled, else the reason: it must be a JSON
    object with a string `message`; its metadata (`metadata_key`), if any, a JSON object or a string
    holding one (Rasa's channel parses a string with `json.loads` and would raise)."""
    if not isinstance(data, dict):
        return "expected a JSON object"
    problem = check_message_text(data.get("message"))
    if problem:
        return problem
    metadata = data.get(metadata_key)
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return f"{metadata_key} must be a JSON object"
    if metadata is not None and not isinstance(metadata, dict):
        return f"{metadata_key} must be a JSON object"
    return None


def crisis_sentence(text: str) -> Optional[str]:
    """The sentence of a too-long message where the crisis rules find clear risk (the first
    `CRISIS_SCAN_CHARS` characters are read, about 0.2 s), or None."""
    from bot.crisis.detector import get_detector  # the one the NLU step uses: built once per process

    signal = get_detector().detect((text or "")[:CRISIS_SCAN_CHARS])
    return signal.sentence if signal is not None else None


def _rasa_agent() -> Any:
    from sanic import Sanic

    return Sanic.get_app("rasa_server").ctx.agent


async def answer_too_long(message: UserMessage, agent: Any = None) -> None:
    """Keep the message in the transcript and send `TOO_LONG`, without NLU or a policy."""
    from rasa.shared.core.events import BotUttered, UserUttered

    agent = agent if agent is not None else _rasa_agent()
    text = message.text or ""
    stored = text if len(text) <= STORED_CHARS else text[:STORED_CHARS] + f" [cut: {len(text)} characters sent]"
    intent = {"name": TOO_LONG_INTENT, "confidence": 1.0}
    logger.info("A message of %d characters (more than %d) was not parsed.", len(text), max_message_chars())
    async with agent.lock_store.lock(message.sender_id):
        processor = agent.processor
        tracker = await processor.fetch_tracker_with_initial_session(
            message.sender_id, message.output_channel, message.metadata)
        tracker.update(UserUttered(
            stored, intent, [], {"text": stored, "intent": intent, "entities": []},
            input_channel=message.input_channel, message_id=message.message_id, metadata=message.metadata))
        await message.output_channel.send_response(message.sender_id, {"text": TOO_LONG})
        tracker.update(BotUttered(TOO_LONG, metadata={"reason": TOO_LONG_INTENT}))
        await processor.save_tracker(tracker)


async def answered(message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                   agent: Any = None) -> Any:
    """Handle the message; if nothing at all was sent back, send `NO_REPLY` (every turn gets a reply),
    except while clinic staff have taken the hand-off (the assistant is silent by design then) and for
    commands such as /session_start."""
    output, sent = message.output_channel, 0
    send = output.send_response

    async def counted(recipient_id: Text, reply: Dict[Text, Any]) -> None:
        nonlocal sent
        sent += 1
        await send(recipient_id, reply)

    output.send_response = counted
    try:
        result = await on_new_message(message)
    finally:
        output.send_response = send
    if sent == 0 and not (message.text or "").startswith("/session_start") and not await _staff_have_it(
            message.sender_id, agent):
        logger.warning("A turn got no reply; the channel sent the fallback line.")
        await send(message.sender_id, {"text": NO_REPLY})
    return result


async def _staff_have_it(sender_id: Text, agent: Any = None) -> bool:
    from bot.handoff.state import HANDOFF_SLOT, TAKEN

    try:
        agent = agent if agent is not None else _rasa_agent()
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - when in doubt, a kind line is better than silence
        return False
    return tracker is not None and tracker.get_slot(HANDOFF_SLOT) == TAKEN


def size_guard(on_new_message: Callable[[UserMessage], Awaitable[Any]],
               agent: Any = None) -> Callable[[UserMessage], Awaitable[Any]]:
    """`on_new_message` that answers a too-long message itself (see the module's docstring)."""

    crisis_sentence("")  # build the crisis rules now, not on the first long message

    async def guarded(message: UserMessage) -> Any:
        if too_long(message.text):
            sentence = await asyncio.to_thread(crisis_sentence, message.text)  # other chats go on meanwhile
            if sentence:  # safety first: the crisis sentence goes through the whole pipeline and policy
                message.text = sentence[: max_message_chars()]
                return await answered(message, on_new_message, agent)
            await answer_too_long(message, agent)
            return None
        return await answered(message, on_new_message, agent)

    return guarded
