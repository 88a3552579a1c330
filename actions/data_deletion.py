"""Deleting a person's data at their request.

The app rows go here; the transcript is erased by the tracker store (`bot.store.tracker_store`)
when it saves a turn that ran this action.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from bot.store.repository import AppStore


class ActionDeleteMyData(Action):
    def name(self) -> Text:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await asyncio.to_thread(AppStore().delete_person_data, tracker.sender_id)
        dispatcher.utter_message(response="data_deleted")
        return [AllSlotsReset()]
