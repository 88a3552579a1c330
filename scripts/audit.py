"""`make audit`: pip-audit of requirements.lock, for a clinic's CI that can reach the advisory databases.

pip-audit runs from its own virtual environment (var/audit-venv), so the app's lock is unchanged. It
says "No known vulnerabilities found" and exits 0 even when it could audit nothing at all (every
package skipped because the advisory service did not answer), so this script reads its JSON report
and exits:

  0  every pinned package was checked and none has a known advisory
  1  advisories found (listed; docs/security-advisories.md says which apply and the mitigation)
  2  the audit did not run: the advisory database (AUDIT_SERVICE: pypi or osv) was unreachable, or
     some packages could not be checked; nothing is claimed about them

Usage: python -m scripts.audit [--lock requirements.lock] [--pip-audit var/audit-venv/bin/pip-audit]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

UNREACHABLE, FOUND, CLEAN = 2, 1, 0
NETWORK_WORDS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out",
                 "Temporary failure in name resolution", "Connection refused", "Network is unreachable")


def verdict(returncode: int, report: str, stderr: str, service: str = "pypi") -> tuple[int, str]:
    """(exit code, message) for one pip-audit run: its exit code, JSON report and error output."""
    try:
        dependencies = json.loads(report)["dependencies"] if report.strip() else None
    except (ValueError, KeyError, TypeError):
        dependencies = None
    if dependencies is None:
        why = ("the advisory database could not be reached" if any(w in stderr for w in NETWORK_WORDS)
               else f"pip-audit failed (exit {returncode})")
        last = stderr.strip().splitlines()[-1:] or [""]
        return UNREACHABLE, f"AUDIT DID NOT RUN: {why} (service: {service}). {last[0][:300]}"
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    lines = [f"{d['name']} {d.get('version', '')}: " + ", ".join(
        v["id"] + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
        for v in d["vulns"]) for d in vulnerable]
    if skipped:
        head = (f"AUDIT INCOMPLETE: {len(skipped)} of {len(dependencies)} pinned packages could not be checked "
                f"(the advisory database, service {service}, did not answer for them: unreachable from this "
                "machine?). Nothing is claimed about them.")
        example = f" First: {skipped[0]['name']}: {skipped[0]['skip_reason']}"
        return UNREACHABLE, "\n".join([head + example, *lines])
    if vulnerable:
        return FOUND, "\n".join([f"{len(vulnerable)} pinned packages have known advisories "
                                 "(see docs/security-advisories.md for which apply and the mitigation):", *lines])
    return CLEAN, f"All {len(dependencies)} pinned packages checked ({service}): no known advisories."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", default="requirements.lock")
    parser.add_argument("--pip-audit", default="var/audit-venv/bin/pip-audit")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    if not Path(args.pip_audit).exists():
        print(f"AUDIT DID NOT RUN: {args.pip_audit} is missing (pip-audit could not be installed).", file=sys.stderr)
        return UNREACHABLE
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [args.pip_audit, "-r", args.lock, "--no-deps", "--disable-pip", "--progress-spinner", "off",
                   "-s", service, "-f", "json", "-o", str(report_path)]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"AUDIT DID NOT RUN: pip-audit took longer than {args.timeout:.0f} s "
                  f"(service {service} unreachable?)", file=sys.stderr)
            return UNREACHABLE
        report = report_path.read_text() if report_path.exists() else ""
    code, message = verdict(run.returncode, report, run.stderr, service)
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
