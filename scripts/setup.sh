#!/usr/bin/env bash
# Set-up: a Python 3.10 virtual environment with the locked dependencies, and the spaCy pipeline.
# Idempotent: each step is skipped when its inputs have not changed (stamps under .venv and var/).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10.*/bin/python; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  if ! PY=$(find_python310); then
    cat >&2 <<'MSG'
[setup] Python 3.10 was not found. Rasa 3.6 runs only on Python 3.10.
        Install it with one of:
          pyenv install 3.10          (then run this again)
          apt-get install python3.10 python3.10-venv
        or point PYTHON310 at a Python 3.10 interpreter: PYTHON310=/path/to/python3.10 make run
MSG
    exit 1
  fi
  say "creating the virtual environment with $PY"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

LOCK_SUM=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat "$VENV/.lock-sha" 2>/dev/null)" != "$LOCK_SUM" ]; then
  say "installing the locked dependencies (first time: about 3 minutes, 2.7 GB)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -q "pip<24.1"
  # Shows what is being collected, then the time every 30 s while pip installs (scripts/progress.py).
  "$VENV/bin/python" scripts/progress.py setup --initially "collecting the packages" --keep '^(Collecting|Successfully)' \
    --stage '^Installing collected packages' --stage-text "installing the packages" -- \
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r requirements.lock
  "$VENV/bin/python" -m pip check
  echo "$LOCK_SUM" > "$VENV/.lock-sha"
else
  say "dependencies up to date"
fi

SPACY_STAMP=var/spacy/en_ipt/.built-with
SPACY_WANT="$LOCK_SUM $(sha256sum bot/nlp.py | cut -d' ' -f1)"
if [ "$(cat "$SPACY_STAMP" 2>/dev/null)" != "$SPACY_WANT" ]; then
  say "building the spaCy pipeline (blank English + lookup lemmatizer) in var/spacy/en_ipt"
  "$VENV/bin/python" -c "from bot.nlp import save_pipeline; save_pipeline()"
  echo "$SPACY_WANT" > "$SPACY_STAMP"
else
  say "spaCy pipeline up to date"
fi

# Browser tests drive Debian's Chromium through Playwright (a Playwright browser download fails here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "Chromium is missing: the browser tests need it. Install it with: sudo apt-get install chromium"
  fi
fi

# The production profile (make run-prod, make bench, tests/production) puts Debian's nginx in front
# of several Rasa servers. It runs as our own process with a config generated under var/, so the
# package's system service must not start: a temporary policy-rc.d says so during the install.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's nginx for the production profile (its system service stays off)"
    POLICY=/usr/sbin/policy-rc.d; OWN_POLICY=""
    if [ ! -e "$POLICY" ]; then printf '#!/bin/sh\nexit 101\n' > "$POLICY"; chmod +x "$POLICY"; OWN_POLICY=1; fi
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    if [ -n "$OWN_POLICY" ]; then rm -f "$POLICY"; fi
  else
    say "nginx is missing: the production profile needs it. Install it with: sudo apt-get install nginx"
  fi
fi
