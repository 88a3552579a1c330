# The IPT assistant. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY   := .venv/bin/python
RASA := .venv/bin/rasa
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
# Rasa 3.6 and its dependencies print pages of deprecation warnings; keep the output readable.
export PYTHONWARNINGS ?= ignore::DeprecationWarning,ignore::PendingDeprecationWarning
# Rasa sends nothing to its telemetry service from any target (train, validate, test, run).
export RASA_TELEMETRY_ENABLED := false
export ACTIONS_PORT ?= 5055
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook
MODEL = $(shell scripts/model_path.sh)

.PHONY: help setup train migrate run test validate pytest story-test triage-eval shell lint eval calibrate lock crisis-domain clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup:  ## create .venv (Python 3.10), install the lock, build the spaCy pipeline
	@bash scripts/setup.sh

train: setup  ## train the model if config, domain or data changed
	@bash scripts/train.sh

migrate: setup  ## apply the database migrations (DATABASE_URL)
	@$(PY) -m bot.store.migrate

run: train migrate  ## start Rasa, the action server and the web app (Ctrl-C stops all)
	@$(PY) -m bot.runner --model $(MODEL)

test: setup lint validate train pytest story-test triage-eval  ## every check: lint, validate, train, pytest, test stories, safety triage on blind data
	@echo "[test] all checks passed"

validate: setup  ## rasa data validate --fail-on-warning, and generated files up to date
	@$(PY) -m bot.crisis.render_domain --check
	@$(PY) -m bot.crisis.calibrate --check
	@$(PY) -m bot.settings --check-doc
	$(RASA) data validate --domain domain --data data --config config.yml --fail-on-warning

pytest: train  ## unit and integration tests (uses the trained model)
	MODEL_PATH=$(MODEL) $(PY) -m pytest

story-test: train  ## Rasa test stories, failing on any prediction error
	$(RASA) test core --e2e --model $(MODEL) --stories tests/stories --fail-on-prediction-errors \
	  --out results/core --no-plot

shell: train migrate  ## chat in the terminal (starts an action server for the session)
	@bash scripts/shell.sh $(MODEL)

lint: setup  ## ruff
	.venv/bin/ruff check bot actions tests

triage-eval: train  ## the safety triage end to end through the trained model on the blind sets (fails below the floors)
	$(PY) -m bot.crisis.evaluate_pipeline --model $(MODEL) --enforce

eval: train  ## rules alone on their sets, then the whole triage end to end, training sets included (results/)
	$(PY) -m bot.crisis.evaluate --set tests/data/crisis_eval.yml
	@for set in tests/data/crisis_heldout*.yml; do \
	  $(PY) -m bot.crisis.evaluate --set $$set --min-recall 0 --min-specificity 0 || exit 1; done
	$(PY) -m bot.crisis.evaluate_pipeline --model $(MODEL) --training

calibrate: setup  ## choose the risk model's thresholds by cross-validation (bot/crisis/risk_thresholds.yml)
	$(PY) -m bot.crisis.calibrate

crisis-domain: setup  ## regenerate domain/crisis.yml from bot/crisis/resources.yml
	@$(PY) -m bot.crisis.render_domain

lock: setup  ## re-resolve requirements.in into requirements.lock
	@bash scripts/lock.sh

.PHONY: bench bench-load bench-quick run-prod
bench: train  ## staff dashboard (10,000 conversations, SQLite and PostgreSQL), then the production load bench
	$(PY) -m scripts.bench_dashboard
	$(PY) -m scripts.bench_load --model $(MODEL)

bench-load: train  ## load bench only: 1 and 2 Rasa servers and the stock moodbot behind nginx (results/bench_load.md)
	$(PY) -m scripts.bench_load --model $(MODEL)

bench-quick: train  ## one short load-bench run (to try it out)
	$(PY) -m scripts.bench_load --model $(MODEL) --quick

run-prod: train  ## production profile: N Rasa + M action servers, web app, nginx on PostgreSQL + Redis (Ctrl-C stops all)
	@$(PY) -m bot.deploy.prod --model $(MODEL)

.PHONY: audit
audit: setup  ## pip-audit of requirements.lock; fails, saying so, when the advisory databases are unreachable (not part of `make test`)
	@test -x var/audit-venv/bin/pip-audit || { $(PY) -m venv var/audit-venv && var/audit-venv/bin/pip install -q pip-audit==2.10.1; } \
	  || { echo "AUDIT DID NOT RUN: pip-audit could not be installed into var/audit-venv" >&2; exit 2; }
	@$(PY) -m scripts.audit

.PHONY: purge purge-dry-run
purge: setup  ## erase conversations idle longer than RETENTION_DAYS (unset/0: keep all; open hand-offs skipped)
	@$(PY) -m bot.store.retention

purge-dry-run: setup  ## list what `make purge` would erase (counts and hashed ids); changes nothing
	@$(PY) -m bot.store.retention --dry-run

clean:  ## remove models, results and test artifacts (keeps var/ data and .venv)
	rm -rf models results test-artifacts .pytest_cache
