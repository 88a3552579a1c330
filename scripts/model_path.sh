#!/usr/bin/env bash
# Prints the path of the model for the current training inputs (a content hash of config.yml,
# domain/, data/, the custom NLU components' modules and the lock file). The crisis detector's
# rules (bot/crisis/) and the crisis policy (bot/policies/, not trained) are read when the model
# loads, so changing them needs no new training.
set -euo pipefail
cd "$(dirname "$0")/.."
HASH=$( { find config.yml domain data bot/nlu bot/nlp.py requirements.lock \
            -type f \( -name '*.yml' -o -name '*.py' -o -name '*.lock' \) | LC_ALL=C sort | xargs sha256sum; } \
        | sha256sum | cut -c1-12)
echo "models/ipt-$HASH.tar.gz"
