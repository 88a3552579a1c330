"""The labelled message sets behind the risk model and its evaluation, and how they are split.

- Crisis sets (`label`: a crisis category, `possible`, or `none`; optional `speaker`):
  `TRAINING_SETS` are what the rules and the risk model are tuned and trained on;
  `BLIND_SETS` were written by other authors before the tiers existed and are never trained on.
- The everyday corpus (`tests/data/everyday/*.yml`, `text` + `topic`): what people in an IPT
  conversation write, with no risk. A quarter of it is held out, chosen by a hash of the text
  (`is_held_out`), so the split does not depend on file order and cannot be picked by hand.
"""
from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import yaml

from bot import PROJECT_ROOT

CRISIS_LABELS = ("suicide", "self_harm", "overdose", "harm_to_others", "abuse")
POSSIBLE, NONE = "possible", "none"
TRAINING_SETS = ("tests/data/crisis_eval.yml", "tests/data/crisis_heldout*.yml", "bot/crisis/training/*.yml")
BLIND_SETS = ("tests/data/crisis_blind*.yml",)
EVERYDAY = "tests/data/everyday/*.yml"
EVERYDAY_BLIND = ("tests/data/everyday_blind*.yml",)  # later everyday sets, blind as a whole
# The blind sets written for the latest round of changes and not yet run: the honest first-run figures come
# from them alone. Once their first run is reported they join the others (which earlier rounds have looked at:
# still never trained on, but no longer unseen) and new sets are written before the next round.
UNSEEN = ("crisis_blind17.yml", "crisis_blind18.yml", "everyday_blind7.yml")
HELD_OUT_SHARE = 4  # one in four everyday messages is held out


@dataclass(frozen=True)
class Example:
    """One labelled message and the file it came from."""

    text: str
    label: str
    source: str
    speaker: Optional[str] = None
    topic: Optional[str] = None

    @property
    def is_crisis(self) -> bool:
        return self.label in CRISIS_LABELS


def paths(patterns: Iterable[str], root: Path = PROJECT_ROOT) -> list[Path]:
    """The files matching the glob patterns (relative to the project), sorted, each once."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        for name in sorted(glob.glob(str(root / pattern))):
            found.setdefault(name, Path(name))
    return list(found.values())


def load(path: Path, default_label: str = NONE) -> list[Example]:
    """The examples of one YAML list of {text, label?, speaker?, topic?}."""
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [Example(str(item["text"]), str(item.get("label", default_label)), Path(path).name,
                    item.get("speaker"), item.get("topic")) for item in items]


def is_held_out(text: str) -> bool:
    """Whether an everyday message belongs to the held-out quarter (by a hash of its text)."""
    digest = hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).digest()
    return digest[0] % HELD_OUT_SHARE == 0


def everyday(held_out: Optional[bool] = None, root: Path = PROJECT_ROOT) -> list[Example]:
    """The everyday corpus: all of it, only the held-out quarter (True) or only the rest (False)."""
    examples = [e for path in paths([EVERYDAY], root) for e in load(path)]
    return [e for e in examples if held_out is None or is_held_out(e.text) == held_out]


def training_examples(root: Path = PROJECT_ROOT) -> list[Example]:
    """Everything the risk model may learn from: the training crisis sets and the everyday rest."""
    return [e for path in paths(TRAINING_SETS, root) for e in load(path)] + everyday(held_out=False, root=root)


def blind_sets(root: Path = PROJECT_ROOT) -> dict[str, list[Example]]:
    return {path.name: load(path) for path in paths(BLIND_SETS, root)}


def everyday_blind_sets(root: Path = PROJECT_ROOT) -> dict[str, list[Example]]:
    return {path.name: load(path) for path in paths(EVERYDAY_BLIND, root)}


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A hash of every file the risk model is trained on (the thresholds must be chosen again when it changes)."""
    digest = hashlib.sha256()
    for path in paths((*TRAINING_SETS, EVERYDAY), root):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
