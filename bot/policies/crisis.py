"""The crisis policy: the graded safety response and the hand-off, decided in the Rasa server.

It runs without the action server and the database (the replies are domain responses), and it
outranks every other policy (priority 7, "no user" predictions, so it wins over a running form).

- **Clear risk** (intent `crisis`, from bot/nlu/crisis_detector.py): `utter_crisis`, then
  `utter_crisis_resources` (lines for the locale; in or out of the clinic's hours), then
  `action_crisis_handoff`. A running form ends.
- **Possible risk** (intent `possible_risk`): `utter_safety_check`, one direct question; the form, if
  any, stays where it was. The answer: yes, not sure, or a risk message -> the clear-risk reply; no ->
  `utter_safety_check_ok`, a flag for staff review, and the form asks its question again; no answer
  -> asked once more; no answer again -> the conversation goes on (where help is, said once more),
  flagged for staff review.
- **PHQ-9 item 9** in the journey: "not at all" goes on; any frequency or yes -> the clear-risk reply;
  anything else -> the safety question. It is never skipped.
- **Check-ins**: a mood of 0-2 of 10 gets `utter_safety_check_low_mood` before the form stores it ("no" ->
  `utter_safety_check_ok_low_mood`, which suggests telling their clinician, and the mood is kept); a PHQ-9
  that rose by 5 points or more since the last one (the journey sets `safety_check: due`) gets the
  safety question after the score.
- **While a hand-off waits** (requested): a new risk message gets the crisis reply again (the action
  adds it to the open hand-off); anything else gets a holding reply that answers it
  (bot/handoff/holding.py) and offers the safety question; "No, I'm safe" moves the hand-off to
  "safe" and the person may carry on. **While staff have it** (taken): silent; a risk message is only
  flagged for staff (`action_flag_for_review`).
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

from bot.crisis.detector import CATEGORIES
from bot.crisis.locale import tracker_locale
from bot.crisis.resources import check_configured_locale, lines_key
from bot.crisis.safety_check import NO, UNSURE, YES, read_safety_answer
from bot.crisis.speaker import SPEAKERS
from bot.handoff import staffing
from bot.handoff.holding import holding_response
from bot.handoff.state import CRISIS_RESOURCES_RESPONSE, HANDOFF_SLOT, REQUESTED, SAFE, TAKEN, handoff_state
from bot.journey import answers, phq9
from bot.nlu.crisis_detector import CRISIS_INTENT, POSSIBLE_INTENT

CRISIS_RESPONSE = "utter_crisis"
HANDOFF_ACTION = "action_crisis_handoff"
FLAG_ACTION = "action_flag_for_review"
SAFETY_QUESTION, SAFETY_AGAIN = "utter_safety_check", "utter_safety_check_again"
SAFETY_OK, SAFETY_OK_WAITING = "utter_safety_check_ok", "utter_safety_check_ok_waiting"
SAFETY_UNANSWERED = "utter_safety_check_unanswered"
# A very low mood at a check-in (0-2 of 10) gets the safety question first, with a word about the score,
# and "No, I'm safe" gets a suggestion to tell their clinician; the mood they gave is then kept
# (actions/journey.py). Issue 13: a low mood or a rising PHQ-9 at a check-in gets the safety question.
SAFETY_QUESTION_LOW_MOOD, SAFETY_OK_LOW_MOOD = "utter_safety_check_low_mood", "utter_safety_check_ok_low_mood"
MOOD_STEPS, LOW_MOOD_MAX = ("mood", "week_mood"), 2
ASKED, ASKED_LOW_MOOD, DUE = "asked", "asked_low_mood", "due"
HOLDING_PROMPTS = ("utter_holding", "utter_holding_no_call", "utter_holding_when")
SAFETY_SLOT = "safety_check"
UNSPECIFIED, SUICIDE = "unspecified", "suicide"  # the safety question asks about suicide and self-harm
JOURNEY_FORM, JOURNEY_STEP_SLOT = "journey_form", "journey_step"
# What follows each of our actions within the turn it started.
FOLLOWING = {
    CRISIS_RESPONSE: CRISIS_RESOURCES_RESPONSE, CRISIS_RESOURCES_RESPONSE: HANDOFF_ACTION,
    HANDOFF_ACTION: ACTION_LISTEN_NAME, SAFETY_QUESTION: ACTION_LISTEN_NAME, SAFETY_AGAIN: ACTION_LISTEN_NAME,
    SAFETY_QUESTION_LOW_MOOD: ACTION_LISTEN_NAME,
    SAFETY_OK: FLAG_ACTION, SAFETY_OK_WAITING: FLAG_ACTION, SAFETY_UNANSWERED: FLAG_ACTION,
    SAFETY_OK_LOW_MOOD: FLAG_ACTION,
    FLAG_ACTION: ACTION_LISTEN_NAME,
    **{prompt: ACTION_LISTEN_NAME for prompt in HOLDING_PROMPTS},
}


def _actions_since_user(tracker: DialogueStateTracker) -> List[str]:
    names: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    return list(reversed(names))


def previous_prompt(tracker: DialogueStateTracker) -> Optional[str]:
    """The last action before the person's latest message (action_listen aside)."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return None
            seen_user = True
        elif seen_user and isinstance(event, ActionExecuted) and event.action_name not in (ACTION_LISTEN_NAME, None):
            return event.action_name
    return None


