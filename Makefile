# Relais — two commands: `make run` (set up and serve the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install install-dev translations extract-messages lint bench simulate clean accessibility-report

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Mozilla's ical.js, with which the tests read every calendar Relais writes (tests/icaljs_check.mjs): npm, not the app.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev node_modules/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d app/translations

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --no-wrap --ignore-obsolete

# Links in e-mails and feeds point where `make run` serves, unless RELAIS_BASE_URL says otherwise.
run: export RELAIS_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask reference-data
	$(BIN)/flask demo-data --if-empty
	@echo "Relais: http://$(HOST):$(PORT)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install-dev
	$(BIN)/python -m bench

# A school year played under today's weekly planning and under the autopilot (bench/simulate.py); SIMULATE_ARGS,
# e.g. "--departements 69 --write", chooses the scale and saves bench/results/simulation.md.
simulate: install-dev
	$(BIN)/python -m bench.simulate $(SIMULATE_ARGS)

# The accessibility declaration's results (issue #21): the browser tests note each page axe-core checks, then
# tests/browser/accessibility_report.py writes docs/accessibility-results.json (committed; /accessibilite shows it).
# ACCESSIBILITY_TESTS chooses the tests (default: the whole browser suite).
ACCESSIBILITY_TESTS ?= tests/browser
accessibility-report: install-dev
	rm -f .accessibility.log
	RELAIS_ACCESSIBILITY_LOG=$(CURDIR)/.accessibility.log $(BIN)/pytest -q -n 0 $(ACCESSIBILITY_TESTS)
	$(BIN)/python -m tests.browser.accessibility_report .accessibility.log
	rm -f .accessibility.log

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
