#!/usr/bin/env bash
# Chat in the terminal: an action server in the background for as long as the shell runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1
.venv/bin/rasa run actions --actions actions --port "${ACTIONS_PORT:-5055}" >var/actions-shell.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
.venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml
