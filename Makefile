# One entry point for people and CI. `make test` and `make run` work on a fresh machine:
# they create the virtualenv and install what is missing before doing anything else.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# plugins/ is on sys.path in every Airflow component; the CLI and tests see the package the same way.
export PYTHONPATH := $(CURDIR)/plugins

.PHONY: help venv run test unit lint typecheck check bench bench-parse
.PHONY: docker-engine demo-images browser bench-bluegreen bench-loader drills

help:
	@echo "make run        install what is missing, lint the contracts and show the seed's plan"
	@echo "make test       install what is missing and run the whole test suite"
	@echo "make check      ruff + mypy"
	@echo "make bench      run the benchmarks (they print figures)"
	@echo "make demo-images  start a Docker engine if none answers, build the demo images"
	@echo "make drills     run the fault drills (restarts the Docker daemon once) and print their table"

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

bench: bench-parse bench-loader bench-bluegreen

bench-parse: venv
	$(PY) tests/benchmarks/bench_parse.py

bench-loader: venv
	$(PY) tests/benchmarks/bench_loader.py

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

# Fault drills (tests/drills, marker `drill`): each injects one fault into the real system,
# is bounded in time and prints what it injected and observed; the run ends with the table
# (also written to $(DRILL_TABLE)). Only here does the Docker-daemon drill run: it restarts
# the machine's shared daemon once. `make test` runs every other drill.
DRILL_TABLE ?= build/drills.md
drills: venv demo-images
	mkdir -p $(dir $(DRILL_TABLE))
	HANDOFF_DRILL_DOCKER_RESTART=1 HANDOFF_DRILL_TABLE=$(DRILL_TABLE) timeout 2700 \
		$(PY) -m pytest -m drill tests/drills -q
