"""Crisis hand-off bookkeeping. The replies were already sent by domain responses (the crisis policy)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, latest_text
from bot.crisis.handoff import HandoffRequest, open_handoff
from bot.crisis.resources import normalise_locale
from bot.handoff.state import HANDOFF_SLOT, REQUESTED, SAFE, TAKEN, handoff_state
from bot.journey import phq9
from bot.journey.service import JourneyService
from bot.store.repository import AppStore

PHQ9_ITEM9 = "PHQ-9 item 9 (thoughts of being better off dead or of hurting oneself), answered: "
SAFETY_QUESTION_YES = "Safety question (thoughts of ending their life or hurting themselves), answered: "
# A typed "yes" to item 9 has no frequency: it is scored as the lowest positive answer, "several days".
ITEM9_YES_SCORE = "1"


def _answered_safety_question(tracker: Tracker) -> bool:
    for event in reversed(tracker.events[:-1]):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", "utter_crisis",
                                                                         "utter_crisis_resources"):
            return event.get("name") in ("utter_safety_check", "utter_safety_check_again")
    return False


def handoff_message(tracker: Tracker) -> str:
    """What staff see: the person's words, or which question they answered."""
    text = latest_text(tracker)
    if tracker.get_slot("journey_step") == phq9.SELF_HARM_ITEM:
        return PHQ9_ITEM9 + text
    if _answered_safety_question(tracker):
        return SAFETY_QUESTION_YES + text
    return text


class ActionCrisisHandoff(Action):
    """Records the hand-off (or adds to the open one) and queues the staff notifications."""

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
            answer = latest_text(tracker) if phq9.answer_or_none(latest_text(tracker)) else ITEM9_YES_SCORE
            await asyncio.to_thread(JourneyService().answer, tracker.sender_id, answer, None)
        return [SlotSet(HANDOFF_SLOT, REQUESTED), SlotSet("journey_step", None)]


class ActionFlagForReview(Action):
    """Flags a message for staff: the safety question answered "no" or not answered twice (low
    priority), or a risk message while staff hold the conversation. A "no" while a hand-off waits
    marks the hand-off "safe"."""

    def name(self) -> Text:
        return "action_flag_for_review"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        store = AppStore()
        state = handoff_state(tracker.events)
        unanswered = tracker.get_slot("safety_check") == "unanswered"
        kind = "risk_while_taken" if state == TAKEN else "safety_check_unanswered" if unanswered else "safety_check_no"
        await asyncio.to_thread(store.flag_for_review, channel_of(tracker), tracker.sender_id, kind,
                                latest_text(tracker))
        if state == SAFE:
            await asyncio.to_thread(store.mark_person_safe, tracker.sender_id)
        return []
