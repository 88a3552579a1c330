"""The crisis detector as a Rasa 3.6 NLU pipeline step; put it LAST in config.yml's pipeline:

    pipeline:
      ...
      - name: DIETClassifier
      - name: ResponseSelector
      - name: FallbackClassifier
      - name: bot.nlu.crisis_detector.CrisisDetectorComponent

On every message it runs `bot.crisis.detector` on the raw text, and it also counts DIET's
top-ranked real intent (skipping `nlu_fallback`) being `crisis`. When either fires, the message
gets intent `crisis` (confidence 1.0, first in the ranking) carrying `crisis_category` (a detector
category, or "unspecified" when only DIET fired), and every extracted entity is dropped, so no
form can take a crisis message as a slot value. Other messages are left untouched.
`bot.policies.crisis.CrisisPolicy` turns the category (and CRISIS_LOCALE) into slots.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.crisis.detector import CrisisDetector, get_detector

logger = logging.getLogger(__name__)

CRISIS_INTENT = "crisis"
CATEGORY_KEY = "crisis_category"  # carried in the intent dict
UNSPECIFIED = "unspecified"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class CrisisDetectorComponent(GraphComponent):
    """Sets intent `crisis`, with its category, when a message is a crisis."""

    def __init__(self, config: Dict[Text, Any], detector: Optional[CrisisDetector] = None) -> None:
        self.component_config = config
        self.detector = detector or get_detector()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisDetectorComponent:
        """Creates the component; the detector is built here, not on the first message."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Marks each crisis message (see the module docstring); returns the messages."""
        for message in messages:
            category = self._crisis_category(message)
            if category is not None:
                self._mark_crisis(message, category)
        return messages

    def _crisis_category(self, message: Message) -> Optional[Text]:
        signal = self.detector.detect(message.get(TEXT) or "")
        if signal is not None:
            return signal.category
        if _top_real_intent(message) == CRISIS_INTENT:
            return UNSPECIFIED
        return None

    def _mark_crisis(self, message: Message, category: Text) -> None:
        crisis = {INTENT_NAME_KEY: CRISIS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or []
                   if r.get(INTENT_NAME_KEY) != CRISIS_INTENT]
        message.set(INTENT, {**crisis, CATEGORY_KEY: category}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(crisis)] + ranking, add_to_output=True)
        message.set(ENTITIES, [], add_to_output=True)
        logger.info("Crisis detected (category %s).", category)


def _top_real_intent(message: Message) -> Optional[Text]:
    """The best-ranked intent other than `nlu_fallback` (FallbackClassifier puts it first)."""
    for ranked in message.get(INTENT_RANKING_KEY) or []:
        if ranked.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return ranked.get(INTENT_NAME_KEY)
    intent = message.get(INTENT) or {}
    name = intent.get(INTENT_NAME_KEY)
    return name if name != DEFAULT_NLU_FALLBACK_INTENT_NAME else None
