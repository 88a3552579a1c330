"""The safety triage of one message: clear risk, possible risk, or none.

- **clear**: a rule of the crisis lexicon fires (any category), or the risk model's P(crisis) is at
  or above `high` -> the crisis reply and a hand-off. A plain "I'm not in danger" / "no intention of
  harming myself" with nothing urgent in the message (lexicon.yml `context`) turns the model's clear
  into possible: the person is asked, not handed off.
- **possible**: a risk cue that is not a plan (the lexicon's `possible` rules: hopelessness, "no
  point", burden, "so tired of everything"), or the model's P(crisis) + P(possible) at or above
  `low` -> one direct safety question.
- **none**: everything else.

The thresholds come from `risk_thresholds.yml` (chosen by `bot.crisis.calibrate`). Plain Python:
the Rasa pipeline step (`bot/nlu/crisis_detector.py`) and the evaluation both call `Triage.assess`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from bot.crisis.detector import CrisisDetector
from bot.crisis.risk_model import RiskModel
from bot.crisis.speaker import speaker_of

CLEAR, POSSIBLE, NONE = "clear", "possible", "none"


@dataclass(frozen=True)
class Assessment:
    tier: str
    category: Optional[str]  # a crisis category for the clear tier
    speaker: Optional[str]  # self / other / child for the clear tier
    risk: float
    concern: float
    source: str  # rules, model, cue, or none

    def as_dict(self) -> dict:
        data = asdict(self)
        data["risk"], data["concern"] = round(self.risk, 3), round(self.concern, 3)
        return data


class Triage:
    def __init__(self, detector: CrisisDetector, model: Optional[RiskModel], high: float, low: float) -> None:
        self.detector, self.model, self.high, self.low = detector, model, high, low

    def assess(self, text: str) -> Assessment:
        text = text or ""
        signal, cue = self.detector.detect_both(text)
        if signal is not None:  # the rules decide at once; the model is not needed
            return Assessment(CLEAR, signal.category, speaker_of(text), 1.0, 1.0, "rules")
        risk, concern = self.model.probabilities(text) if self.model and text.strip() else (0.0, 0.0)
        if risk >= self.high and not self.detector.disavowed(text):
            return Assessment(CLEAR, self.model.category(text), speaker_of(text), risk, concern, "model")
        if cue is not None:
            return Assessment(POSSIBLE, None, None, risk, concern, "cue")
        if concern >= self.low:
            return Assessment(POSSIBLE, None, None, risk, concern, "model")
        return Assessment(NONE, None, None, risk, concern, "none")
