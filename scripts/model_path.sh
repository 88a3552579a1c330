#!/usr/bin/env bash
# Prints the path of the model for the current training inputs (a content hash of config.yml,
# domain/, data/, the custom NLU components' modules, the lock file, and what the risk model is
# trained on: its code, the labelled sets and the thresholds). The crisis lexicon's rules and the
# crisis policy (bot/policies/, not trained) are read when the model loads, so changing them needs
# no new training.
set -euo pipefail
cd "$(dirname "$0")/.."
HASH=$( { find config.yml domain data bot/nlu bot/nlp.py requirements.lock \
            bot/crisis/risk_model.py bot/crisis/corpus.py bot/crisis/risk_thresholds.yml bot/crisis/training \
            tests/data/crisis_eval.yml tests/data/everyday \
            -type f \( -name '*.yml' -o -name '*.py' -o -name '*.lock' \) | LC_ALL=C sort | xargs sha256sum;
          ls tests/data/crisis_heldout*.yml | LC_ALL=C sort | xargs sha256sum; } \
        | sha256sum | cut -c1-12)
echo "models/ipt-$HASH.tar.gz"
