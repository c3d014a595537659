# Tidewater: `make run` builds everything, `make test` proves it. Needs only Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1
SEED ?= 42
PYTEST_ARGS ?=

.PHONY: install run test lint clean help

help:
	@echo "make run   [SCALE=1] [SEED=42]  generate sources, load them with Meltano, dbt build, docs"
	@echo "make test                       the Python suite (generator, pipeline end to end at scale 0.01, reconciliation) and the dbt tests"
	@echo "make install                    only create .venv and install the pinned packages and Meltano plugins"
	@echo "make clean                      remove generated data, dbt target and logs (keeps .venv and plugins)"

# The environment: rebuilt when a pin, the package or a Meltano plugin definition changes.
$(BIN)/.installed: requirements.txt pyproject.toml meltano.yml $(wildcard meltano/*.yml) extract/tap_landing_zone/pyproject.toml extract/target_duckdb_explicit_csv/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Tidewater needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned Python packages into $(VENV)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> installing Meltano plugins into .meltano/"
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/meltano --log-level warning install
	@touch $@

install: $(BIN)/.installed

run: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater run --scale $(SCALE) --seed $(SEED)

test: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf data target logs .env
