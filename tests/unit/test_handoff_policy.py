"""The hand-off state machine and the policy that pauses the assistant during a hand-off."""
import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff_state import handoff_state
from bot.policies.handoff import HandoffPolicy

CRISIS_TURN = [
    UserUttered("i want to die", {"name": "crisis", "confidence": 1.0}),
    ActionExecuted("utter_crisis"), ActionExecuted("utter_crisis_resources"),
    ActionExecuted("action_crisis_handoff"), ActionExecuted("action_listen"),
]


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("p", [ActionExecuted("action_listen"), *events])


def test_no_handoff_without_a_crisis():
    assert handoff_state(tracker(UserUttered("hi", {"name": "greet"})).events) is None


@pytest.mark.parametrize("extra, state", [
    ([], "requested"),
    ([SlotSet("handoff_status", "taken")], "taken"),
    ([SlotSet("handoff_status", "closed")], "closed"),
    ([SlotSet("handoff_status", "closed"), *CRISIS_TURN], "requested"),
])
def test_state_follows_the_crisis_and_the_staff(extra, state):
    assert handoff_state(tracker(*CRISIS_TURN, *extra).events) == state


def test_state_reads_dict_events_too():
    events = [{"event": "action", "name": "utter_crisis_resources"},
              {"event": "slot", "name": "handoff_status", "value": "taken"}]
    assert handoff_state(events) == "taken"


def test_while_waiting_every_message_gets_the_holding_answer_once():
    waiting = tracker(*CRISIS_TURN, UserUttered("hello?", {"name": "greet"}))
    assert HandoffPolicy.next_action(waiting) == "utter_crisis_resources"
    waiting.update(ActionExecuted("utter_crisis_resources"))
    assert HandoffPolicy.next_action(waiting) == "action_listen"


def test_once_staff_took_over_the_assistant_stays_silent():
    taken = tracker(*CRISIS_TURN, SlotSet("handoff_status", "taken"), UserUttered("thanks", {"name": "thank"}))
    assert HandoffPolicy.next_action(taken) == "action_listen"


def test_a_new_crisis_message_is_left_to_the_crisis_rule():
    again = tracker(*CRISIS_TURN, UserUttered("i have the pills", {"name": "crisis"}))
    assert HandoffPolicy.next_action(again) is None


def test_after_closing_the_assistant_is_back():
    closed = tracker(*CRISIS_TURN, SlotSet("handoff_status", "closed"), UserUttered("hi", {"name": "greet"}))
    assert HandoffPolicy.next_action(closed) is None
