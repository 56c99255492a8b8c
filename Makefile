# One entry point for people and CI. `make test` and `make run` work on a fresh machine:
# they create the virtualenv and install what is missing before doing anything else.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# plugins/ is on sys.path in every Airflow component; the CLI and tests see the package the same way.
export PYTHONPATH := $(CURDIR)/plugins

.PHONY: help venv run test unit lint typecheck check bench bench-parse
.PHONY: docker-engine demo-images browser bench-bluegreen bench-loader bench-report demo-reset

help:
	@echo "make run        install what is missing, start the demo service, a Slack receiver and"
	@echo "                Airflow (UI on http://localhost:8080); Ctrl-C stops them"
	@echo "make demo-reset put the demo service back to blue 1.0.0 live (after a rehearsal)"
	@echo "make test       install what is missing and run the whole test suite"
	@echo "make check      ruff + mypy"
	@echo "make bench      run the benchmarks (they print figures)"
	@echo "make demo-images  start a Docker engine if none answers, build the demo images"

# The stamp is rebuilt whenever the pins change, so an install is never stale.
$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed

# Demo service (blue live), local Slack receiver and `airflow standalone` until Ctrl-C;
# the logic lives in include/demo/scripts/run.py.
run: venv demo-images browser
	$(PY) -m handoff lint include/handoffs
	$(PY) include/demo/scripts/run.py

demo-reset: venv demo-images
	$(PY) include/demo/scripts/run.py reset

unit: venv
	$(PY) -m pytest tests/unit

# The integration tests need a Docker engine and the demo images; both targets are idempotent.
test: venv demo-images browser
	$(PY) -m pytest

lint: venv
	$(PY) -m handoff lint include/handoffs

typecheck: venv
	$(PY) -m mypy

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

bench: bench-parse bench-loader bench-bluegreen bench-report

bench-parse: venv
	$(PY) tests/benchmarks/bench_parse.py

bench-loader: venv
	$(PY) tests/benchmarks/bench_loader.py

bench-report: venv
	$(PY) tests/benchmarks/bench_report.py

# Installs Debian's docker.io and starts dockerd in the background when no engine answers.
docker-engine:
	include/demo/scripts/ensure-docker.sh

# Base image (debootstrap, once), demo service releases and router; skipped when up to date.
demo-images: docker-engine
	include/demo/scripts/build-images.sh

# Debian's chromium for accessibility audits and browser tests (Playwright drives it).
browser:
	include/demo/scripts/ensure-chromium.sh

bench-bluegreen: venv demo-images
	$(PY) tests/benchmarks/bench_bluegreen.py
