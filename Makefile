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
	DATABASE_URL=$(DATABASE_URL) $(BIN)/linli serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check matcher linli api scenarios tests benchmarks
	$(BIN)/ruff format --check matcher linli api scenarios tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

# Each benchmark writes benchmarks/results/<name>-<date>.json (LINLI_BENCH_RESULTS=DIR for
# elsewhere); bench-report rebuilds docs/benchmarks.md from the newest file of each.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.city --sizes station,4000
	$(BIN)/python -m benchmarks.resolve --sizes station,city
	$(BIN)/python -m benchmarks.scenarios
	$(BIN)/python -m benchmarks.polish
	$(BIN)/python -m benchmarks.api_latency
	$(BIN)/python -m benchmarks.fairness
	$(MAKE) bench-report

.PHONY: bench-report
bench-report: $(STAMP)
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
