"""The crisis policy: starts the crisis reply with its slots, and pauses the assistant during a hand-off.

- A new `crisis` message: predicts `utter_crisis` and sets the slots its responses need,
  `crisis_category` (from the NLU crisis detector) and `crisis_locale` (CRISIS_LOCALE); the rule
  in data/rules/crisis.yml carries on with the resources and the hand-off action.
- While the hand-off waits for staff ("requested"), every message gets the resources again
  (`utter_crisis_resources`, which says a person will join); once staff have taken over ("taken"),
  the assistant stays silent and staff reply through the HTTP API.

- During the guided journey's PHQ-9, an answer above 0 to item 9 (thoughts of being better off
  dead or of self-harm) starts the same crisis reply.
- A crisis ends any form in progress (its answers so far are saved by the journey).

It runs in the Rasa server and needs neither the action server nor the database.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff_state import CRISIS_RESOURCES_RESPONSE, REQUESTED, TAKEN, handoff_state
from bot.crisis.resources import configured_locale
from bot.journey import phq9

CRISIS_INTENT = "crisis"
CRISIS_RESPONSE = "utter_crisis"
HOLDING_RESPONSE = CRISIS_RESOURCES_RESPONSE
UNSPECIFIED = "unspecified"
HANDOFF_ACTION = "action_crisis_handoff"
PHQ9_CATEGORY = "suicide"  # item 9 asks about thoughts of being better off dead or of self-harm
JOURNEY_FORM, JOURNEY_STEP_SLOT = "journey_form", "journey_step"


def phq9_item9_positive(tracker: DialogueStateTracker) -> bool:
    """The person just answered PHQ-9 item 9 in the journey form with more than "not at all"."""
    if tracker.active_loop_name != JOURNEY_FORM or tracker.get_slot(JOURNEY_STEP_SLOT) != phq9.SELF_HARM_ITEM:
        return False
    answer = phq9.answer_or_none((tracker.latest_message.text if tracker.latest_message else None) or "")
    return bool(answer)


def _actions_since_user(tracker: DialogueStateTracker) -> List[str]:
    names: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    return list(reversed(names))


def _crisis_turn_next(tracker: DialogueStateTracker) -> Optional[str]:
    """Within the turn that started the crisis reply: resources, then the hand-off, then listen.

    The rule in data/rules/crisis.yml says the same for a `crisis` message; this also covers the
    turns started by something else (PHQ-9 item 9), which no rule can match.
    """
    done = _actions_since_user(tracker)
    if CRISIS_RESPONSE not in done:
        return None
    following = {CRISIS_RESPONSE: HOLDING_RESPONSE, HOLDING_RESPONSE: HANDOFF_ACTION,
                 HANDOFF_ACTION: ACTION_LISTEN_NAME}
    return following.get(done[-1])


def crisis_events(tracker: DialogueStateTracker, category: str) -> List[Event]:
    events: List[Event] = [SlotSet("crisis_category", category), SlotSet("crisis_locale", configured_locale())]
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return events


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class CrisisPolicy(Policy):
    """Outranks the other policies (priority 7) for the crisis reply and during a hand-off."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action, events = self.next_action(tracker)
        if not action:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # "No user prediction" puts it in the same class as a running form's next step, which would
        # otherwise overrule every other prediction; priority 7 then wins the tie. The events (slots,
        # ending the form) apply only when this prediction wins.
        return self._prediction(probabilities, optional_events=events, is_no_user_prediction=True)

    @staticmethod
    def next_action(tracker: DialogueStateTracker) -> Tuple[Optional[str], List[Event]]:
        """The action to force now with the events to apply first, or (None, []) to abstain."""
        intent = (tracker.latest_message.intent if tracker.latest_message else None) or {}
        just_heard = tracker.latest_action_name == ACTION_LISTEN_NAME
        if just_heard and intent.get("name") == CRISIS_INTENT:
            return CRISIS_RESPONSE, crisis_events(tracker, intent.get("crisis_category") or UNSPECIFIED)
        if just_heard and phq9_item9_positive(tracker):
            return CRISIS_RESPONSE, crisis_events(tracker, PHQ9_CATEGORY)
        crisis_turn = _crisis_turn_next(tracker)
        if crisis_turn:
            return crisis_turn, []
        state = handoff_state(tracker.events)
        if state not in (REQUESTED, TAKEN) or intent.get("name") == CRISIS_INTENT:
            return None, []
        if just_heard and state == REQUESTED:
            return HOLDING_RESPONSE, []
        return ACTION_LISTEN_NAME, []
