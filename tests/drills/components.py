"""Airflow's components as separate processes (not `standalone`), so a drill can restart one.

Same environment as the e2e harness (tests/e2e/conftest.standalone_env): own AIRFLOW_HOME,
free port, shared JWT secret, the project's plugins folder, PYTHONPATH removed so the
triggerer imports the watch trigger the way production does. Each component runs in its own
session; stopping one stops its whole process group, by pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.e2e.conftest import VENV_BIN, Airflow, admin_password, standalone_env
from tests.support.demo import free_port

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


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
