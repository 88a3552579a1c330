"""The IPT assistant's core: plain Python, importable and testable without a running Rasa."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
