# Concord: `make run` serves the API, `make test` runs the suite. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start embedded PostgreSQL, migrate, apply tenants, load demo data, serve on $$PORT (default 5000).
run: install
	$(BIN)/concord serve --setup

## The whole test suite against a real (embedded) PostgreSQL.
test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python scripts/bench/people_get.py

clean:
	rm -rf $(VENV) var .pytest_cache
