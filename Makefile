# Two commands for a newcomer: `make run` and `make test` (see README.md); both install from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

# The locked set of packages (runtime + dev extras, with hashes) for Linux x86-64, CPython 3.11:
# `make lock` writes it from pyproject.toml (keeping the pins that still satisfy it; `make lock-upgrade`
# moves everything to the newest allowed), `make lock-check` fails if it is out of step with pyproject.toml.
LOCK := requirements.lock
UV := $(BIN)/uv
LOCK_FLAGS := --extra dev --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
  --custom-compile-command "make lock" --quiet
# Files copied out of uv's cache, not hard-linked (the cache and the checkout may be on different disks).
export UV_LINK_MODE ?= copy

.PHONY: lock lock-upgrade lock-check

# Creates .venv in the repo root with Python 3.11 and the uv pinned in the lock.
$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; installing python3-venv" >&2; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  echo "warning: $(LOCK) is resolved for Python 3.11; .venv has $$($(BIN)/python --version)" >&2
	$(BIN)/python -m pip install -q "$$(grep -oE '^uv==[^ ]+' $(LOCK))"

# Installs exactly the locked set (removing anything else), then Linli itself without dependencies;
# re-runs when pyproject.toml or the lock changes.
$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

lock: | $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) -o $(LOCK)

lock-upgrade: | $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --upgrade -o $(LOCK)

# Resolves again into a copy (the copy's pins are kept where they still hold) and compares.
lock-check: | $(UV)
	@tmp=$$(mktemp) && cp $(LOCK) $$tmp && \
	  $(UV) pip compile pyproject.toml $(LOCK_FLAGS) -o $$tmp && \
	  { diff -u $(LOCK) $$tmp && rm -f $$tmp && echo "$(LOCK) is in step with pyproject.toml"; } || \
	  { rm -f $$tmp; echo "$(LOCK) is out of step with pyproject.toml: run make lock" >&2; exit 1; }

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

# ruff (style, complexity caps) and the import contracts in pyproject.toml's [tool.importlinter].
lint: $(STAMP)
	$(BIN)/ruff check matcher linli api scenarios tests benchmarks
	$(BIN)/ruff format --check matcher linli api scenarios tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check web
	$(BIN)/ruff format --check web

typecheck: $(STAMP)
	$(BIN)/mypy

# Python's bytecode caches are written (and pytest's rewritten test modules cached): an environment
# with PYTHONDONTWRITEBYTECODE set made every process (each xdist worker, each `linli` the tests
# start, each solver helper process) compile all of its imports from source again, ortools, pydantic,
# fastapi, hypothesis and schemathesis included: collection took 39 s a worker, 13 s with the caches.
unexport PYTHONDONTWRITEBYTECODE

# worksteal: a worker that runs out of tests takes half of the other's queue, so both cores stay
# busy to the end whatever the tests' durations (the default hands out fixed chunks).
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist worksteal -q

test: lint typecheck unit

# Each benchmark writes benchmarks/results/<name>-<date>.json (LINLI_BENCH_RESULTS=DIR for
# elsewhere); bench-report rebuilds docs/benchmarks.md from the newest file of each.
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
	$(BIN)/python tests/web/screenshots.py docs/screenshots

bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.posts
	$(BIN)/python -m benchmarks.posts_city --sizes station,4000
	$(BIN)/python -m benchmarks.city --sizes station,4000
	$(BIN)/python -m benchmarks.resolve --sizes station,city
	$(BIN)/python -m benchmarks.scenarios
	$(BIN)/python -m benchmarks.polish
	$(BIN)/python -m benchmarks.api_latency
	$(BIN)/python -m benchmarks.web_pages
	$(BIN)/python -m benchmarks.fairness
	$(BIN)/python -m benchmarks.ledger
	$(BIN)/python -m benchmarks.certificate
	$(BIN)/python -m benchmarks.audit
	$(BIN)/python -m benchmarks.delivery
	$(BIN)/python -m benchmarks.calendar
	$(BIN)/python -m benchmarks.contacts
	$(BIN)/python -m benchmarks.standins
	$(MAKE) bench-report

.PHONY: bench-report
bench-report: $(STAMP)
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
