"""The guided journey's actions: thin wrappers that call bot.journey.service and send its replies.

Every journey activity runs in one form, `journey_form`, with one slot, `journey_answer`; the
engine (bot/journey/engine.py) decides what to ask next and reads the answers. `GuidedFormValidation`
is the shared base: it tells answers from interruptions and hands retries, skips and the end of an
activity to the engine.
"""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import latest_text
from bot.journey import phq9
from bot.journey.engine import Reply
from bot.journey.interruptions import is_interruption
from bot.journey.service import JourneyService

FORM = "journey_form"
ANSWER_SLOT = "journey_answer"
STEP_SLOT = "journey_step"
PENDING_SLOT = "journey_pending"
STARTED_SLOT = "journey_started"  # a later "hello" gets the short greeting (domain/core.yml)
ITEM9_SAFE_ANSWER = "not at all"
MOOD_STEPS = ("mood", "week_mood")
LOW_MOOD_QUESTION = "utter_safety_check_low_mood"
SAFETY_DONE = ("utter_safety_check_ok_low_mood", "utter_safety_check_unanswered")


def send(dispatcher: CollectingDispatcher, replies: List[Reply]) -> None:
    for reply in replies:
        dispatcher.utter_message(response=reply.response, buttons=reply.buttons, image=reply.image,
                                 **reply.variables)


def answered_just_now(tracker: Tracker) -> bool:
    """The form runs right after the person spoke: no other action since their message.

    Rasa calls the validation action with the form's own execution appended to the events; on the
    form's start and after an interruption other actions come between, and nothing new is said.
    """
    actions = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            actions.append(event["name"])
    return actions in ([], [FORM])


def safe_at_item9(tracker: Tracker) -> bool:
    """PHQ-9 item 9 was just answered through the safety question: "No, I'm safe" (scored "not at all").

    Only in the turn of that answer (the acknowledgement ran since the person's message), so an
    earlier "no" can never answer item 9 for them."""
    if tracker.get_slot("safety_check") != "no" or tracker.get_slot(STEP_SLOT) != phq9.SELF_HARM_ITEM:
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "utter_safety_check_ok":
            return True
    return False


def mood_before_safety_question(tracker: Tracker) -> Optional[str]:
    """A very low mood answer that the safety question interrupted (bot/policies/crisis.py asks it first):
    once the person said they are safe (or did not answer twice), the mood they gave is kept, not asked again.

    Only in the turn the safety question was settled, and only at a mood step."""
    if tracker.get_slot(STEP_SLOT) not in MOOD_STEPS:
        return None
    events = list(tracker.events)
    settled = False
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if not settled:
            if event.get("event") == "user":
                return None
            settled = event.get("event") == "action" and event.get("name") in SAFETY_DONE
            continue
        if event.get("event") == "action" and event.get("name") == LOW_MOOD_QUESTION:
            before = [e for e in events[:index] if e.get("event") == "user"]
            return (before[-1].get("text") or None) if before else None
    return None


def latest_intent(tracker: Tracker) -> tuple[Optional[str], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


async def run_service(method: str, *args: Any) -> Any:
    """Journey calls touch the database: run them off the event loop."""
    return await asyncio.to_thread(getattr(JourneyService(), method), *args)


class ActionJourneyBegin(Action):
    """Starts or resumes what the person asked for; `journey_pending` tells the rules to run the form."""

    def name(self) -> Text:
        return "action_journey_begin"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        replies, pending = await run_service("begin", tracker.sender_id, latest_intent(tracker)[0])
        send(dispatcher, replies)
        return [SlotSet(PENDING_SLOT, pending), SlotSet(ANSWER_SLOT, None), SlotSet(STARTED_SLOT, True)]


class ActionAskJourneyAnswer(Action):
    """Asks the current step's question and records which step it is (the crisis policy reads it)."""

    def name(self) -> Text:
        return "action_ask_journey_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        replies, step = await run_service("ask", tracker.sender_id)
        send(dispatcher, replies)
        return [SlotSet(STEP_SLOT, step)]


class GuidedFormValidation(FormValidationAction):
    """What every guided form shares: answers go to the engine, which asks again with an example
    (twice), offers to skip, and says when the activity is over; questions and commands in the
    middle are left to the rules (the form resumes after them); "stop" is a rule too."""

    answer_slot = ANSWER_SLOT

    @abstractmethod
    def name(self) -> Text:
        """The validation action's name, `validate_<form>`."""

    async def extract_journey_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        if safe_at_item9(tracker):
            return {self.answer_slot: ITEM9_SAFE_ANSWER}
        mood = mood_before_safety_question(tracker)
        if mood:
            return {self.answer_slot: mood}
        if tracker.get_slot("requested_slot") != self.answer_slot or not answered_just_now(tracker):
            return {}  # activation, or coming back after an interruption: nothing new to read
        text = latest_text(tracker)
        intent, confidence = latest_intent(tracker)
        step = await run_service("current_step_object", tracker.sender_id)
        if is_interruption(text, intent, confidence, step):
            return {}
        return {self.answer_slot: text}

    async def validate_journey_answer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        safe = (safe_at_item9(tracker) and value == ITEM9_SAFE_ANSWER) or (
            value is not None and value == mood_before_safety_question(tracker))
        if value is None or not (answered_just_now(tracker) or safe):
            return {}  # Rasa asks for validation on activation and after interruptions too: nothing was said
        turn = await run_service("answer", tracker.sender_id, str(value), latest_intent(tracker)[0])
        if safe:
            send(dispatcher, turn.replies)
            done = {self.answer_slot: None, "safety_check": None}
            return {**done, "requested_slot": None, STEP_SLOT: None} if turn.finished else done
        send(dispatcher, turn.replies)
        due = {"safety_check": "due"} if turn.safety_check else {}  # the crisis policy asks the question next
        if turn.finished:
            return {self.answer_slot: None, "requested_slot": None, STEP_SLOT: None, **due}
        return {self.answer_slot: None, **due}


class ValidateJourneyForm(GuidedFormValidation):
    def name(self) -> Text:
        return "validate_journey_form"


class JourneyReplyAction(Action, ABC):
    """Sends what one read-only journey operation returns (status, people, focus ...)."""

    operation = ""

    @abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        send(dispatcher, await run_service("read_only", tracker.sender_id, self.operation))
        return []


class ActionJourneyStatus(JourneyReplyAction):
    operation = "status"

    def name(self) -> Text:
        return "action_journey_status"


class ActionJourneyNext(JourneyReplyAction):
    operation = "next_offer"

    def name(self) -> Text:
        return "action_journey_next"


class ActionJourneyPeople(JourneyReplyAction):
    operation = "people_replies"

    def name(self) -> Text:
        return "action_journey_people"


class ActionJourneyFocus(JourneyReplyAction):
    operation = "focus_replies"

    def name(self) -> Text:
        return "action_journey_focus"


class ActionJourneyWelcome(JourneyReplyAction):
    """After the greeting: welcome back with where the person was, or (mid-step) a short hello."""

    operation = "welcome"

    def name(self) -> Text:
        return "action_journey_welcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        in_form = (tracker.active_loop or {}).get("name") == FORM
        send(dispatcher, await run_service("read_only", tracker.sender_id, "hello_again" if in_form else "welcome"))
        return []


class ActionJourneyStop(JourneyReplyAction):
    """Leaves the form cleanly; the answers so far stay saved and "continue" resumes them."""

    operation = "stop"

    def name(self) -> Text:
        return "action_journey_stop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        await super().run(dispatcher, tracker, domain)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(STEP_SLOT, None)]
