"""The risk model: a calibrated probability that a message is a crisis, and its likely category.

Plain scikit-learn, trained on the labelled sets of `bot.crisis.corpus` (crisis categories,
`possible` and `none`). Words and character n-grams of the detector's normalised text (slang,
leetspeak and typos already read, see normalize.py) feed a logistic regression over three classes,
calibrated by cross-validation (`CalibratedClassifierCV`), so that

    risk    = P(crisis)                 -> the clear-risk tier above `high`
    concern = P(crisis) + P(possible)   -> the possible-risk tier above `low`

A long message is scored whole and sentence by sentence: `risk` is the highest P(crisis) of the whole
and of each sentence (a plan told in the middle of a long message about a divorce is not diluted by
the rest of it); `concern` is the whole message's. Round 6: on development sets 15 and 16 this took
clear-risk recall on long messages from 0.84 to 0.93 at the same everyday alarm rate; scoring
`concern` by sentence too raised the `low` threshold and lost safety questions on crisis messages.

A second logistic regression, trained on the crisis messages only, names the likely category
(the rules name it when they fire; this is for what only the model catches).
Thresholds are not chosen here: `bot.crisis.calibrate` chooses them by cross-validation and writes
them with their figures to `risk_thresholds.yml`.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.crisis.corpus import CRISIS_LABELS, NONE, POSSIBLE, Example

CRISIS = "crisis"
SEED = 42
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


def units(text: str) -> list[str]:
    """The whole text, then its sentences when it has more than one."""
    sentences = [part.strip() for part in _SENTENCE_BREAK.split(text or "") if part.strip()]
    return [text] + (sentences if len(sentences) > 1 else [])


def scores(tiers: Pipeline, texts: Sequence[str], normalise: Callable[[str], str]) -> np.ndarray:
    """(risk, concern) per raw text, as the module docstring says: one row per text."""
    classes = list(tiers.classes_)
    crisis, possible = classes.index(CRISIS), classes.index(POSSIBLE)
    pieces = [units(text) for text in texts]
    proba = tiers.predict_proba([normalise(u) for piece in pieces for u in piece])
    out, at = np.zeros((len(texts), 2)), 0
    for row, piece in enumerate(pieces):
        block = proba[at:at + len(piece)]
        at += len(piece)
        out[row] = float(block[:, crisis].max()), float(block[0, crisis] + block[0, possible])
    return out


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
    """Features + a balanced logistic regression over none/possible/crisis, sigmoid-calibrated on
    cross-validated predictions (one model, not an ensemble of five: a message is scored in ~2 ms)."""
    base = LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000, random_state=SEED)
    return Pipeline([("features", _features()),
                     ("model", CalibratedClassifierCV(base, method="sigmoid", cv=calibration_folds,
                                                      ensemble=False))])


def category_classifier() -> Pipeline:
    return Pipeline([("features", _features()),
                     ("model", LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000,
                                                  random_state=SEED))])


class RiskModel:
    """Scores messages; `normalise` turns raw text into the detector's normalised form."""

    def __init__(self, tiers: Pipeline, categories: Pipeline, normalise: Callable[[str], str]) -> None:
        self.tiers, self.categories, self.normalise = tiers, categories, normalise

    @classmethod
    def train(cls, examples: Sequence[Example], normalise: Callable[[str], str]) -> "RiskModel":
        texts = [normalise(e.text) for e in examples]
        tiers = tier_classifier().fit(texts, np.array([tier_of(e.label) for e in examples]))
        crisis = [(t, e.label) for t, e in zip(texts, examples, strict=True) if e.is_crisis]
        categories = category_classifier().fit([t for t, _ in crisis], np.array([label for _, label in crisis]))
        return cls(tiers, categories, normalise)

    def probabilities(self, text: str) -> tuple[float, float]:
        """(risk, concern) of a raw text: P(crisis) and P(crisis) + P(possible)."""
        risk, concern = scores(self.tiers, [text], self.normalise)[0]
        return float(risk), float(concern)

    def category(self, text: str) -> str:
        """The most likely crisis category (asked only when the model alone finds a crisis)."""
        return str(self.categories.predict([self.normalise(text)])[0])

    # -- persistence (inside the Rasa model archive; see bot/nlu/crisis_detector.py) ---------
    def save(self, path: Path) -> None:
        with open(path, "wb") as file:
            pickle.dump({"tiers": self.tiers, "categories": self.categories}, file)

    @classmethod
    def load(cls, path: Path, normalise: Callable[[str], str]) -> "RiskModel":
        with open(path, "rb") as file:
            parts = pickle.load(file)  # our own artifact, written by `save` during `rasa train`
        return cls(parts["tiers"], parts["categories"], normalise)


__all__ = ["RiskModel", "tier_of", "tier_classifier", "scores", "units", "CRISIS", "CRISIS_LABELS"]
