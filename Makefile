# Set-up is part of every target: a fresh machine needs only Python 3.11 and pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser lint run run-distributed test test-unit test-integration test-e2e bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

browser:                ## Debian's chromium + chromium-driver, for the H5 page test in headless Chromium
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

run: install            ## the whole platform, embedded: SQLite stores in ./var, no servers
	$(BIN)/scrm run

run-distributed: install  ## PostgreSQL + Kafka-protocol broker + every service as its own process
	$(BIN)/python -m deploy.local_cluster

test: install browser lint  ## lint, then everything: unit, integration (SQLite, PostgreSQL), end-to-end, crash
	$(BIN)/pytest

lint: install           ## ruff: the lint rules and the format of pyproject.toml's [tool.ruff]
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

test-e2e: install browser
	$(BIN)/pytest tests/e2e

bench: install          ## prints numbers against a baseline measured in the same run
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/intake_submissions.py
	$(BIN)/python bench/workflow_backlog.py
	$(BIN)/python bench/wecom_callbacks.py
	$(BIN)/python bench/commit_under_gil.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/settlement.py
	$(BIN)/python bench/replay.py
	$(BIN)/pip install --quiet -e '.[bench]'  # SpiffWorkflow, the baseline of the next one
	$(BIN)/python bench/ticket_actions.py
	$(BIN)/python bench/end_to_end.py

clean:
	rm -rf $(VENV) var *.egg-info
