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
            message=latest_text(tracker),
        )
        await asyncio.to_thread(open_handoff, request)
        return [SlotSet(HANDOFF_SLOT, REQUESTED)]
