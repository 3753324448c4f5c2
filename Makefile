# CityScore Kit — `make` lists the targets. Everything runs inside .venv, created on first use.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB_FILE := data/cityscore.db
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: help install demo report score test test-fast lint format bench bench-sync notebooks clean

help: ## show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev,serve]' 2> >(grep -v "^WARNING: Location" >&2)
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the kit with its test tools
	@# Byte-compile the kit once: where PYTHONDONTWRITEBYTECODE is set (CI) every command would
	@# otherwise compile it again at start-up (0.15 s of each `cityscore` run here).
	@$(BIN)/python -m compileall -q cityscore > /dev/null

$(DB_FILE): | $(STAMP)
	$(BIN)/cityscore --db sqlite:///$(DB_FILE) demo --areas

demo: $(DB_FILE) ## load the demo city into data/cityscore.db (once)

report: install demo ## write today's scoreboard as one offline HTML page: reports/latest.html (set CITYSCORE_DB for your own)
	$(BIN)/cityscore report

score: install demo ## print today's scores on the terminal
	$(BIN)/cityscore score

test: install ## run the whole test suite (unit, CLI, PostgreSQL, browser, notebooks)
	$(BIN)/pytest
	$(BIN)/pytest --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg --nbval-current-env -p no:cacheprovider

test-fast: install ## run the tests that need no PostgreSQL, no browser and nothing slow (under 2 minutes)
	$(BIN)/pytest -m "not postgres and not browser and not slow"

lint: install ## check style (ruff), the import rule (import-linter) and types (mypy)
	$(BIN)/ruff check cityscore tests benchmarks
	$(BIN)/ruff format --check cityscore tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install ## reformat the code with ruff
	$(BIN)/ruff check --fix cityscore tests benchmarks
	$(BIN)/ruff format cityscore tests benchmarks

SIZES ?= S,M
comma := ,
bench: install ## time the engine and the CLI (import, score, report, the morning run) beside DuckDB, SQLite and PostgreSQL; SIZES=S,M (default) or S,M,L
	$(BIN)/python benchmarks/run.py $(foreach size,$(subst $(comma), ,$(SIZES)),--size $(size))
	$(BIN)/python benchmarks/bench_cli.py --sizes $(SIZES)
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_daily.py
	$(BIN)/python benchmarks/bench_import_memory.py

bench-sync: install ## time SQL sync with push-down vs pulling 5 million rows into pandas (about 90 s)
	$(BIN)/python benchmarks/bench_sync.py

notebooks: install ## re-execute and save every notebook (when their outputs are meant to change)
	$(BIN)/python -m cityscore.dev.notebooks

clean: ## remove .venv, the demo database and generated reports
	rm -rf $(VENV) $(DB_FILE) $(DB_FILE)-* reports/*/ reports/*.html .pytest_cache .hypothesis .mypy_cache .import_linter_cache
