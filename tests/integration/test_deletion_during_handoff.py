"""'Delete my data' through the running assistant while staff hold a crisis hand-off: the person is
answered, the hand-off closes and stays only as an anonymous record (bot/store/erasure.py)."""
import pytest

from bot.store.erasure import PREFIX
from tests.conftest import texts, wait_for

pytestmark = pytest.mark.integration


MARKER = "Vexmoorland"


def log_offsets(assistant) -> dict:
    return {path: path.stat().st_size for path in assistant.stack.log_dir.glob("*.log")}


def test_delete_my_data_is_answered_and_done_while_staff_hold_the_handoff(assistant):
    sender = assistant.new_sender()
    offsets = log_offsets(assistant)
    assistant.say(sender, f"hi, I'm from {MARKER}")
    assert "988" in texts(assistant.say(sender, f"i want to kill myself, {MARKER} is too much"))
    [handoff] = wait_for(lambda: [h for h in assistant.store.list_handoffs("requested") if h.sender_id == sender])
    taken = assistant.staff("POST", f"/handoffs/{handoff.id}/take", json={"staff": "Dr Lee"})
    assert taken.status_code == 200
    assert texts(assistant.say(sender, "are you there")) == ""  # staff have it: the assistant is silent

    assert "can't be undone" in texts(assistant.say(sender, "delete my data"))
    assert "deleted" in texts(assistant.say(sender, "/affirm"))

    kept = assistant.store.get_handoff(handoff.id)
    assert kept.status == "closed" and kept.sender_id.startswith(PREFIX) and "kill" not in kept.message
    assert assistant.store.count_tracker_events(sender) == 0
    assert [h for h in assistant.store.list_handoffs() if h.sender_id == sender] == []
    # and the person can start again, with no hand-off in the way
    assert "automated" in texts(assistant.say(sender, "hello"))
    for path in log_offsets(assistant):  # what the three servers logged meanwhile
        with open(path, "rb") as log:
            log.seek(offsets.get(path, 0))
            written = log.read().decode("utf-8", "replace")
        assert MARKER not in written and sender not in written, path.name
