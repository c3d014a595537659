# Tidewater: `make run` builds everything, `make test` proves it. Needs only Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
EDR_VENV := .venv-edr
FEAST_VENV := .venv-feast
BENCH_VENV := .venv-bench
BIN := $(VENV)/bin
# Empty: the data folder's own scale and seed (scale 1, seed 42 the first time).
SCALE ?=
SEED ?=
DAYS ?= 0
FULL_REFRESH ?=
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 3
SCALES ?= 0.1 1 10
REPEATS ?= 3
BENCH_ARGS ?=

.PHONY: install install-bench browser java run ui dashboards serve test bench lint slim-ci clean help

help:
	@echo "make run   [SCALE=1] [SEED=42]  the lifecycle on Dagster: generate, load with Meltano, dbt build (marts, ML features,"
	@echo "                                 model, scores, audiences), docs, report, feature store, CRM sync"
	@echo "make run DAYS=1                 move the sources one business day on, then load and build incrementally"
	@echo "make run FULL_REFRESH=1         rebuild the incremental marts from raw (dbt build --full-refresh)"
	@echo "make ui                         the Dagster UI on http://127.0.0.1:3000: runs, asset graph, checks, schedule, sensors"
	@echo "make dashboards                 the Streamlit dashboards on http://127.0.0.1:8501 (KPIs, sales, funnel, cohorts, health)"
	@echo "make serve                      the suppliers' read-only API on http://127.0.0.1:8000 (tokens: tidewater api-token)"
	@echo "make test                       the Python suite (generator, pipeline end to end at scale 0.01, drills, orchestration, UI)"
	@echo "                                 with the whole dbt build and every dbt test inside it, and the Singer plugins' own tests"
	@echo "make install                    only create .venv and install the pinned packages and Meltano plugins"
	@echo "make bench [SCALES=\"0.1 1 10\"] [REPEATS=3] [BENCH_ARGS=--skip-competitors | BENCH_ARGS=\"--competitors duckdb\"]"
	@echo "                                 time every stage at each scale (median of REPEATS fresh runs), Meltano's"
	@echo "                                 extract+load against dlt and DuckDB's readers; writes data/bench/<time>/bench.md"
	@echo "make lint                       every pre-commit hook on every file (sqlfluff, ruff, YAML, dbt model conventions)"
	@echo "make slim-ci [REF=main]         build and test only what changed against REF (or STATE=main's manifest.json), then the data diff"
	@echo "make clean                      remove generated data, dbt target and logs (keeps .venv and plugins)"

# uv installs every environment's pins: pip only brings in uv itself, at the release requirements.txt pins. This
# rule checks Python and creates .venv, before anything else is installed.
$(BIN)/uv: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Tidewater needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -m1 -E '^uv==' requirements.txt)"
	@touch $@

# Compiled as pip did: uv leaves it out unless asked, and a process that may not write bytecode (PYTHONDONTWRITEBYTECODE)
# would then compile everything it imports each time it starts. The same for Meltano's plugins (Meltano installs them
# with uv: UV_COMPILE_BYTECODE) and for Tidewater's own packages, which an editable install leaves in place.
UV_PIP_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode
COMPILE_OWN_PACKAGES := $(BIN)/python -c 'import compileall, tomllib; dirs = tomllib.load(open("pyproject.toml", "rb"))["tool"]["setuptools"]["package-dir"].values(); raise SystemExit(not all(compileall.compile_dir(d, quiet=1) for d in dirs))'

