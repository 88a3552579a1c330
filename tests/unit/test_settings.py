"""bot/settings.py: one typed home for every environment variable (issue 16)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot import PROJECT_ROOT
from bot.settings import DOC_PATH, Settings, SettingsError, configuration_doc, get_settings

# Modules that may still touch os.environ, and why (everything else reads bot/settings.py).
ENVIRON_ALLOWED = {
    "bot/settings.py": "reads the environment",
    "bot/runner.py": "hands its environment to the processes it starts",
}
_READS = re.compile(r"\bos\.environ\b|\bgetenv\b|from os import .*environ")


@pytest.mark.parametrize("name, value", [
    ("RASA_PORT", "fifty"), ("MAX_MESSAGE_CHARS", "0"), ("SMTP_STARTTLS", "perhaps"),
    ("STAFF_COOKIE_SECURE", "sometimes"), ("CRISIS_LOCALE", "XX"), ("CLINIC_HOURS", "weekdays"),
    ("HANDOFF_ESCALATE_AFTER_MINUTES", "soon"), ("RETENTION_DAYS", "-1"), ("LOG_MESSAGE_TEXT", "yes please"),
])
def test_a_bad_value_is_an_error_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        get_settings()


def test_a_bad_value_stops_start_up_with_the_variable_named():
    env = {"PATH": "/usr/bin:/bin", "HOME": str(PROJECT_ROOT), "SMTP_PORT": "twenty-five"}
    done = subprocess.run([sys.executable, "-m", "bot.settings"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "SMTP_PORT='twenty-five' is not a whole number" in done.stderr


def test_empty_means_unset_and_values_are_typed(monkeypatch):
    settings = Settings.from_environ({"WEB_PORT": "9000", "PUBLIC_WEB_URL": " ", "NOTIFIER_ENABLED": "no",
                                      "STAFF_COOKIE_SECURE": "YES", "HANDOFF_ESCALATE_AFTER_MINUTES": " 25 "})
    assert settings.web_url == "http://localhost:9000" and settings.notifier_enabled is False
    assert settings.staff_cookie_secure == "true" and settings.handoff_escalate_after_minutes == 25
    assert Settings.from_environ({"PUBLIC_WEB_URL": "https://a.example/"}).web_url == "https://a.example"


def test_settings_are_read_once_until_cleared(monkeypatch):
    monkeypatch.setenv("WEB_PORT", "8123")
    first = get_settings()
    assert get_settings() is first and first.web_port == 8123
    monkeypatch.setenv("WEB_PORT", "8124")  # tests/conftest.py clears the cache on every setenv
    assert get_settings().web_port == 8124


def test_secrets_are_hidden_and_undeclared_names_refused():
    settings = Settings.from_environ({"STAFF_API_TOKEN": "t0ken"})
    assert "t0ken" not in repr(settings) and settings.value("STAFF_API_TOKEN") == "t0ken"
    with pytest.raises(KeyError, match="declare it"):
        settings.value("NOT_A_SETTING")


def test_the_configuration_guide_is_up_to_date():
    assert DOC_PATH.read_text(encoding="utf-8") == configuration_doc(), \
        "docs/operators/configuration.md is out of date: run `python -m bot.settings --write-doc`"
    for name, field in Settings.__fields__.items():
        assert field.field_info.description and field.field_info.extra.get("group"), name


def test_no_module_reads_the_environment_but_the_settings():
    readers = sorted(str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "bot").rglob("*.py")
                     if _READS.search(path.read_text(encoding="utf-8")))
    unexpected = [path for path in readers if path not in ENVIRON_ALLOWED]
    assert not unexpected, f"read the environment through bot/settings.py instead: {unexpected}"


def test_the_runner_and_the_action_server_refuse_to_start_with_a_bad_value(monkeypatch, capsys):
    from bot.action_server import main as action_server
    from bot.deploy.rasa_launcher import main as rasa_launcher
    from bot.runner import main as runner

    monkeypatch.setenv("STAFF_IDLE_MINUTES", "half an hour")
    assert runner(["--model", "models/none.tar.gz"]) == 2
    assert action_server([]) == 2
    assert capsys.readouterr().err.count("STAFF_IDLE_MINUTES='half an hour' is not a number") == 2
    with pytest.raises(SystemExit, match="STAFF_IDLE_MINUTES"):
        rasa_launcher(["run"])
