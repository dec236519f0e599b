# engagement-gateway: `make run` starts the demo, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# GraphiQL and React for the GraphiQL page: npm packages installed here, never committed.
WEB       := gateway/web
WEB_STAMP := $(WEB)/node_modules/.installed-stamp

.PHONY: install run test lint typecheck chromium pytest bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Reinstalled when node_modules is missing or older than the lock file.
$(WEB_STAMP): $(WEB)/package-lock.json $(WEB)/package.json
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

## run: the four seeded sandboxes plus the gateway; prints the URLs
run: install
	$(BIN)/engagement-gateway demo

## test: ruff, mypy --strict and the whole pytest suite (unit, fidelity, contract, e2e)
test: install lint typecheck chromium pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The GraphiQL e2e test drives Debian's chromium (Playwright never downloads a browser).
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)

# pytest exits 5 when it collected no test: say so plainly rather than fail.
# Two workers (pytest-xdist): every test keeps its own ports, key prefix and sandboxes.
PYTEST_WORKERS ?= 2
pytest: install chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected"; exit 0; fi; exit $$rc

## bench: figures for bench/RESULTS.md (not part of `make test`)
bench: install
	$(BIN)/python -m bench

schema: install
	$(BIN)/engagement-gateway export-schema --output schema.graphql
	$(BIN)/engagement-gateway export-event-schemas --output-dir schemas/events

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var $(WEB)/node_modules
