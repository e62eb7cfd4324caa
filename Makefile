# The two commands of the README. Each makes .venv with nothing but Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORTAL_DATABASE_URL ?= sqlite+aiosqlite:///./portal-demo.db
export PORTAL_DATABASE_URL

.PHONY: run test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(BIN)/portal-gateway db upgrade
	$(BIN)/portal-gateway demo seed --announce
	exec $(BIN)/portal-gateway serve

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy portal_gateway
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) portal-demo.db*
