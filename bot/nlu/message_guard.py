"""An NLU step for messages with no words in them: empty, spaces only, emoji or punctuation only.

Rasa's classifiers have nothing to go on for such a message and may leave it with no intent, so
the assistant would say nothing. This step marks it `no_words` (confidence 1.0), and a rule answers
with a kind prompt and the menu (`utter_no_words`), not the "didn't follow" line. Inside the
journey form the form still reads the text: an emoji ("💔") can be an answer to a free-text step.
When DIET itself guesses `no_words` for a message that has words, that guess is dropped (the next
intent stands, or `nlu_fallback` below `fallback_threshold`). Place it after FallbackClassifier,
before the language guard and the crisis detector.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

NO_WORDS_INTENT = "no_words"


def has_words(text: Optional[str]) -> bool:
    """Whether the text holds at least one letter or digit, in any script."""
    return any(char.isalnum() for char in text or "")


def drop_intent(message: Message, name: str, fallback_threshold: float) -> None:
    """Takes a guess of intent `name` out of the message's ranking; the next intent stands with its
    own confidence (not scaled up), or `nlu_fallback` when that is below `fallback_threshold`."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    intent = message.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) != name and not any(r.get(INTENT_NAME_KEY) == name for r in ranking[:1]):
        return
    rest = [dict(r) for r in ranking if r.get(INTENT_NAME_KEY) not in (name, DEFAULT_NLU_FALLBACK_INTENT_NAME)]
    if not rest or float(rest[0].get(PREDICTED_CONFIDENCE_KEY) or 0) < fallback_threshold:
        fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: fallback_threshold}
        rest = [fallback] + rest
    message.set(INTENT, dict(rest[0]), add_to_output=True)
    message.set(INTENT_RANKING_KEY, rest, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NoWordsGuard(GraphComponent):
    """Gives messages without words their own intent instead of leaving them unanswered."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"fallback_threshold": 0.45}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self.component_config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NoWordsGuard":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if has_words(message.get(TEXT)):
                drop_intent(message, NO_WORDS_INTENT, float(self.component_config["fallback_threshold"]))
                continue
            marked = {INTENT_NAME_KEY: NO_WORDS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, marked, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(marked)], add_to_output=True)
        return messages
