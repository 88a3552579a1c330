"""`make audit` (scripts/audit.py): it passes only when every pinned package was checked, and says so
plainly, exiting non-zero, when the advisory databases could not be reached."""
import json
import re
import stat
import sys

from bot import PROJECT_ROOT
from scripts.audit import CLEAN, FOUND, UNREACHABLE, main, verdict

ALL_SKIPPED = json.dumps({"dependencies": [  # what pip-audit 2.10 writes here, exit 0, "No known vulnerabilities found"
    {"name": "absl-py", "skip_reason": "Dependency not found on PyPI and could not be audited: absl-py (1.4.0)"},
    {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI and could not be audited: aiohttp (3.9.5)"}],
    "fixes": []})
OSV_DOWN = ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries "
            "exceeded with url: /v1/query (Caused by NameResolutionError(...))")
FOUND_REPORT = json.dumps({"dependencies": [
    {"name": "aiohttp", "version": "3.9.5", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.10.11"]}]},
    {"name": "absl-py", "version": "1.4.0", "vulns": []}]})
CLEAN_REPORT = json.dumps({"dependencies": [{"name": "absl-py", "version": "1.4.0", "vulns": []}]})


def test_a_run_that_checked_nothing_is_not_a_pass():
    code, message = verdict(0, ALL_SKIPPED, "No known vulnerabilities found")
    assert code == UNREACHABLE and message.startswith("AUDIT INCOMPLETE: 2 of 2")


def test_an_unreachable_database_is_said_plainly():
    code, message = verdict(1, "", OSV_DOWN, "osv")
    assert code == UNREACHABLE and message.startswith("AUDIT DID NOT RUN: the advisory database could not be reached")
    assert verdict(1, "", "something else broke")[0] == UNREACHABLE


def test_advisories_are_listed_with_their_fixes_and_a_clean_run_passes():
    code, message = verdict(1, FOUND_REPORT, "")
    assert code == FOUND and "aiohttp 3.9.5: GHSA-xxxx (fixed in 3.10.11)" in message and "absl" not in message
    assert verdict(0, CLEAN_REPORT, "")[0] == CLEAN


def stand_in_pip_audit(tmp_path, report: str, exit_code: int = 0):
    """An executable that behaves like pip-audit: writes `report` to the -o file."""
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv\n"
                      f"open(args[args.index('-o') + 1], 'w').write({report!r})\nsys.exit({exit_code})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_the_command_exits_non_zero_when_nothing_could_be_checked(tmp_path, capsys):
    assert main(["--pip-audit", stand_in_pip_audit(tmp_path, ALL_SKIPPED)]) == UNREACHABLE
    assert "AUDIT INCOMPLETE" in capsys.readouterr().err
    assert main(["--pip-audit", str(tmp_path / "missing")]) == UNREACHABLE
    assert main(["--pip-audit", stand_in_pip_audit(tmp_path, CLEAN_REPORT)]) == CLEAN


def test_make_audit_exists_and_is_not_part_of_make_test():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^audit: .*##", makefile, re.M) and "-m scripts.audit" in makefile
    test_line = re.search(r"^test: (.*?)##", makefile, re.M).group(1)
    assert "audit" not in test_line.split()
