# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

# Creates .venv in the repo root and installs Linli with its dev tools; re-runs when pyproject changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; installing python3-venv" >&2; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# The coordinator service on an embedded SQLite file seeded with a demo city (DATABASE_URL overrides).
DATABASE_URL ?= sqlite:///demo/linli.sqlite
HOST ?= 127.0.0.1
PORT ?= 8000
run: $(STAMP)
	@mkdir -p demo
	DATABASE_URL=$(DATABASE_URL) $(BIN)/linli seed --if-empty
	@echo "centre token (Authorization: Bearer ...):"
	@DATABASE_URL=$(DATABASE_URL) $(BIN)/linli token create --centre --label "make run"
	@echo "API docs: http://$(HOST):$(PORT)/docs"
	@echo "coordinators' web app: http://$(HOST):$(PORT)/ (log in with the token above)"
	DATABASE_URL=$(DATABASE_URL) $(BIN)/linli serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check matcher linli api scenarios tests benchmarks
	$(BIN)/ruff format --check matcher linli api scenarios tests benchmarks
	$(BIN)/ruff check web
	$(BIN)/ruff format --check web

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

# Debian's chromium and CJK fonts: the web app's browser tests and screenshots (apt-get only when missing).
.PHONY: browser messages screenshots
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
	  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk; }
unit test: browser

# The web app's message ids into web/locale/messages.pot, merged into the catalogues (then translate).
messages: $(STAMP)
	$(BIN)/pybabel extract -F web/babel.cfg -k N_ --no-location --sort-output -o web/locale/messages.pot .
	$(BIN)/python -m web.catalogue zh_CN

# Every page of the web app, desktop and phone-sized, into docs/screenshots/ (PNG).
screenshots: $(STAMP) browser
	$(BIN)/python tests/screenshots.py docs/screenshots

bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.city --sizes station,4000
	$(BIN)/python -m benchmarks.resolve --sizes station,city
	$(BIN)/python -m benchmarks.scenarios
	$(BIN)/python -m benchmarks.polish

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
