"""The risk model: a calibrated probability that a message is a crisis, and its likely category.

Plain scikit-learn, trained on the labelled sets of `bot.crisis.corpus` (crisis categories,
`possible` and `none`). Words and character n-grams of the detector's normalised text (slang,
leetspeak and typos already read, see normalize.py) feed a logistic regression over three classes,
calibrated by cross-validation (`CalibratedClassifierCV`), so that

    risk(text)     = P(crisis)                 -> the clear-risk tier above `high`
    concern(text)  = P(crisis) + P(possible)   -> the possible-risk tier above `low`

A second logistic regression, trained on the crisis messages only, names the likely category
(the rules name it when they fire; this is for what only the model catches).
Thresholds are not chosen here: `bot.crisis.calibrate` chooses them by cross-validation and writes
them with their figures to `risk_thresholds.yml`.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.crisis.corpus import CRISIS_LABELS, NONE, POSSIBLE, Example

CRISIS, TIERS = "crisis", (NONE, POSSIBLE, "crisis")
SEED = 42


@dataclass(frozen=True)
class RiskScore:
    risk: float  # P(crisis)
    concern: float  # P(crisis) + P(possible)
    category: str  # most likely crisis category


def tier_of(label: str) -> str:
    """The three-way class of a label: crisis (any category), possible or none."""
    return CRISIS if label in CRISIS_LABELS else POSSIBLE if label == POSSIBLE else NONE


def _features() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 3), sublinear_tf=True, min_df=1,
                                  token_pattern=r"(?u)\b\w+\b")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    ])


def tier_classifier(calibration_folds: int = 5) -> Pipeline:
    """Features + a balanced logistic regression over none/possible/crisis, sigmoid-calibrated."""
    base = LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000, random_state=SEED)
    return Pipeline([("features", _features()),
                     ("model", CalibratedClassifierCV(base, method="sigmoid", cv=calibration_folds))])


def category_classifier() -> Pipeline:
    return Pipeline([("features", _features()),
                     ("model", LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000,
                                                  random_state=SEED))])


class RiskModel:
    """Scores messages; `normalise` turns raw text into the detector's normalised form."""

    def __init__(self, tiers: Pipeline, categories: Pipeline, normalise: Callable[[str], str]) -> None:
        self.tiers, self.categories, self.normalise = tiers, categories, normalise
        classes = list(self.tiers.classes_)
        self._crisis, self._possible = classes.index(CRISIS), classes.index(POSSIBLE)

    @classmethod
    def train(cls, examples: Sequence[Example], normalise: Callable[[str], str]) -> "RiskModel":
        texts = [normalise(e.text) for e in examples]
        tiers = tier_classifier().fit(texts, np.array([tier_of(e.label) for e in examples]))
        crisis = [(t, e.label) for t, e in zip(texts, examples, strict=True) if e.is_crisis]
        categories = category_classifier().fit([t for t, _ in crisis], np.array([label for _, label in crisis]))
        return cls(tiers, categories, normalise)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of (risk, concern) for raw texts."""
        normalised = [self.normalise(t) for t in texts]
        proba = self.tiers.predict_proba(normalised)
        risk = proba[:, self._crisis]
        return np.stack([risk, risk + proba[:, self._possible]], axis=1)

    def score(self, text: str) -> RiskScore:
        normalised = self.normalise(text)
        proba = self.tiers.predict_proba([normalised])[0]
        category = str(self.categories.predict([normalised])[0])
        risk = float(proba[self._crisis])
        return RiskScore(risk, risk + float(proba[self._possible]), category)

    # -- persistence (inside the Rasa model archive; see bot/nlu/crisis_detector.py) ---------
    def save(self, path: Path) -> None:
        with open(path, "wb") as file:
            pickle.dump({"tiers": self.tiers, "categories": self.categories}, file)

    @classmethod
    def load(cls, path: Path, normalise: Callable[[str], str]) -> "RiskModel":
        with open(path, "rb") as file:
            parts = pickle.load(file)  # our own artifact, written by `save` during `rasa train`
        return cls(parts["tiers"], parts["categories"], normalise)


__all__ = ["RiskModel", "RiskScore", "tier_of", "tier_classifier", "CRISIS", "TIERS", "CRISIS_LABELS"]
