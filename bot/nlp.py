"""The project's spaCy pipeline: blank English plus the lookup lemmatizer.

No pretrained model can be downloaded, so set-up builds this pipeline into a git-ignored folder
(`var/spacy/en_ipt`); Rasa's SpacyNLP loads it from there and the crisis detector shares it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language

from bot.settings import get_settings


def pipeline_dir() -> Path:
    """Where the built pipeline lives (`SPACY_PIPELINE_DIR` overrides the default)."""
    return get_settings().spacy_pipeline_dir


def build_pipeline() -> Language:
    """A blank English pipeline with the lookup lemmatizer of spacy-lookups-data."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def save_pipeline(path: Path | None = None) -> Path:
    """Build the pipeline and write it to `path` (default: `pipeline_dir()`)."""
    target = Path(path or pipeline_dir())
    target.parent.mkdir(parents=True, exist_ok=True)
    build_pipeline().to_disk(target)
    return target


@lru_cache(maxsize=4)
def load_pipeline(path: str | None = None) -> Language:
    """Load the built pipeline, building it in memory when set-up has not run yet."""
    target = Path(path) if path else pipeline_dir()
    if (target / "config.cfg").exists():
        return spacy.load(target)
    return build_pipeline()
