# Marquee: `make run` serves the site with its worker and beat; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?=
PORT ?= 8000

.PHONY: run test test-engine bench lint format audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: set up and serve http://127.0.0.1:8000 with a Celery worker and beat
##      (DATA=path/to/ml-latest-small imports MovieLens; else the demo catalog)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py setup_site $(if $(DATA),--data "$(DATA)")
	$(BIN)/honcho start --port $(PORT)

## test: set up and run the whole test suite (the import contracts first)
test: $(VENV)/.installed-dev tests/e2e/node_modules/.installed
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)

# axe-core, which the browser tests inject (pinned in tests/e2e/package-lock.json).
# Without npm the accessibility tests skip (and fail under REQUIRE_SERVICES=1).
tests/e2e/node_modules/.installed: tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/e2e --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility tests will skip (apt-get install npm)"; fi

## test-engine: the engine's unit tests in a venv without Django (proves it needs none)
ENGINE_VENV := .venv-engine
$(ENGINE_VENV)/.installed: requirements-engine.txt
	$(PYTHON) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/pip install --quiet --upgrade pip
	$(ENGINE_VENV)/bin/pip install --quiet -r requirements-engine.txt
	touch $@

test-engine: $(ENGINE_VENV)/.installed
	! $(ENGINE_VENV)/bin/python -c "import django" 2>/dev/null
	$(ENGINE_VENV)/bin/python -m pytest --noconftest -p no:cacheprovider \
		-W ignore::pytest.PytestConfigWarning \
		tests/recommendations/test_engine_*.py

## bench: run every benchmark under bench/ (one JSON line each); BENCH=load runs bench/load.py alone
bench: $(VENV)/.installed-dev
	@for b in $(if $(BENCH),bench/$(BENCH).py,bench/*.py); do case $${b##*/} in _*) continue;; esac; $(BIN)/python $$b || exit 1; done

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

## audit: known vulnerabilities in every pinned requirement (pip-audit); exits 1 on
##        any found, and says NOT AUDITED (exit 0) when its service cannot be reached
audit: $(VENV)/.installed-dev
	$(BIN)/python tools/audit.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache .ruff_cache
