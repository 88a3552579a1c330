"""The safety triage as a Rasa 3.6 NLU pipeline step; put it LAST in config.yml's pipeline.

Training (`rasa train`) fits the risk model (`bot.crisis.risk_model`) on the labelled sets of
`bot.crisis.corpus` plus the NLU examples of every non-risk intent, and stores it in the model
archive with the thresholds of `bot/crisis/risk_thresholds.yml`. The files it reads are part of the
component's fingerprint, so a change to them retrains it.

On every message it runs `bot.crisis.triage` (rules, cues, model):

- clear risk: intent `crisis` (confidence 1.0) with `crisis_category` and `crisis_speaker`;
- possible risk: intent `possible_risk` (confidence 1.0);
- no risk: DIET's own `crisis` / `possible_risk` guesses are taken out of the ranking, the rest is
  renormalised, and below `fallback_threshold` the intent becomes `nlu_fallback`. DIET alone never
  opens a hand-off or asks the safety question.

Every entity is dropped from a risk message, so no form can take it as an answer. The assessment
(tier, source, scores) is kept with the message as `risk`, for staff review.
`bot.policies.crisis.CrisisPolicy` decides what the assistant does with it.
"""
from __future__ import annotations

import hashlib
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
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import metrics
from bot.crisis import corpus
from bot.crisis.calibrate import THRESHOLDS_FILE, load_thresholds
from bot.crisis.corpus import Example
from bot.crisis.detector import get_detector
from bot.crisis.risk_model import RiskModel
from bot.crisis.triage import CLEAR, POSSIBLE, Assessment, Triage

logger = logging.getLogger(__name__)

CRISIS_INTENT, POSSIBLE_INTENT = "crisis", "possible_risk"
RISK_INTENTS = (CRISIS_INTENT, POSSIBLE_INTENT)
CATEGORY_KEY, SPEAKER_KEY, RISK_KEY = "crisis_category", "crisis_speaker", "risk"
MODEL_FILE = "risk_model.pkl"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CrisisDetectorComponent(GraphComponent):
    """Sets `crisis` or `possible_risk` from the safety triage; see the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"fallback_threshold": 0.45}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The training sets and the thresholds are read from files, not from the graph."""
        return corpus.fingerprint() + hashlib.sha256(THRESHOLDS_FILE.read_bytes()).hexdigest()[:16]

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[RiskModel] = None, thresholds: Optional[dict] = None) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        thresholds = thresholds or load_thresholds()
        self.triage = Triage(get_detector(), model, float(thresholds["high"]), float(thresholds["low"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CrisisDetectorComponent:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the risk model on the labelled sets and the NLU examples of non-risk intents."""
        examples = corpus.training_examples() + [
            Example(m.get(TEXT), corpus.NONE, "nlu") for m in training_data.intent_examples
            if m.get(INTENT) not in RISK_INTENTS and m.get(TEXT)]
        logger.info("Training the risk model on %d messages.", len(examples))
        model = RiskModel.train(examples, self.triage.detector.normalizer)
        with self._model_storage.write_to(self._resource) as directory:
            model.save(directory / MODEL_FILE)
        self.triage.model = model
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CrisisDetectorComponent:
        with model_storage.read_from(resource) as directory:
            model = RiskModel.load(directory / MODEL_FILE, get_detector().normalizer)
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            assessment = self.triage.assess(message.get(TEXT) or "")
            message.set(RISK_KEY, assessment.as_dict(), add_to_output=True)
            metrics.count_triage(assessment.tier, assessment.category)  # ipt_triage_total (bot/metrics.py)
            if assessment.tier in (CLEAR, POSSIBLE):
                self._mark(message, assessment)
            else:
                self._without_risk_intents(message)
        return messages

    @staticmethod
    def _mark(message: Message, assessment: Assessment) -> None:
        name = CRISIS_INTENT if assessment.tier == CLEAR else POSSIBLE_INTENT
        intent: Dict[str, Any] = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [dict(intent)] + [dict(r) for r in message.get(INTENT_RANKING_KEY) or []
                                    if r.get(INTENT_NAME_KEY) not in RISK_INTENTS]
        if assessment.tier == CLEAR:
            intent.update({CATEGORY_KEY: assessment.category, SPEAKER_KEY: assessment.speaker})
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set(ENTITIES, [], add_to_output=True)
        logger.info("Safety triage: %s risk (%s, from %s).", assessment.tier, assessment.category, assessment.source)

    def _without_risk_intents(self, message: Message) -> None:
        """DIET's guess of a risk intent does not count: the next intent stands, renormalised."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) not in RISK_INTENTS and not any(
                r.get(INTENT_NAME_KEY) in RISK_INTENTS for r in ranking[:1]):
            return
        removed = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0) for r in ranking
                      if r.get(INTENT_NAME_KEY) in RISK_INTENTS)
        scale = 1.0 / max(1.0 - removed, 1e-6)
        rest = [{**r, PREDICTED_CONFIDENCE_KEY: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0) * scale}
                for r in ranking
                if r.get(INTENT_NAME_KEY) not in (*RISK_INTENTS, DEFAULT_NLU_FALLBACK_INTENT_NAME)]
        threshold = float(self.component_config["fallback_threshold"])
        if not rest or rest[0][PREDICTED_CONFIDENCE_KEY] < threshold:
            top = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: threshold}
            rest = [top] + rest
        message.set(INTENT, dict(rest[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, rest, add_to_output=True)
