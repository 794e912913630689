# Everything hubwatch needs is installed from here, starting from python3 alone.
# uv is bootstrapped into .tools/ (pinned), then `uv sync --locked` builds .venv/ from uv.lock.
# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on CI here) nothing
# else would, and every dbt process would recompile its sources (dbt's import: 11 s -> 6 s).
PYTHON ?= python3
# The environment's interpreter (VENV_PYTHON=... chooses). Where PYTHON is left to its default and
# that python3 was built without --enable-optimizations (pyenv's default: no profile-guided or
# link-time optimisation, the interpreter in libpython3.11.so), the distribution's build of the same
# version where the machine has one that imports what hubwatch needs of the standard library
# (Debian's /usr/bin/python3.11 here: built with both, linked into its executable); else PYTHON.
# Same minor version, same locked packages; the suite spent 7-12 % less CPU on Debian's build
# (README, Performance: "The interpreter"). Evaluated only when .venv is built.
DISTRIBUTION_BIN ?= /usr/bin
PLAIN_BUILD_VERSION = $(shell $(PYTHON) -c 'import sys, sysconfig; optimised = "--enable-optimizations" in \
	(sysconfig.get_config_var("CONFIG_ARGS") or ""); print("" if optimised else "%d.%d" % sys.version_info[:2])' 2>/dev/null)
DISTRIBUTION_PYTHON = $(if $(filter file,$(origin PYTHON)),$(shell v='$(PLAIN_BUILD_VERSION)'; [ -n "$$v" ] && \
	$(DISTRIBUTION_BIN)/python$$v -c 'import bz2, ctypes, lzma, sqlite3, ssl, sys; print(sys.executable)' 2>/dev/null))
VENV_PYTHON ?= $(or $(DISTRIBUTION_PYTHON),$(PYTHON))
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export HUBWATCH_HOME ?= $(CURDIR)/data
export PATH := $(CURDIR)/$(BIN):$(PATH)
MANIFEST := dbt/target/manifest.json
DEMO_HOME ?= $(HUBWATCH_HOME)/demo
DEV_PORT ?= 3000

.PHONY: demo test dev lint format install manifest browser java screenshots clean

demo: install manifest ## fakehub on loopback -> dated snapshots -> warehouse (the main job), in $(DEMO_HOME)
	$(BIN)/hubwatch demo --home $(DEMO_HOME)

test: install manifest browser java ## run the whole offline test suite (after lint, format and import contracts)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n 3 --dist loadscope --no-loadscope-reorder

# `make dev HUBWATCH_HOME=data/demo` shows the demo's runs; Ctrl-C or SIGTERM stops the UI and all it started.
dev: install manifest ## the Dagster UI on http://127.0.0.1:$(DEV_PORT) over $(HUBWATCH_HOME)
	exec $(BIN)/python -m dagster_project.dev --host 127.0.0.1 --port $(DEV_PORT)

lint: install ## ruff, ruff format and the import contracts (pyproject.toml: [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.synced

# Debian's chromium for the dashboards' browser test (root, as on CI); without it those tests skip locally.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed (needs root): the browser tests will be skipped"

# Java 17 for `hubwatch build --engine spark` and its cross-engine test (root, as on CI: Debian's
# openjdk-17-jre-headless); without it those tests skip locally.
java:
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } || \
		echo "java not installed (needs root): the Spark engine's tests will be skipped"

# Full-page PNGs of every dashboard page, from the demo's package (make demo first if there is none),
# re-rendered with the current code into a copy: docs/screenshots/*.png, shown in the README.
DEMO_PACKAGE ?= $(HUBWATCH_HOME)/demo/publish/latest
screenshots: install manifest browser
	@test -e "$(DEMO_PACKAGE)/manifest.json" || $(MAKE) demo
	$(BIN)/python -m tests.browser screenshots "$(DEMO_PACKAGE)" docs/screenshots

manifest: $(MANIFEST) ## dbt's manifest, which the Dagster definitions load

# parsed as a DuckDB build parses it (its vars, the warehouse's path as hubwatch-dbt gives it: no home
# in either), so a home's first build starts from this parse (dagster-dbt copies
# dbt/target/partial_parse.msgpack) instead of parsing the whole project (dagster_project/warehouse.py)
$(MANIFEST): $(VENV)/.synced $(shell find dbt -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v target)
	HUBWATCH_DBT_WAREHOUSE=warehouse.duckdb $(BIN)/dbt parse --project-dir $(realpath dbt) --profiles-dir dbt --quiet \
		--vars "$$($(BIN)/python -c 'import orjson; from dagster_project.warehouse import parse_vars; print(orjson.dumps(parse_vars()).decode())')"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --compile-bytecode --python $(VENV_PYTHON)
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
