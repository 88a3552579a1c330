"""Crisis hand-off bookkeeping. The resources were already sent by domain responses (rule)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, latest_text
from bot.crisis.handoff import HandoffRequest, open_handoff
from bot.crisis.handoff_state import HANDOFF_SLOT, REQUESTED
from bot.crisis.resources import normalise_locale
from bot.journey import phq9
from bot.journey.service import JourneyService

PHQ9_ITEM9 = "PHQ-9 item 9 (thoughts of being better off dead or of hurting oneself), answered: "


def handoff_message(tracker: Tracker) -> str:
    """What staff see: the person's words, or which questionnaire answer started the protocol."""
    text = latest_text(tracker)
    if tracker.get_slot("journey_step") == phq9.SELF_HARM_ITEM and tracker.get_slot("crisis_category") == "suicide":
        return PHQ9_ITEM9 + text
    return text


class ActionCrisisHandoff(Action):
    """Records the hand-off and queues the staff notifications."""

    def name(self) -> Text:
        return "action_crisis_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        request = HandoffRequest(
            channel=channel_of(tracker),
            sender_id=tracker.sender_id,
            category=tracker.get_slot("crisis_category") or "unspecified",
            locale=normalise_locale(tracker.get_slot("crisis_locale")),
            message=handoff_message(tracker),
        )
        await asyncio.to_thread(open_handoff, request)
        if tracker.get_slot("journey_step") == phq9.SELF_HARM_ITEM:  # keep the answer; don't ask it again
            await asyncio.to_thread(JourneyService().answer, tracker.sender_id, latest_text(tracker), None)
        return [SlotSet(HANDOFF_SLOT, REQUESTED), SlotSet("journey_step", None)]
