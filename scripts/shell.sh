#!/usr/bin/env bash
# Chat in the terminal: an action server in the background for as long as the shell runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1
export ACTION_ENDPOINT_URL="http://127.0.0.1:${ACTIONS_PORT:-5055}/webhook"
# the closed action server (bot/action_server.py) and the secret Rasa sends it (endpoints.yml)
ACTION_SERVER_SECRET=$(.venv/bin/python -c 'from bot.runner import secret_from_env_or_file as s; print(s("ACTION_SERVER_SECRET", "action_server_secret"))')
export ACTION_SERVER_SECRET
.venv/bin/python -m bot.action_server --actions actions --port "${ACTIONS_PORT:-5055}" >var/actions-shell.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
.venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml
