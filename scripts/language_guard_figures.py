"""The language guard's figures: false "other language" on the English everyday sets, recall on
tests/data/other_languages.yml, the time it adds per message and the memory its detector takes.

    .venv/bin/python -m scripts.language_guard_figures                 # the detector's rules alone
    .venv/bin/python -m scripts.language_guard_figures --model PATH    # the whole NLU pipeline too

Prints counts only, never message text. Not loaded at run time.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.nlu import language_guard
from bot.nlu.language_guard import detect_other_language


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def detector_figures(english: list[str], other: list[dict]) -> None:
    before = _rss_mb()
    started = time.perf_counter()
    detector = language_guard._Detector.get()
    for entry in other:  # lingua loads each language's model on first need: load them all
        detector.compute_language_confidence_values(entry["text"])
    built = time.perf_counter() - started
    print(f"detector: built and all models loaded in {built:.2f} s, memory +{_rss_mb() - before:.0f} MB (resident)")
    timings = []
    for text in english:
        started = time.perf_counter()
        detector.compute_language_confidence_values(text)
        timings.append(time.perf_counter() - started)
    print(f"the detector alone on every English message: median {1000 * statistics.median(timings):.3f} ms, "
          f"max {1000 * max(timings):.3f} ms")
    timings, flagged = [], 0
    for text in english:
        started = time.perf_counter()
        flagged += detect_other_language(text) is not None
        timings.append(time.perf_counter() - started)
    print(f"English everyday sets: {flagged} of {len(english)} flagged ({100 * flagged / len(english):.2f}%)")
    print("the guard per message (most English stops before the detector): "
          f"median {1000 * statistics.median(timings):.3f} ms, "
          f"p99 {1000 * sorted(timings)[int(0.99 * len(timings))]:.3f} ms, max {1000 * max(timings):.3f} ms")
    right = sum(detect_other_language(entry["text"]) == entry["lang"] for entry in other)
    wrong = sum(detect_other_language(entry["text"]) not in (None, entry["lang"]) for entry in other)
    print(f"other languages: {right} of {len(other)} flagged with the right language, {wrong} with a wrong one")


def pipeline_figures(model: str, english: list[str], other: list[dict]) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def intents(texts: list[str]) -> list[dict]:
        return [await agent.parse_message(text) for text in texts]

    english_parsed = asyncio.run(intents(english))
    flagged = sum(p["intent"]["name"] == "other_language" for p in english_parsed)
    print(f"pipeline, English everyday sets: {flagged} of {len(english)} answered as another language "
          f"({100 * flagged / len(english):.2f}%)")
    other_parsed = asyncio.run(intents([entry["text"] for entry in other]))
    right = sum(p["intent"]["name"] == "other_language"
                and any(e.get("value") == entry["lang"] for e in p.get("entities") or [])
                for p, entry in zip(other_parsed, other, strict=True))
    crisis = sum(p["intent"]["name"] in ("crisis", "possible_risk") for p in other_parsed)
    print(f"pipeline, other languages: {right} of {len(other)} answered in their language "
          f"({crisis} read as a risk by the English-only triage)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a trained model archive: also run the whole NLU pipeline")
    args = parser.parse_args()
    from tests.unit.test_language_guard import NOT_ENGLISH, OTHER, english_texts

    english = english_texts()
    print(f"({len(NOT_ENGLISH)} non-English entries of the everyday sets left out of the English count)")
    detector_figures(english, OTHER)
    if args.model:
        pipeline_figures(args.model, english, OTHER)


if __name__ == "__main__":
    main()
