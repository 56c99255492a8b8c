# One entry point for people and CI. `make test` and `make run` work on a fresh machine:
# they create the virtualenv and install what is missing before doing anything else.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# plugins/ is on sys.path in every Airflow component; the CLI and tests see the package the same way.
export PYTHONPATH := $(CURDIR)/plugins

.PHONY: help venv run test unit lint typecheck check bench bench-parse

help:
	@echo "make run        install what is missing, lint the contracts and show the seed's plan"
	@echo "make test       install what is missing and run the whole test suite"
	@echo "make check      ruff + mypy"
	@echo "make bench      run the benchmarks (they print figures)"

# The stamp is rebuilt whenever the pins change, so an install is never stale.
$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m handoff lint include/handoffs
	$(PY) -m handoff show include/handoffs/PROD-DEPLOYMENT-001.md

unit: venv
	$(PY) -m pytest tests/unit

test: venv
	$(PY) -m pytest

lint: venv
	$(PY) -m handoff lint include/handoffs

typecheck: venv
	$(PY) -m mypy

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

bench: bench-parse

bench-parse: venv
	$(PY) tests/benchmarks/bench_parse.py
