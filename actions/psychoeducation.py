"""Psychoeducation: "tell me more" and the topic buttons (thin; the logic is in bot.content)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import topics


def last_shown_key(events: List[Dict[Text, Any]]) -> Optional[str]:
    """The response key of the last psychoeducation bubble the bot sent, if any."""
    for event in reversed(events):
        if event.get("event") == "bot":
            key = topics.key_from_response_name((event.get("metadata") or {}).get("utter_action"))
            if key:
                return key
        if event.get("event") == "restart":
            return None
    return None


def choose_response(requested: Optional[str], events: List[Dict[Text, Any]]) -> str:
    """The response to send for an `ipt_more` message.

    A button names the bubble to show (entity `ipt_topic`). Typed "tell me more" continues the
    last topic shown; after its last bubble, or with no topic yet, it offers the topics.
    """
    if topics.is_bubble_key(requested):
        return topics.response_name(requested)
    last = last_shown_key(events)
    if last is None:
        return topics.MENU_RESPONSE
    following = topics.next_bubble_key(last)
    return topics.response_name(following) if following else topics.MORE_END_RESPONSE


class ActionIptMore(Action):
    def name(self) -> Text:
        return "action_ipt_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        requested = next(tracker.get_latest_entity_values(topics.TOPIC_ENTITY), None)
        dispatcher.utter_message(response=choose_response(requested, tracker.events))
        return []
