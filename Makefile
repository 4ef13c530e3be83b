# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: run test test-fast lint typecheck check setup clean

run: setup
	$(BIN)/polls dev

# Two workers, each with its own Redis and PostgreSQL: most tests wait on I/O, not the CPU.
test: setup
	$(BIN)/pytest -q -n 2

# The unit tests alone (tests/unit: no Redis, no database, no server), in seconds.
test-fast: setup
	$(BIN)/pytest -q tests/unit

lint: setup
	$(BIN)/ruff check polls tests
	$(BIN)/ruff format --check polls tests

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

setup: $(STAMP) web/static/app.css

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(WEB_STAMP): web/package.json
	cd web && npm install --no-audit --no-fund --loglevel=error
	touch $@

web/static/app.css: $(WEB_STAMP) web/scss/app.scss
	cd web && npm run --silent build

clean:
	rm -rf $(VENV) web/node_modules web/static/app.css var
