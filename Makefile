# Concord: `make run` serves the API, `make test` lints and runs the suite. Both set everything up first.
PYTHON ?= python3
# Another interpreter gets a virtualenv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run lint test bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start embedded PostgreSQL, migrate, apply tenants, load demo data, serve on $$PORT (default 5000).
run: install
	$(BIN)/concord serve --setup

# ruff reads no setup.cfg, so its settings are here: pyflakes, bugbear, import order (the scripts' own helper
# modules first-party), lines of at most 120.
RUFF := $(BIN)/ruff check --line-length 120 --select F,B,I,E501 --target-version py311 \
	--config 'src = [".", "scripts", "scripts/bench"]'

## ruff and mypy (its settings in setup.cfg).
lint: install
	$(RUFF) app tests scripts migrations
	$(BIN)/mypy

## The linters, then the whole test suite against a real (embedded) PostgreSQL.
test: install lint
	$(BIN)/pytest

bench: install
	$(BIN)/python scripts/bench/people_get.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
