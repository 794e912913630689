# Everything hubwatch needs is installed from here, starting from python3 alone.
# uv is bootstrapped into .tools/ (pinned), then `uv sync --locked` builds .venv/ from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export HUBWATCH_HOME ?= $(CURDIR)/data

.PHONY: demo test dev lint format install clean

demo: install ## take simulated snapshots of fakehub across dates (the main job)
	$(BIN)/hubwatch demo

test: install ## run the whole offline test suite
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