# The environment: rebuilt when a pin, the package or a Meltano plugin definition changes. .venv first (Meltano and
# `tidewater deps` run from it), then the environments beside it side by side: `make -j` runs them at once and `-O`
# prints each one's lines whole when it ends. Elementary's CLI comes before the dbt packages (its own dbt project gets
# them too).
$(BIN)/.installed: requirements.txt requirements-edr.txt requirements-feast.txt packages.yml pyproject.toml meltano.yml $(wildcard meltano/*.yml) extract/tap_landing_zone/pyproject.toml extract/target_duckdb_explicit_csv/pyproject.toml extract/tap_spreadsheets_strict/pyproject.toml extract/singer_batch_msgspec/pyproject.toml extract/tap_warehouse/pyproject.toml extract/target_webhook/pyproject.toml extract/target_postgres_hard_delete/pyproject.toml | $(BIN)/uv
	@echo "==> installing pinned Python packages into $(VENV) (a minute or two on a new machine)"
	@$(UV_PIP_INSTALL) --python $(BIN)/python -r requirements.txt
	@$(UV_PIP_INSTALL) --python $(BIN)/python --no-deps -e .
	@$(COMPILE_OWN_PACKAGES)
	@$(MAKE) --no-print-directory -j -O meltano-plugins edr-env dbt-packages feast-env
	@touch $@

# The parts of `make install` after .venv (run by it, not on their own).
.PHONY: meltano-plugins edr-env dbt-packages feast-env
meltano-plugins:
	@echo "==> installing Meltano plugins into .meltano/"
	@PATH="$(CURDIR)/$(BIN):$$PATH" UV_COMPILE_BYTECODE=1 $(BIN)/meltano --log-level info install

edr-env:
	@echo "==> installing Elementary's CLI into $(EDR_VENV)"
	@test -d $(EDR_VENV) || $(PYTHON) -m venv $(EDR_VENV)
	@$(UV_PIP_INSTALL) --python $(EDR_VENV)/bin/python -r requirements-edr.txt

dbt-packages: edr-env
	@echo "==> installing dbt packages (from the dbt hub, else from the mirror you configured)"
	@$(BIN)/tidewater deps

feast-env:
	@echo "==> installing Feast (the feature store) into $(FEAST_VENV)"
	@test -d $(FEAST_VENV) || $(PYTHON) -m venv $(FEAST_VENV)
	@$(UV_PIP_INSTALL) --python $(FEAST_VENV)/bin/python -r requirements-feast.txt

install: $(BIN)/.installed

# The bench's competitors (dlt; DuckDB 1.5.5 with the postgres extension from PyPI) in their own environment.
$(BENCH_VENV)/.installed: requirements-bench.txt | $(BIN)/uv
	@test -d $(BENCH_VENV) || $(PYTHON) -m venv $(BENCH_VENV)
	@echo "==> installing the bench's competitors (dlt, DuckDB and its postgres extension) into $(BENCH_VENV)"
	@$(UV_PIP_INSTALL) --python $(BENCH_VENV)/bin/python -r requirements-bench.txt
	@touch $@

install-bench: $(BENCH_VENV)/.installed

# The tests open the docs and the Elementary report in a real browser: Debian's chromium, headless.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing chromium (Debian package) for the browser tests"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need chromium: install it (e.g. sudo apt-get install chromium) and run make test again."; \
	    exit 1; \
	  fi; }

# Spark (the project built on Spark in make test, `tidewater build --target spark`) runs on Java 17.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Java 17 (Debian package) for Spark"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else \
	    echo "The Spark build needs Java 17: install it (e.g. sudo apt-get install openjdk-17-jre-headless) and run make test again."; \
	    exit 1; \
	  fi; }

run: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater run $(if $(SCALE),--scale $(SCALE)) $(if $(SEED),--seed $(SEED)) \
	  --days $(DAYS) $(if $(FULL_REFRESH),--full-refresh)

# Dagster's webserver and daemon over the data folder's instance (the runs of `make run` are in its history).
ui: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater ui

# The dashboards and the suppliers' API read the serving copy the last `make run` promoted, never the warehouse.
dashboards: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater dashboards

serve: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater serve

# Three pytest-xdist workers, a test module each at a time (its module fixtures are built once), in the order
# tests/python/conftest.py gives: the pipeline's steps leave a core idle much of the time (process start-up, Jinja,
# Meltano, Dagster's events), so on 2 cores a third drill fills what two leave (docs/benchmark.md).
test: install install-bench browser java
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder \
	  $(PYTEST_ARGS)

# Not part of `make test` (its smoke at scale 0.01 is). Scale 10 takes ~20 min a repeat (dlt ~50 more): SCALES="0.1 1" skips it.
bench: install install-bench
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater bench --scales "$(SCALES)" --repeats $(REPEATS) $(BENCH_ARGS)

# The Singer plugins' own suites (extract/<plugin>/tests), part of `make test`, side by side (`make -j -O`, as for the
# install; each waits on its own PostgreSQL or webhook more than it computes): each runs in the venv Meltano made for
# its plugin (the plugin's pinned dependencies), after the plugin's pinned `test` extra is added there. ~25 s in all.
PLUGIN_VENV_tap_landing_zone := extractors/tap-landing-zone
PLUGIN_VENV_tap_spreadsheets_strict := extractors/tap-spreadsheets
PLUGIN_VENV_singer_batch_msgspec := extractors/tap-postgres
PLUGIN_VENV_target_duckdb_explicit_csv := loaders/target-duckdb
PLUGIN_VENV_tap_warehouse := extractors/tap-tidewater-warehouse
PLUGIN_VENV_target_webhook := loaders/target-webhook
PLUGIN_SUITES := $(patsubst PLUGIN_VENV_%,plugin-tests-%,$(filter PLUGIN_VENV_%,$(.VARIABLES)))
.PHONY: test-plugins $(PLUGIN_SUITES)
test: test-plugins
test-plugins: install
	@$(MAKE) --no-print-directory -j -O -k $(PLUGIN_SUITES)

$(PLUGIN_SUITES): plugin-tests-%:
	@venv=.meltano/$(PLUGIN_VENV_$*)/venv; echo "==> extract/$* tests, in $$venv"; \
	  $(BIN)/uv pip install --quiet --python $$venv/bin/python -r extract/$*/pyproject.toml --extra test \
	    && $$venv/bin/python -m pytest -q -p no:cacheprovider extract/$*/tests

# PR review (CONTRIBUTING.md): the pre-commit hooks on every file; slim CI and the data diff against main.
REF ?= main
STATE ?=
lint: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pre-commit run --all-files

slim-ci: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/tidewater slim-ci $(if $(STATE),--state $(STATE),--ref $(REF))

clean:
	rm -rf data target logs .env
