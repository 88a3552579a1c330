"""A policy that pauses the automated program while a crisis hand-off is open.

While the hand-off waits for staff ("requested"), every message of the person gets a short holding
answer with the crisis resources; once staff have taken over ("taken"), the assistant stays silent
and staff reply through the HTTP API. A new crisis message still gets the full crisis response from
the rules. It needs neither the action server nor the database.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff_state import CRISIS_RESOURCES_RESPONSE, REQUESTED, TAKEN, handoff_state

# While waiting for staff, each message gets the resources again, with the note that staff will join.
HOLDING_RESPONSE = CRISIS_RESOURCES_RESPONSE
CRISIS_INTENT = "crisis"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPolicy(Policy):
    """Predicts the holding answer, or silence, while a conversation is handed to a person."""

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
        action = self.next_action(tracker)
        if action:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def next_action(tracker: DialogueStateTracker) -> Optional[str]:
        """The action to force now, or None to let the other policies decide."""
        state = handoff_state(tracker.events)
        if state not in (REQUESTED, TAKEN):
            return None
        if tracker.latest_message and tracker.latest_message.intent.get("name") == CRISIS_INTENT:
            return None  # the crisis rules answer again, with the full resources
        if tracker.latest_action_name == ACTION_LISTEN_NAME and state == REQUESTED:
            return HOLDING_RESPONSE
        return ACTION_LISTEN_NAME
