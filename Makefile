# Two commands from a fresh clone: `make run` (install, ingest seeds/, chat) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test lint install install-dev ingest demo-index reset eval bench slack clean

# Python 3.11 bundles pip 23.2, which predates PEP 685's normalised extra names and so warns on every
# install that "lxml does not provide the extra 'html_clean'" (justext asks for html_clean, lxml
# declares html-clean: the same extra). A current pip reads them as one.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q 'pip>=24'

install: $(BIN)/python
	$(PIP) -e .

install-dev: $(BIN)/python
	$(PIP) -e '.[dev]'

ingest: install
	$(BIN)/assistant ingest

# Empties the index only (keeps .venv and data/slack.sqlite3); see docs/operations-index.md.
reset: install
	$(BIN)/assistant reset --yes

# `make run` and `make slack` answer from a demo index of their own (data/demo/, the seed article),
# so an article you `assistant ingest` later lands in the default index without the seed beside it.
DEMO := ASSISTANT_DATA_DIR=$(CURDIR)/data/demo

demo-index: install
	$(DEMO) $(BIN)/assistant ingest seeds/

# Opens the terminal chat; without a terminal (CI, pipes) answers one sample question instead.
run: demo-index
	@echo "Demo index: data/demo/ (the seed article). Your own articles: .venv/bin/assistant ingest FILE|FOLDER|URL"
	@if [ -t 0 ]; then $(DEMO) $(BIN)/assistant chat; else $(DEMO) $(BIN)/assistant ask "Siapa yang mendampingi Menkomdigi Meutya Hafid?"; fi

test: install-dev
	$(BIN)/python -m pytest -q

# ruff (pyflakes, pycodestyle, import order, bugbear, pyupgrade) and mypy, configured in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

# Socket Mode with SLACK_APP_TOKEN; see docs/slack.md for the tokens and the HTTP mode.
slack: demo-index
	$(DEMO) $(BIN)/assistant slack

eval: install
	$(BIN)/assistant eval

bench: install-dev
	$(BIN)/python -m benchmarks.perf

# Everything: the virtualenv, the index and the Slack database. `make reset` empties just the index.
clean:
	rm -rf $(VENV) data .pytest_cache