def said_safe_in_this_form(tracker: DialogueStateTracker) -> bool:
    """The person answered the safety question "no" since the running form started."""
    for event in reversed(tracker.events):
        if isinstance(event, ActiveLoop) and event.name:
            return False
        if isinstance(event, ActionExecuted) and event.action_name in (SAFETY_OK, SAFETY_OK_LOW_MOOD):
            return True
    return False


def _journey_step(tracker: DialogueStateTracker) -> Optional[str]:
    return tracker.get_slot(JOURNEY_STEP_SLOT) if tracker.active_loop_name == JOURNEY_FORM else None


def asked_low_mood_in_this_form(tracker: DialogueStateTracker) -> bool:
    """The low-mood safety question was asked since the running form started (once per check-in)."""
    for event in reversed(tracker.events):
        if isinstance(event, ActiveLoop) and event.name:
            return False
        if isinstance(event, ActionExecuted) and event.action_name == SAFETY_QUESTION_LOW_MOOD:
            return True
    return False


def very_low_mood(text: str) -> bool:
    """A mood answer of 0, 1 or 2 out of 10."""
    try:
        return answers.parse_number(text) <= LOW_MOOD_MAX
    except answers.Unclear:
        return False


def item9_reading(text: str) -> str:
    """PHQ-9 item 9 answered in words: "none" (a clear not at all), "positive", or "unclear"."""
    if phq9.is_clear_no(text):
        return "none"
    answer = phq9.answer_or_none(text)
    if answer or read_safety_answer(text) == YES:
        return "positive"
    return "unclear"


def check_safety_settings() -> None:
    """Raises ValueError, saying what to set, when CRISIS_LOCALE, CLINIC_HOURS or CLINIC_TIMEZONE is wrong."""
    check_configured_locale()
    staffing.is_open()


def crisis_events(tracker: DialogueStateTracker, category: str, speaker: str = "self") -> List[Event]:
    """The slots of a crisis reply: category and speaker (one of the values the generated responses
    name), the conversation's locale (bot/crisis/locale.py) and the lines that fit all three."""
    category = category if category in CATEGORIES else UNSPECIFIED
    speaker = speaker if speaker in SPEAKERS else "self"
    locale = tracker_locale(tracker)
    events: List[Event] = [
        SlotSet("crisis_category", category), SlotSet("crisis_speaker", speaker),
        SlotSet("crisis_locale", locale), SlotSet("crisis_lines", lines_key(locale, category, speaker)),
        SlotSet("clinic_open", staffing.is_open()), SlotSet(SAFETY_SLOT, None),
    ]
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return events


def _clear(tracker: DialogueStateTracker, category: str = SUICIDE, speaker: str = "self") -> Tuple[str, List[Event]]:
    return CRISIS_RESPONSE, crisis_events(tracker, category, speaker)


