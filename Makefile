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

# Until the coordinator service exists: solve a generated demo city and print a summary.
run: $(STAMP)
	@mkdir -p demo
	$(BIN)/linli generate --volunteers 250 --beneficiaries 190 --districts 4 --seed 7 --out demo/city.json
	$(BIN)/linli solve demo/city.json --out demo/plan.json --time-limit 20 --summary

lint: $(STAMP)
	$(BIN)/ruff check matcher linli api tests benchmarks
	$(BIN)/ruff format --check matcher linli api tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.city --sizes station,4000
	$(BIN)/python -m benchmarks.resolve --sizes station,city

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
