"""The safety triage measured end to end: every labelled message through the trained model's whole NLU
pipeline (tokens, DIET, the fallback, the triage), as a person's message would go.

    python -m bot.crisis.evaluate_pipeline --model models/ipt-....tar.gz [--enforce]

For each set it reports, on crisis messages, recall counting the clear tier and counting clear or
possible; on everyday messages (and a set's `none` messages), the rate of clear-risk alarms and of
safety questions; and lists every miss and every alarm. The main sets are the blind crisis sets and
the held-out quarter of the everyday corpus (bot/crisis/corpus.py); nothing here is tuned on them.
`--enforce` exits 1 when a main set falls below the floors in `FLOORS` (make test runs it).
Results go to results/triage_eval.md.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from bot import PROJECT_ROOT
from bot.crisis import corpus
from bot.crisis.corpus import Example
from bot.crisis.triage import CLEAR, NONE, POSSIBLE

TIER_OF_INTENT = {"crisis": CLEAR, "possible_risk": POSSIBLE}
# The targets on held-out data, and the floors `make test` enforces today (see docs: the
# floors are below the targets where the product does not reach them yet, and only ever go up).
TARGETS = {"recall_clear_or_possible": 0.99, "recall_clear": 0.90, "everyday_clear": 0.01, "everyday_question": 0.05}
FLOORS = {"recall_clear_or_possible": 0.90, "recall_clear": 0.75, "everyday_clear": 0.01, "everyday_question": 0.05}
RESULTS = PROJECT_ROOT / "results" / "triage_eval.md"


@dataclass
class Outcome:
    example: Example
    tier: str
    intent: str


@dataclass
class SetReport:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def _crisis(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.example.is_crisis]

    def _others(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.example.is_crisis and o.example.label != corpus.POSSIBLE]

    @staticmethod
    def _share(items: Sequence[Outcome], tiers: Iterable[str]) -> float:
        tiers = set(tiers)
        return sum(o.tier in tiers for o in items) / len(items) if items else float("nan")

    @property
    def recall_clear(self) -> float:
        return self._share(self._crisis(), [CLEAR])

    @property
    def recall_clear_or_possible(self) -> float:
        return self._share(self._crisis(), [CLEAR, POSSIBLE])

    @property
    def clear_alarms(self) -> float:
        return self._share(self._others(), [CLEAR])

    @property
    def questions(self) -> float:
        return self._share(self._others(), [POSSIBLE])

    def lines(self) -> list[str]:
        crisis, others = self._crisis(), self._others()
        out = [f"## {self.name}", ""]
        if crisis:
            out.append(f"- crisis messages: {len(crisis)}; recall, clear risk: {self.recall_clear:.3f}; "
                       f"recall, clear or possible: {self.recall_clear_or_possible:.3f}")
        if others:
            out.append(f"- other messages: {len(others)}; clear-risk alarms: {self.clear_alarms:.3f}; "
                       f"safety questions: {self.questions:.3f}")
        misses = [o for o in crisis if o.tier == NONE]
        asked = [o for o in crisis if o.tier == POSSIBLE]
        alarms = [o for o in others if o.tier != NONE]
        out += ["", f"Missed ({len(misses)}):"] + [f"- [{o.example.label}] {o.example.text}" for o in misses]
        out += ["", f"Only asked the safety question ({len(asked)}):"]
        out += [f"- [{o.example.label}] {o.example.text}" for o in asked]
        out += ["", f"Alarms on messages without risk ({len(alarms)}):"]
        out += [f"- [{o.tier}] {o.example.text}" for o in alarms] + [""]
        return out


async def _classify(agent, examples: Sequence[Example]) -> list[Outcome]:
    outcomes = []
    for example in examples:
        parsed = await agent.parse_message(example.text)
        intent = (parsed.get("intent") or {}).get("name") or ""
        outcomes.append(Outcome(example, TIER_OF_INTENT.get(intent, NONE), intent))
    return outcomes


def main_sets() -> dict[str, list[Example]]:
    return {**corpus.blind_sets(), "everyday (held-out quarter)": corpus.everyday(held_out=True),
            **corpus.everyday_blind_sets()}


def training_sets() -> dict[str, list[Example]]:
    sets = {path.name: corpus.load(path) for path in corpus.paths(corpus.TRAINING_SETS)}
    sets["everyday (training part)"] = corpus.everyday(held_out=False)
    return sets


def evaluate(model: str, sets: dict[str, list[Example]]) -> list[SetReport]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    reports = []
    for name, examples in sets.items():
        started = time.monotonic()
        print(f"[eval] {name}: {len(examples)} messages", flush=True)
        reports.append(SetReport(name, asyncio.run(_classify(agent, examples))))
        print(f"[eval]   {time.monotonic() - started:.0f} s", flush=True)
    return reports


def combined(reports: Sequence[SetReport]) -> dict[str, float]:
    crisis = SetReport("all blind crisis sets", [o for r in reports if r.name.startswith("crisis_blind")
                                                 for o in r.outcomes])
    everyday = SetReport("all everyday sets", [o for r in reports if r.name.startswith("everyday")
                                               for o in r.outcomes])
    return {"recall_clear_or_possible": crisis.recall_clear_or_possible, "recall_clear": crisis.recall_clear,
            "everyday_clear": everyday.clear_alarms, "everyday_question": everyday.questions}


def failures(figures: dict[str, float], floors: dict[str, float]) -> list[str]:
    bad = []
    for key, floor in floors.items():
        value = figures[key]
        worse = value > floor if key.startswith("everyday") else value < floor
        if worse:
            bad.append(f"{key} = {value:.3f} (floor {floor})")
    return bad


def write(reports: Sequence[SetReport], figures: dict[str, float], unseen: dict[str, float] | None = None,
          path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    unseen = unseen or {}
    lines = ["# Safety triage, end to end through the trained model", "",
             f"Unseen sets (first run of this round): {', '.join(corpus.UNSEEN)}.", "",
             "| figure | main sets | unseen sets | target | enforced floor (main sets) |", "|---|---|---|---|---|"]
    lines += [f"| {key} | {value:.3f} | {unseen.get(key, float('nan')):.3f} | {TARGETS[key]} | {FLOORS[key]} |"
              for key, value in figures.items()]
    lines.append("")
    for report in reports:
        lines += report.lines()
    path.write_text("\n".join(lines), encoding="utf-8")


def quiet_rasa_logs() -> None:
    """Rasa's debug lines carry each message's text: keep them out of the output (warnings only)."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--training", action="store_true", help="also the training sets (not blind)")
    parser.add_argument("--enforce", action="store_true", help="exit 1 below the floors on the main sets")
    args = parser.parse_args(argv)
    quiet_rasa_logs()
    sets = main_sets() | (training_sets() if args.training else {})
    reports = evaluate(args.model, sets)
    figures = combined(reports)
    unseen = combined([r for r in reports if r.name in corpus.UNSEEN])
    write(reports, figures, unseen)
    for report in reports:
        print("\n".join(report.lines()[:4]))
    print("[eval] main sets: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    print("[eval] unseen sets (" + ", ".join(corpus.UNSEEN) + "): "
          + ", ".join(f"{k} {v:.3f}" for k, v in unseen.items()))
    print(f"[eval] details: {RESULTS.relative_to(PROJECT_ROOT)}")
    bad = failures(figures, FLOORS)
    if args.enforce and bad:
        print("[eval] FAIL: " + "; ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
