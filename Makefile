# VSM Site: `make site` builds the example streams, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_FLAGS := --disable-pip-version-check -q
PYTEST_WORKERS ?= 2
MINUTES ?= 10

.DEFAULT_GOAL := help
.PHONY: help site serve test test-fast lint bench golden screenshots lock clean fuzz

help: ## list the targets
	@echo "VSM Site - value stream reports as code"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e '.[test]'
	@touch $@

site: $(VENV)/.installed ## build streams/ into _site/ (creates .venv when missing)
	$(BIN)/vsm build --project . --out _site
	@echo "open _site/index.html, or run: make serve"

serve: $(VENV)/.installed ## build, serve on 127.0.0.1:8000 and rebuild on every save
	$(BIN)/vsm serve --project .

test: $(VENV)/.installed-test ## run every test (unit, property, golden, end-to-end, browser)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

test-fast: $(VENV)/.installed-test ## the quick suites only (skips tests marked slow)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -m "not slow"

lint: $(VENV)/.installed-test ## ruff and mypy (strict) on generator/
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator
	$(BIN)/mypy generator

fuzz: $(VENV)/.installed-test ## fuzz every reader, stream.yaml/vsm.yaml and reports for MINUTES (default 10); finds go to tests/data/fuzz/
	$(BIN)/python scripts/fuzz.py --minutes $(MINUTES)

bench: $(VENV)/.installed-test ## time full builds of 10k, 100k and 1M synthetic items; pandas vs dask engines at 1M events; vsm serve edit-to-reload
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.scenarios --project .
	$(BIN)/python -m benchmarks.scenarios --bench 1000000 --repeat 1
	$(BIN)/python -m benchmarks.engines
	$(BIN)/python -m benchmarks.reload

golden: $(VENV)/.installed-test ## refresh the golden files after an intended output change
	VSM_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py

screenshots: site $(VENV)/.installed-test ## refresh the README's screenshots in docs/images/
	$(BIN)/python scripts/readme_screenshot.py _site

lock: $(VENV)/.installed-test ## rewrite constraints.txt from the current environment
	$(PIP) freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean: ## remove the build output and caches (not .venv)
	rm -rf _site .vsm-cache .pytest_cache .mypy_cache .ruff_cache
