"""Evaluate the crisis detector on a labelled set: `python -m bot.crisis.evaluate [--set PATH]`.

Prints recall per category (a positive counts as caught when any crisis is detected; the category
agreement is shown beside it), overall recall, specificity on the `none` messages, the median
time per message, and lists every miss and every false alarm. Exits 1 when recall is below 100%
or specificity below 95% (the thresholds can be changed with --min-recall/--min-specificity).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import PROJECT_ROOT
from bot.crisis.detector import CATEGORIES, CrisisDetector, CrisisSignal, get_detector

DEFAULT_SET = PROJECT_ROOT / "tests" / "data" / "crisis_eval.yml"
LABELS = (*CATEGORIES, "none")


@dataclass(frozen=True)
class Outcome:
    text: str
    label: str
    signal: CrisisSignal | None
    seconds: float


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome]

    def positives(self, category: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.label != "none" and category in (None, o.label)]

    @property
    def negatives(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.label == "none"]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.positives() if o.signal is None]

    @property
    def false_alarms(self) -> list[Outcome]:
        return [o for o in self.negatives if o.signal is not None]

    def recall(self, category: str | None = None) -> float:
        positives = self.positives(category)
        return _ratio(sum(o.signal is not None for o in positives), len(positives))

    def category_agreement(self, category: str | None = None) -> float:
        positives = self.positives(category)
        return _ratio(sum(o.signal is not None and o.signal.category == o.label for o in positives),
                      len(positives))

    @property
    def specificity(self) -> float:
        return _ratio(sum(o.signal is None for o in self.negatives), len(self.negatives))

    @property
    def median_ms(self) -> float:
        return statistics.median(o.seconds for o in self.outcomes) * 1000 if self.outcomes else 0.0


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def load_set(path: Path | str) -> list[dict[str, str]]:
    """The labelled messages of a YAML set (`- text: ...` / `label: ...`), checked."""
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    for item in items:
        if item.get("label") not in LABELS or not isinstance(item.get("text"), str):
            raise ValueError(f"{path}: bad item {item!r}; labels are {', '.join(LABELS)}")
    return items


def evaluate(items: list[dict[str, str]], detector: CrisisDetector | None = None) -> Report:
    """Run the detector over the labelled items."""
    detector = detector or get_detector()
    outcomes = []
    for item in items:
        started = time.perf_counter()
        signal = detector.detect(item["text"])
        outcomes.append(Outcome(item["text"], item["label"], signal, time.perf_counter() - started))
    return Report(outcomes)


def format_report(report: Report, name: str) -> str:
    lines = [f"Crisis detector on {name}: {len(report.positives())} crisis messages, "
             f"{len(report.negatives)} others", "",
             f"{'category':<16}{'n':>5}{'recall':>9}{'category agrees':>18}"]
    for category in CATEGORIES:
        lines.append(f"{category:<16}{len(report.positives(category)):>5}"
                     f"{report.recall(category):>9.1%}{report.category_agreement(category):>18.1%}")
    lines += [f"{'all':<16}{len(report.positives()):>5}{report.recall():>9.1%}"
              f"{report.category_agreement():>18.1%}",
              f"specificity: {report.specificity:.1%} on {len(report.negatives)} non-crisis messages",
              f"median time per message: {report.median_ms:.2f} ms", ""]
    lines.append(f"Misses ({len(report.misses)}):")
    lines += [f"  [{o.label}] {o.text}" for o in report.misses] or ["  none"]
    lines.append(f"False alarms ({len(report.false_alarms)}):")
    lines += [f"  [{o.signal.category}: {o.signal.phrase!r}] {o.text}"
              for o in report.false_alarms] or ["  none"]
    mismatched = [o for o in report.positives() if o.signal and o.signal.category != o.label]
    lines.append(f"Caught under another category ({len(mismatched)}):")
    lines += [f"  [{o.label} -> {o.signal.category}: {o.signal.phrase!r}] {o.text}"
              for o in mismatched] or ["  none"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="path", default=str(DEFAULT_SET), help="labelled YAML set")
    parser.add_argument("--min-recall", type=float, default=1.0)
    parser.add_argument("--min-specificity", type=float, default=0.95)
    args = parser.parse_args(argv)
    report = evaluate(load_set(args.path))
    print(format_report(report, args.path))
    passed = report.recall() >= args.min_recall and report.specificity >= args.min_specificity
    print("\nPASS" if passed else f"\nFAIL: needs recall >= {args.min_recall:.0%} and "
          f"specificity >= {args.min_specificity:.0%}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