def _ask_safety(tracker: DialogueStateTracker, low_mood: bool = False) -> Tuple[str, List[Event]]:
    return (SAFETY_QUESTION_LOW_MOOD if low_mood else SAFETY_QUESTION), [
        SlotSet(SAFETY_SLOT, ASKED_LOW_MOOD if low_mood else ASKED), SlotSet("crisis_locale", tracker_locale(tracker))]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class CrisisPolicy(Policy):
    """Outranks the other policies (priority 7) for the safety response and during a hand-off."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_safety_settings()  # a bad CRISIS_LOCALE or CLINIC_HOURS stops the Rasa server at start-up

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
        done = _actions_since_user(tracker)
        if done:
            return _within_turn(tracker, done)
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            return None, []
        return _after_message(tracker)


def _within_turn(tracker: DialogueStateTracker, done: List[str]) -> Tuple[Optional[str], List[Event]]:
    """Carry on a turn this policy started; abstain in turns it did not start."""
    if done[-1] == JOURNEY_FORM and tracker.get_slot(SAFETY_SLOT) == DUE:
        return _ask_safety(tracker)  # the journey saw a PHQ-9 rise by 5 points or more since the last one
    if not any(name in FOLLOWING for name in done):
        return None, []
    following = FOLLOWING.get(done[-1])
    settled = (SAFETY_OK, SAFETY_OK_LOW_MOOD, SAFETY_UNANSWERED)
    if done[-1] == FLAG_ACTION and any(name in done for name in settled) and tracker.active_loop_name:
        return tracker.active_loop_name, []  # the form asks its question again
    return following, []


DELETE_INTENT, CONFIRM_DELETE = "delete_my_data", "utter_confirm_delete"


def deleting(tracker: DialogueStateTracker, intent_name: Optional[str], state: Optional[str]) -> bool:
    """During a hand-off (waiting or taken), asking to delete one's data, or answering the question that
    confirms it, is left to the rules: the person gets an answer and the erasure closes the hand-off
    (bot/store/erasure.py). A risk message is never this."""
    if state not in (REQUESTED, TAKEN) or intent_name in (CRISIS_INTENT, POSSIBLE_INTENT):
        return False
    return intent_name == DELETE_INTENT or (
        intent_name in ("affirm", "deny") and previous_prompt(tracker) == CONFIRM_DELETE)


def _after_message(tracker: DialogueStateTracker) -> Tuple[Optional[str], List[Event]]:
    message = tracker.latest_message
    intent = (message.intent if message else None) or {}
    name, text = intent.get("name"), (message.text if message else None) or ""
    state = handoff_state(tracker.events)

    if deleting(tracker, name, state):
        return None, []
    if state == TAKEN:  # staff are talking with the person: never talk over them
        return (FLAG_ACTION if name in (CRISIS_INTENT, POSSIBLE_INTENT) else ACTION_LISTEN_NAME), []
    if name == CRISIS_INTENT:
        return _clear(tracker, intent.get("crisis_category") or UNSPECIFIED, intent.get("crisis_speaker") or "self")

    prompt = previous_prompt(tracker)
    if prompt in (SAFETY_QUESTION, SAFETY_QUESTION_LOW_MOOD, SAFETY_AGAIN, *HOLDING_PROMPTS):
        answer = read_safety_answer(text, name)
        # A plain "no" is the person's answer even when the words around it are low ("no, just really low"):
        # it is flagged for staff review; a risk cue without a plain no is the clear-risk path.
        if answer in (YES, UNSURE) or (name == POSSIBLE_INTENT and answer != NO):
            return _clear(tracker)
        if answer == NO:
            if state == REQUESTED:
                return SAFETY_OK_WAITING, [SlotSet(SAFETY_SLOT, NO), SlotSet(HANDOFF_SLOT, SAFE)]
            low_mood = tracker.get_slot(SAFETY_SLOT) == ASKED_LOW_MOOD
            return (SAFETY_OK_LOW_MOOD if low_mood else SAFETY_OK), [SlotSet(SAFETY_SLOT, NO)]
        if prompt in (SAFETY_QUESTION, SAFETY_QUESTION_LOW_MOOD):
            return SAFETY_AGAIN, [SlotSet(SAFETY_SLOT, tracker.get_slot(SAFETY_SLOT) or ASKED)]
        if prompt == SAFETY_AGAIN:  # no answer twice: go on, flagged for staff (never a forced hand-off)
            return SAFETY_UNANSWERED, [SlotSet(SAFETY_SLOT, "unanswered")]

    step = _journey_step(tracker)
    if step == phq9.SELF_HARM_ITEM:
        reading = item9_reading(text)
        if reading == "positive":
            return _clear(tracker)
        if reading == "unclear":
            return _ask_safety(tracker)
        return None, []
    if step in MOOD_STEPS and very_low_mood(text) and not asked_low_mood_in_this_form(tracker):
        return _ask_safety(tracker, low_mood=True)
    if name == POSSIBLE_INTENT:
        if step in phq9.ITEMS and phq9.answer_or_none(text) is not None:
            return JOURNEY_FORM, []  # answering "feeling hopeless?" with how often: the item 9 comes next
        if step and said_safe_in_this_form(tracker):
            return JOURNEY_FORM, []  # asked and answered "no" in this activity: not asked again each answer
        return _ask_safety(tracker)
    if state == REQUESTED:
        return holding_response(text, name), []
    return None, []
