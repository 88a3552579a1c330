#!/usr/bin/env bash
# Train only when the training inputs changed: the model is named after a hash of config.yml,
# domain/, data/ and the custom components, and reused while that file exists.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$(scripts/model_path.sh)
if [ -f "$MODEL" ]; then
  printf '\033[1m[train]\033[0m model up to date: %s\n' "$MODEL"
  exit 0
fi
printf '\033[1m[train]\033[0m training %s (about a minute or two on 2 cores)\n' "$MODEL"
mkdir -p models
# Quiet Rasa, but each component's start is shown as the stage and the time is printed every 30 s.
.venv/bin/python scripts/progress.py train --initially "reading the training data" \
  --stage "Starting to train component '(\w+)'" --stage-text "training {0}" \
  --hide "^(Finished training component|Restored component) " -- \
  .venv/bin/rasa train --config config.yml --domain domain --data data \
  --out models --fixed-model-name "$(basename "$MODEL" .tar.gz)" --quiet --logging-config-file scripts/train_logging.yml
ls -1t models/ipt-*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f   # keep the last three
