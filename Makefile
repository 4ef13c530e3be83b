# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: run test test-fast lint typecheck check setup clean translations

# `make run PORT=8100` serves on another port (links handed out follow it).
PORT ?= 8000

run: setup
	$(BIN)/polls dev --port $(PORT)

# Two workers, each with its own Redis and PostgreSQL: most tests wait on I/O, not the CPU.
test: setup
	$(BIN)/pytest -q -n 2

# The unit tests alone (tests/unit: no Redis, no database, no server) without the slow
# differential checks: the loop to run while editing.
test-fast: setup
	$(BIN)/pytest -q -n 2 tests/unit -m "not slow"

lint: setup
	$(BIN)/ruff check polls tests
	$(BIN)/ruff format --check polls tests
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

# The page assets are built into the package (polls/web/) so that they install with it.
WEB_BUILT := polls/web/static/app.css polls/web/assets/manifest.json

# The catalogues compiled for gettext (polls.i18n compiles a missing or stale one in memory too).
PO_FILES := $(wildcard polls/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

setup: $(STAMP) $(WEB_BUILT) $(MO_FILES)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing words in a template or in Python: re-extract them and update every catalogue
# (then translate what is new in each; tests/unit/test_translations.py lists what is missing).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project polls --copyright-holder "polls" -o polls/locale/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i polls/locale/messages.pot -d polls/locale

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(WEB_STAMP): web/package.json
	cd web && npm install --no-audit --no-fund --loglevel=error
	touch $@

polls/web/static/app.css: $(WEB_STAMP) web/scss/app.scss
	cd web && npm run --silent build:css

# GOV.UK Frontend's fonts and images, copied in: node_modules is not installed with the package.
polls/web/assets/manifest.json: $(WEB_STAMP)
	cd web && npm run --silent build:assets

clean:
	rm -rf $(VENV) web/node_modules polls/web/static/app.css polls/web/assets var polls/locale/*/LC_MESSAGES/*.mo
