"""Choose the risk model's two thresholds by cross-validation: `python -m bot.crisis.calibrate`.

Every training example (`bot.crisis.corpus.training_examples`) is scored by a model that did not
see it (stratified 5-fold cross-validation), and combined with the rules exactly as the triage
combines them (`bot.crisis.triage`). Then, on the everyday messages of the training part:

- `high` (clear risk) is the lowest threshold at which clear-risk alarms stay within
  `--clear-budget` (0.5%: half the 1% target, leaving room for new wording);
- `low` (possible risk: the safety question) is the lowest threshold at which safety questions stay
  within `--question-budget` (4% of the 5% target: the question is cheap, a missed crisis is not).

Recall comes from the same folds. The thresholds and the figures they give are written to
`risk_thresholds.yml` with a fingerprint of the data; a test fails when the data changed since.
The held-out quarter of the everyday corpus and the blind crisis sets are never read here.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml
from sklearn.model_selection import StratifiedKFold

from bot.crisis import corpus
from bot.crisis.corpus import Example
from bot.crisis.detector import get_detector
from bot.crisis.risk_model import SEED, scores, tier_classifier, tier_of

THRESHOLDS_FILE = Path(__file__).with_name("risk_thresholds.yml")
GRID = np.round(np.arange(0.05, 0.991, 0.01), 2)


@dataclass
class Scored:
    """Cross-validated scores and rule outcomes of the training examples."""

    examples: list[Example]
    risk: np.ndarray
    concern: np.ndarray
    rule_clear: np.ndarray
    rule_possible: np.ndarray

    def tiers(self, high: float, low: float) -> np.ndarray:
        """2 clear, 1 possible, 0 none, per example, as the triage would decide."""
        clear = self.rule_clear | (self.risk >= high)
        possible = ~clear & (self.rule_possible | (self.concern >= low))
        return np.where(clear, 2, np.where(possible, 1, 0))

    def mask(self, predicate) -> np.ndarray:
        return np.array([bool(predicate(e)) for e in self.examples])


def cross_validated(examples: Sequence[Example], folds: int = 5) -> Scored:
    detector = get_detector()
    texts = [detector.normalizer(e.text) for e in examples]
    labels = np.array([tier_of(e.label) for e in examples])
    risk, concern = np.zeros(len(texts)), np.zeros(len(texts))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for fold, (train, test) in enumerate(splitter.split(texts, labels), 1):
        print(f"[calibrate] fold {fold}/{folds}: training on {len(train)}, scoring {len(test)}", flush=True)
        model = tier_classifier().fit([texts[i] for i in train], labels[train])
        scored = scores(model, [examples[i].text for i in test], detector.normalizer)
        risk[test], concern[test] = scored[:, 0], scored[:, 1]
    both = [detector.detect_both(e.text) for e in examples]
    rule_clear = np.array([signal is not None for signal, _ in both])
    rule_possible = np.array([cue is not None for _, cue in both])
    return Scored(list(examples), risk, concern, rule_clear, rule_possible)


def _rate(values: np.ndarray) -> float:
    return round(float(values.mean()), 4) if len(values) else 0.0


def choose(scored: Scored, clear_budget: float, question_budget: float) -> tuple[float, float]:
    everyday = scored.mask(lambda e: e.topic is not None)
    high = next((t for t in GRID if _rate(scored.tiers(t, 1.01)[everyday] == 2) <= clear_budget), 0.99)
    low = next((t for t in GRID if t < high and _rate(scored.tiers(high, t)[everyday] == 1) <= question_budget),
               high)
    return float(high), float(low)


def figures(scored: Scored, high: float, low: float) -> dict:
    tiers = scored.tiers(high, low)
    model_only = Scored(scored.examples, scored.risk, scored.concern,
                        np.zeros_like(scored.rule_clear), np.zeros_like(scored.rule_possible)).tiers(high, low)
    crisis = scored.mask(lambda e: e.is_crisis)
    possible = scored.mask(lambda e: e.label == corpus.POSSIBLE)
    everyday = scored.mask(lambda e: e.topic is not None)
    hard = scored.mask(lambda e: e.label == corpus.NONE and e.topic is None)
    return {
        "crisis messages": int(crisis.sum()),
        "recall, clear risk": _rate(tiers[crisis] == 2),
        "recall, clear or possible": _rate(tiers[crisis] >= 1),
        "model alone, recall clear": _rate(model_only[crisis] == 2),
        "model alone, recall clear or possible": _rate(model_only[crisis] >= 1),
        "possible-risk messages": int(possible.sum()),
        "possible-risk messages asked or handed off": _rate(tiers[possible] >= 1),
        "everyday messages": int(everyday.sum()),
        "everyday, clear-risk alarms": _rate(tiers[everyday] == 2),
        "everyday, safety questions": _rate(tiers[everyday] == 1),
        "hard negatives": int(hard.sum()),
        "hard negatives, clear-risk alarms": _rate(tiers[hard] == 2),
        "hard negatives, safety questions": _rate(tiers[hard] == 1),
    }


def write(high: float, low: float, numbers: dict, args: argparse.Namespace, path: Path = THRESHOLDS_FILE) -> None:
    header = (
        "# The risk model's thresholds, chosen by `python -m bot.crisis.calibrate` (make calibrate).\n"
        "# Do not edit by hand: change the data or the budgets and run it again. The figures are\n"
        "# cross-validated on the training data (5 folds) with the rules, as the triage combines them.\n"
    )
    data = {
        "fingerprint": corpus.fingerprint(),
        "chosen_on": date.today().isoformat(),
        "high": high,
        "low": low,
        "budgets": {"everyday clear-risk alarms": args.clear_budget, "everyday safety questions": args.question_budget},
        "figures": numbers,
    }
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clear-budget", type=float, default=0.005)
    parser.add_argument("--question-budget", type=float, default=0.04)
    parser.add_argument("--check", action="store_true", help="only check that the file matches the data")
    args = parser.parse_args(argv)
    if args.check:
        current = load_thresholds()["fingerprint"]
        if current != corpus.fingerprint():
            print("[calibrate] the training data changed since the thresholds were chosen: run `make calibrate`")
            return 1
        print("[calibrate] thresholds match the training data")
        return 0
    scored = cross_validated(corpus.training_examples())
    high, low = choose(scored, args.clear_budget, args.question_budget)
    numbers = figures(scored, high, low)
    write(high, low, numbers, args)
    print(f"[calibrate] high={high} low={low}")
    for key, value in numbers.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
