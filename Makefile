# One entry point for people and CI. `make test` and `make run` work on a fresh machine:
# they create the virtualenv and install what is missing before doing anything else.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# plugins/ is on sys.path in every Airflow component; the CLI and tests see the package the same way.
export PYTHONPATH := $(CURDIR)/plugins

.PHONY: help venv run test unit lint typecheck check bench bench-parse
.PHONY: docker-engine demo-images browser bench-bluegreen bench-switch bench-loader bench-report demo-reset
.PHONY: compose-tool compose-images compose-env compose-up compose-down compose-test drills
.PHONY: observability observability-status observability-down bench-fault bench-windows

help:
	@echo "make run        install what is missing, start the demo service, a Slack receiver and"
	@echo "                Airflow (UI on http://localhost:8080); Ctrl-C stops them"
	@echo "make demo-reset put the demo service back to blue 1.0.0 live (after a rehearsal)"
	@echo "make test       install what is missing and run the whole test suite"
	@echo "make check      ruff + mypy"
	@echo "make bench      run the benchmarks (they print figures); e.g. make bench-switch"
	@echo "                BENCH_ARGS=\"--store postgres --connections 64,256\""
	@echo "make demo-images  start a Docker engine if none answers, build the demo images"
	@echo "make observability  start Prometheus, Alertmanager and the exporters when missing"
	@echo "                (Prometheus on http://127.0.0.1:19090); observability-down removes them"
	@echo "make compose-up   the Postgres + Redis + Celery stack (docker-compose.yaml); compose-down stops it"
	@echo "make compose-test build, start, seed rehearsal on a Celery worker, remove all (~5 min, ~10 the first time)"
	@echo "make drills     run the fault drills (restarts the Docker daemon once) and print their table"

# The stamp is rebuilt whenever the pins change, so an install is never stale.
$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed

# Demo service (blue live), local Slack receiver and `airflow standalone` until Ctrl-C;
# the logic lives in include/demo/scripts/run.py.
run: venv demo-images browser observability
	$(PY) -m handoff lint include/handoffs
	$(PY) include/demo/scripts/run.py

demo-reset: venv demo-images
	$(PY) include/demo/scripts/run.py reset

unit: venv
	$(PY) -m pytest tests/unit

# The integration tests need a Docker engine and the demo images; both targets are idempotent.
test: venv demo-images browser observability
	$(PY) -m pytest

lint: venv
	$(PY) -m handoff lint include/handoffs

typecheck: venv
	$(PY) -m mypy

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

bench: bench-parse bench-loader bench-bluegreen bench-switch bench-report bench-fault bench-windows

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

# Prometheus, Alertmanager, blackbox and node exporters (Debian's packages, images built by
# demo-images) as containers on loopback-only ports; started when missing, kept otherwise;
# then every running router is watched. See docs/observability.md.
observability: venv demo-images
	$(PY) include/observability/stack.py up

observability-status: venv
	$(PY) include/observability/stack.py status

# Removes the containers; the data and configuration volumes stay.
observability-down: venv
	$(PY) include/observability/stack.py down

# Debian's chromium for accessibility audits and browser tests (Playwright drives it).
browser:
	include/demo/scripts/ensure-chromium.sh

bench-bluegreen: venv demo-images
	$(PY) tests/benchmarks/bench_bluegreen.py $(BENCH_ARGS)

# Latency around the router step with an independent client: 16/64/256 keep-alive
# connections and a new connection per request, 10 switches and 10 rollbacks each.
bench-switch: venv demo-images
	$(PY) tests/benchmarks/bench_switch_latency.py $(BENCH_ARGS)

# A release that fails only real users: the Prometheus watch against the probe-only one.
bench-fault: venv demo-images observability
	$(PY) tests/benchmarks/bench_real_traffic_fault.py

# 200 watch windows in one process (as in one triggerer), each judging in Prometheus.
bench-windows: venv demo-images observability
	$(PY) tests/benchmarks/bench_watch_windows.py

# The docker-compose stack (Postgres, Redis, CeleryExecutor): images built locally on the
# debootstrap base, secrets in a git-ignored .env written once with fresh values.
COMPOSE = $(shell include/compose/ensure-compose.sh 2>/dev/null | tail -n 1)

compose-tool:
	include/compose/ensure-compose.sh

compose-images: docker-engine
	include/compose/build-images.sh

compose-env:
	include/compose/write-env.sh

compose-up: compose-tool compose-images compose-env
	$(COMPOSE) up -d
	@echo "UI: http://127.0.0.1:$$(grep -oP '^HANDOFF_API_PORT=\K.*' .env || echo 8080) (admin, HANDOFF_ADMIN_PASSWORD in .env)"

compose-down: compose-tool
	$(COMPOSE) --profile demo down

# Builds the images, starts a stack of its own (project handoff-compose-test, free loopback
# ports, its own secrets), runs a seed rehearsal on a Celery worker and removes it all.
compose-test: venv compose-tool compose-images
	$(PY) -m tests.compose.run_stack_test

# Fault drills (tests/drills, marker `drill`): each injects one fault into the real system,
# is bounded in time and prints what it injected and observed; the run ends with the table
# (also written to $(DRILL_TABLE)). Only here does the Docker-daemon drill run: it restarts
# the machine's shared daemon once. `make test` runs every other drill.
DRILL_TABLE ?= build/drills.md
drills: venv demo-images
	mkdir -p $(dir $(DRILL_TABLE))
	HANDOFF_DRILL_DOCKER_RESTART=1 HANDOFF_DRILL_TABLE=$(DRILL_TABLE) timeout 2700 \
		$(PY) -m pytest -m drill tests/drills -q
