# Entry points for people and CI. Needs only Python 3.11 (or any python3), make and git:
# the first run creates .venv and installs the project; later runs reinstall only when
# pyproject.toml is newer than the stamp file.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEV_STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.installed-bench-stamp
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help test demo lint bench clean distclean

help:
	@echo "make test       install if needed, make sure PostgreSQL answers, run pytest"
	@echo "                (PYTEST_ARGS='-k name' passes options; DATAWARD_TEST_PG_URL picks a server)"
	@echo "make demo       validate the orders example (its bad rows are expected: exit 1 is fine)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make bench      install the bench extra and run bench/validate.py"
	@echo "make clean      remove caches and build output (keeps .venv; 'make distclean' removes it)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev,bench]'
	touch $@

# ensure_postgres.py picks the server (DATAWARD_TEST_PG_URL, else the local one on
# 127.0.0.1:5432, else a throwaway one), says which in one line, and runs pytest against it.
test: $(DEV_STAMP)
	$(BIN)/python scripts/ensure_postgres.py -- $(BIN)/pytest $(PYTEST_ARGS)

# The example holds deliberately bad rows, so `validate` exits 1 (problems found in the data);
# any other non-zero code (2 usage, 3 infrastructure, a crash) is a real failure.
demo: $(DEV_STAMP)
	@$(BIN)/dataward validate examples/orders/orders.csv \
		--contract examples/orders/orders.odcs.yaml; \
	rc=$$?; \
	if [ $$rc -eq 1 ]; then echo "make demo: exit 1 is expected (the example has bad rows)"; exit 0; fi; \
	exit $$rc

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BENCH_STAMP)
	$(BIN)/python bench/validate.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
