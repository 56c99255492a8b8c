"""Airflow's components as separate processes (not `standalone`), so a drill can restart one.

Same environment as the e2e harness (tests/e2e/conftest.standalone_env): own AIRFLOW_HOME,
free port, shared JWT secret, the project's plugins folder, PYTHONPATH removed so the
triggerer imports the watch trigger the way production does. Each component runs in its own
session; stopping one stops its whole process group, by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import load_handoff
from tests.e2e.conftest import E2E_DAGS, VENV_BIN, Airflow, admin_password, standalone_env
from tests.support.demo import ensure_demo_images, free_port, put_v1_live
from tests.support.handoffs import make_handoffs
from tests.support.observability import (
    alertmanager_posting_to_a_receiver,
    forget_service,
    running_stack,
)
from tests.support.slack_receiver import Receiver, event_of, slack_receiver

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HANDOFF_ID = "DRILL-RESTART"
DAG_ID = "handoff_drill_restart"


@dataclass
class Components:
    """The running components of one Airflow, each restartable on its own."""

    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """Start one component, logging to <home>/<name>.<n>.log."""
        count = self.restarts.get(name, 0)
        with (self.home / f"{name}.{count}.log").open("wb") as out:
            process = subprocess.Popen(
                [str(VENV_BIN / "airflow"), name],
                cwd=self.home,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def stop(self, name: str, grace_s: float = 30.0) -> float:
        """Stop one component (SIGTERM to its group, SIGKILL after the grace); return seconds."""
        process = self.processes.pop(name)
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything of the group that outlived it
        return time.monotonic() - started

    def restart(self, name: str) -> None:
        """Start a component again after `stop`."""
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.start(name)

    def stop_all(self) -> None:
        """Stop every component still running."""
        for name in list(self.processes):
            self.stop(name, grace_s=15.0)


@contextlib.contextmanager
def airflow_components(
    home: Path, dags: Path, slack_url: str
) -> Iterator[tuple[Airflow, Components]]:
    """Migrate the database, start the four components, log in; stop them all afterwards."""
    port = free_port()
    env = standalone_env(home, dags, port, slack_url)
    env["AIRFLOW__CORE__PARALLELISM"] = "4"
    subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"],
        cwd=home,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    components = Components(home, env)
    url = f"http://127.0.0.1:{port}"
    runtime = Airflow(url, home, requests.Session())
    try:
        for name in COMPONENTS:
            components.start(name)

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        runtime.wait_for("the API server", healthy, 120)
        token = requests.post(
            f"{url}/auth/token",
            json={"username": "admin", "password": admin_password(home)},
            timeout=10,
        )
        token.raise_for_status()
        runtime.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield runtime, components
    finally:
        components.stop_all()


@dataclass
class LiveHandoff:
    """The seed handoff loaded by running components, its service live on 1.0.0 (blue)."""

    airflow: Airflow
    components: Components
    engine: BlueGreenEngine
    slack: Receiver
    alerts: Receiver | None = None


def write_handoff(
    dags: Path, service: str, sidecar_edits: dict[str, str] | None = None, observed: bool = False
) -> Path:
    """Write the seed handoff for ``service`` under dags/handoffs with the e2e loader beside."""
    shutil.copy(E2E_DAGS / "handoff_gates_e2e.py", dags / "handoff_loader.py")
    shutil.copy(E2E_DAGS / "handoff_errors_e2e.py", dags / "handoff_errors.py")
    folder = make_handoffs(
        dags,
        [HANDOFF_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {service}",
            "ux-portal-data": f"{service}-data",
            **(sidecar_edits or {}),
        },
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 30s",
        },
        accepted_now=True,
        observed=observed,
    )
    return folder / f"{HANDOFF_ID}.md"


@contextlib.contextmanager
def handoff_on_components(
    root: Path, service: str, sidecar_edits: dict[str, str] | None = None, observed: bool = False
) -> Iterator[LiveHandoff]:
    """Run components over the seed handoff of a fresh service; remove it all afterwards.

    ``observed``: the environment registers the service with the machine's Prometheus, and
    Alertmanager posts to a receiver of the drill's (``LiveHandoff.alerts``).
    """
    ensure_demo_images()
    home = root / "airflow"
    dags = home / "dags"
    dags.mkdir(parents=True)
    engine = put_v1_live(load_handoff(write_handoff(dags, service, sidecar_edits, observed)))
    try:
        with (
            slack_receiver() as slack,
            alerting(observed) as alerts,
            airflow_components(home, dags, slack.url) as (airflow, components),
        ):
            airflow.wait_for(
                "the handoff DAG to be parsed",
                lambda: any(d["dag_id"] == DAG_ID for d in airflow.api("GET", "/dags")["dags"]),
                120,
                every_s=2,
            )
            yield LiveHandoff(airflow, components, engine, slack, alerts)
    finally:
        engine.teardown(remove_data=True, force=True)
        forget_service(service)


@contextlib.contextmanager
def alerting(observed: bool) -> Iterator[Receiver | None]:
    """Point Alertmanager at a receiver of the drill's when the handoff is observed."""
    if not observed:
        yield None
        return
    with alertmanager_posting_to_a_receiver(running_stack()) as receiver:
        yield receiver


def events_of_run(bodies: list[dict[str, Any]], run_id: str) -> list[str]:
    """Return the Slack events of one run, in arrival order."""
    return [event_of(b) for b in bodies if run_id in json.dumps(b)]
