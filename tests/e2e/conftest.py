"""Real Airflow components for the e2e tests: `airflow standalone` started and stopped by the test.

Standalone runs in its own session (so its whole process group can be stopped), with its own
AIRFLOW_HOME, a free port, a JWT secret shared by its components and the venv's bin on PATH.
Its DAGs folder holds tests/e2e/dags; its plugins folder is the project's plugins/, and
PYTHONPATH is removed, so the triggerer imports the watch trigger the way production does.
One executor slot (parallelism 1) makes "a deferred task holds no worker slot" observable.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import load_handoff
from tests.support.demo import ROOT, ensure_demo_images, free_port, put_v1_live
from tests.support.handoffs import SEED_ID, make_handoffs
from tests.support.observability import (
    alertmanager_posting_to_a_receiver,
    forget_service,
    running_stack,
)
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

GATE_HANDOFF_ID = "GATE-E2E"
# A copy of the gate handoff whose DAG stays paused: the console test creates a run that never
# starts and writes the records the handoff page reads (tests/e2e/test_handoff_console.py).
CONSOLE_HANDOFF_ID = "CONSOLE-E2E"
GATE_SERVICE = f"gate-e2e-{secrets.token_hex(3)}"
# The seed contract as handed over (its own id and DAG id), accepted for a service, ports and
# environment of its own so it never meets `make run`'s demo service or the gate handoff.
SEED_SERVICE = f"seed-e2e-{secrets.token_hex(3)}"
SEED_ENVIRONMENT = "seed-e2e"

E2E_DAGS = ROOT / "tests" / "e2e" / "dags"
VENV_BIN = Path(sys.executable).parent
START_DEADLINE_S = 120


@dataclass
class Airflow:
    """A running standalone Airflow and an authenticated REST API v2 session."""

    url: str
    home: Path
    session: requests.Session
    slack: Receiver | None = None
    #: Where Alertmanager posts while an observed service's test runs (seed_service).
    alerts: Receiver | None = None

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API v2 and return the JSON answer; fail the test on an HTTP error."""
        answer = self.session.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
        if answer.status_code >= 400:
            pytest.fail(f"{method} {path}: HTTP {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def wait_for(
        self, what: str, probe: Callable[[], Any], deadline_s: float, every_s: float = 0.5
    ) -> Any:
        """Poll until ``probe`` returns a true value; fail the test when the deadline passes."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            value = probe()
            if value:
                return value
            time.sleep(every_s)
        pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}\n{self.tail_log()}")

    def tail_log(self, lines: int = 40) -> str:
        """Return the end of standalone's output, for failure messages."""
        log = self.home / "standalone.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def standalone_env(home: Path, dags: Path, port: int, slack_url: str) -> dict[str, str]:
    """Return the environment of the standalone process: nothing inherited from Airflow tests.

    The handoffs' Slack connection (handoff_slack) points at ``slack_url``, a local receiver.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "HANDOFF_TEST", "_AIRFLOW")) and k != "PYTHONPATH"
    }
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "1",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW_CONN_HANDOFF_SLACK": conn_json(slack_url),
        }
    )
    return env


def stop_group(process: subprocess.Popen[bytes], descendants: set[int]) -> None:
    """Stop standalone's process group, then any descendant that left it, by pid."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    for pid in [process.pid, *descendants]:
        try:
            child = psutil.Process(pid)
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                child.kill()
        except psutil.Error:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def descendants_of(pid: int) -> set[int]:
    """Return the pids of every process below ``pid`` right now."""
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


@pytest.fixture(scope="session")
def slack() -> Iterator[Receiver]:
    """The local webhook receiver the handoffs' Slack connection points at."""
    with slack_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory, slack: Receiver) -> Iterator[Airflow]:
    """Start `airflow standalone`, log in through the REST API, stop everything afterwards."""
    home = tmp_path_factory.mktemp("airflow-e2e")
    dags = home / "dags"
    dags.mkdir()
    for dag_file in E2E_DAGS.glob("*.py"):
        shutil.copy(dag_file, dags / dag_file.name)
    # The handoff the gate test drives: written before start so the first parse finds it.
    write_gate_handoff(dags)
    write_seed_handoff(dags)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (home / "standalone.log").open("wb") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "standalone"],
            cwd=home,
            env=standalone_env(home, dags, port, slack.url),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session and process group: stop them all at the end
        )
    seen: set[int] = set()
    runtime = Airflow(url, home, requests.Session(), slack)
    try:

        def healthy() -> bool:
            seen.update(descendants_of(process.pid))
            if process.poll() is not None:
                pytest.fail(f"airflow standalone exited with {process.returncode}")
            try:
                return requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        runtime.wait_for("the API server", healthy, START_DEADLINE_S)
        token = requests.post(
            f"{url}/auth/token", json={"username": "admin", "password": admin_password(home)}
        )
        token.raise_for_status()
        runtime.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield runtime
    finally:
        seen.update(descendants_of(process.pid))
        stop_group(process, seen)


@pytest.fixture
def seed_service(airflow: Airflow) -> Iterator[BlueGreenEngine]:
    """Blue runs 1.0.0 live before the handoff; everything is removed afterwards.

    The seed's environment is observed: its deploy registers the service with the machine's
    Prometheus, and Alertmanager posts to ``airflow.alerts`` (a receiver of the test's).
    """
    ensure_demo_images()
    engine = put_v1_live(load_handoff(airflow.home / "dags" / "handoffs" / f"{SEED_ID}.md"))
    try:
        with alertmanager_posting_to_a_receiver(running_stack()) as alerts:
            airflow.alerts = alerts
            yield engine
    finally:
        airflow.alerts = None
        engine.teardown(remove_data=True, force=True)
        forget_service(engine.config.service)


def write_gate_handoff(dags: Path) -> Path:
    """Write a manual-promotion handoff of the seed under dags/handoffs (read by a test DAG),
    and the console test's copy of it."""
    return make_handoffs(
        dags,
        [GATE_HANDOFF_ID, CONSOLE_HANDOFF_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {GATE_SERVICE}",
            "ux-portal-data": f"{GATE_SERVICE}-data",
            "  mode: automatic": "  mode: manual",
        },
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 30s",
        },
        accepted_now=True,
    )


def write_seed_handoff(dags: Path) -> Path:
    """Write the seed handoff under dags/handoffs with its own environment file; return it."""
    source = make_handoffs(
        dags.parent / SEED_ENVIRONMENT,
        [SEED_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {SEED_SERVICE}",
            "ux-portal-data": f"{SEED_SERVICE}-data",
            "environment: demo": f"environment: {SEED_ENVIRONMENT}",
        },
        environment_edits={
            "name: demo": f"name: {SEED_ENVIRONMENT}",
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 30s",
        },
        accepted_now=True,
        observed=True,
    )
    handoffs = dags / "handoffs"
    environments = dags / "environments"
    handoffs.mkdir(exist_ok=True)
    environments.mkdir(exist_ok=True)
    for path in source.iterdir():
        shutil.copy(path, handoffs / path.name)
    shutil.copy(
        source.parent / "environments" / "demo.yaml", environments / f"{SEED_ENVIRONMENT}.yaml"
    )
    return handoffs / f"{SEED_ID}.md"


def admin_password(home: Path) -> str:
    """Return the admin password standalone generated (written once the API server starts)."""
    path = home / "simple_auth_manager_passwords.json.generated"
    end = time.monotonic() + 30
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.2)
    return str(json.loads(path.read_text())["admin"])
