"""scripts/progress.py (progress lines for `make train` and set-up) and scripts/train_logging.yml (which Rasa
lines reach it during training), on short stand-in commands: no training here."""
import inspect
import re
import subprocess
import sys

import rasa.engine.training.hooks

from bot import PROJECT_ROOT

PROGRESS = [sys.executable, str(PROJECT_ROOT / "scripts" / "progress.py")]
STAND_IN = """
import sys, time
print("Starting to train component 'DIETClassifier'.", flush=True)
time.sleep(0.8)
print("Finished training component 'DIETClassifier'.")
print("Collecting six")
print("noise", flush=True)
print("a warning", file=sys.stderr)
time.sleep(0.2)
sys.exit(3)
"""


def run(*options: str, code: str = STAND_IN) -> subprocess.CompletedProcess:
    return subprocess.run([*PROGRESS, "train", "--every", "0.3", *options, "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=60)


def test_the_stage_and_the_elapsed_time_are_shown_and_the_status_kept():
    result = run("--initially", "reading the data", "--stage", r"Starting to train component '(\w+)'",
                 "--stage-text", "training {0}", "--hide", "^Finished training component")
    lines = result.stdout.splitlines()
    assert result.returncode == 3
    assert re.fullmatch(r"\[train\] training DIETClassifier \(\d+ s\)", lines[0])
    assert any(re.fullmatch(r"\[train\] \d+ s: still training DIETClassifier", line) for line in lines)  # ticks
    assert "Collecting six" in lines and "noise" in lines
    assert not any("Finished" in line or "Starting" in line for line in lines)
    assert result.stderr.strip() == "a warning"  # standard error is never filtered


def test_keep_passes_only_the_lines_asked_for():
    result = run("--keep", "^Collecting")
    assert [line for line in result.stdout.splitlines() if not line.startswith("[train]")] == ["Collecting six"]
    assert "a warning" in result.stderr


def test_a_quiet_command_gets_a_line_every_period_and_its_success_passes_through():
    result = run("--initially", "waiting", code="import time; time.sleep(1.1)")
    ticks = [line for line in result.stdout.splitlines() if line.startswith("[train]") and "still waiting" in line]
    assert result.returncode == 0 and 2 <= len(ticks) <= 10


def test_without_a_command_it_says_so():
    result = subprocess.run([*PROGRESS, "train"], capture_output=True, text=True)
    assert result.returncode == 2 and "no command given" in result.stderr


def test_training_shows_only_the_component_lines_and_keeps_rasa_quiet():
    """The logging file of scripts/train.sh under Rasa's own set-up with --quiet (WARNING)."""
    code = """
import logging
import rasa.shared.utils.io
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.io import configure_colored_logging
configure_logging_and_warnings(logging.WARNING, "scripts/train_logging.yml")
configure_colored_logging(logging.WARNING)
logging.getLogger("rasa.engine.training.hooks").info("Starting to train component 'TEDPolicy'.")
logging.getLogger("rasa.engine.training.graph_trainer").info("other information")
logging.getLogger("rasa.model_training").warning("a warning")
print("progress bars off:", rasa.shared.utils.io.is_logging_disabled())
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.splitlines() == ["Starting to train component 'TEDPolicy'.", "progress bars off: True"]
    assert "a warning" in result.stderr and "other information" not in result.stderr
    # the line train.sh turns into the stage is the one Rasa's training hook writes
    assert "Starting to train component '{node.uses.__name__}'." in inspect.getsource(rasa.engine.training.hooks)
    assert "Starting to train component '(\\w+)'" in (PROJECT_ROOT / "scripts" / "train.sh").read_text()
