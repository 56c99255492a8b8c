"""Fixtures for the watch tests on real components: Airflow's dag.test() and the demo service.

The Airflow environment (a private AIRFLOW_HOME whose DAGs folder links tests/e2e/dags) is set
before anything imports Airflow; the database is reset once per session.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
import requests

# The same session fixture as the blue-green tests: an engine with the demo images built.
from tests.integration.bluegreen.conftest import docker_client
from tests.support.airflow_env import configure_airflow
from tests.support.demo import V1, free_port

DAGS_FOLDER = configure_airflow()
WINDOW_DAG = "handoff_watch_window_e2e"
__all__ = ["docker_client"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Reset the private test database once."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def window_dag(airflow_db: None) -> Any:
    """Return the watch-window test DAG, parsed from the configured DAGs folder."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "watch_window_e2e.py"))
    assert bag.import_errors == {}
    return bag.dags[WINDOW_DAG]


DemoFactory = Callable[..., str]


@pytest.fixture
def demo_service(docker_client: docker.DockerClient) -> Iterator[DemoFactory]:
    """Return a factory starting the demo service on a free loopback port; returns its URL."""
    containers: list[Any] = []

    def start(**environment: str) -> str:
        port = free_port()
        container = docker_client.containers.run(
            V1,
            name=f"watch-it-{uuid.uuid4().hex[:8]}",
            environment=environment,
            ports={"8000/tcp": ("127.0.0.1", port)},
            labels={"handoff.test": "watch"},
            detach=True,
        )
        containers.append(container)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, deadline_s=30)
        return url

    yield start
    for container in containers:
        container.remove(force=True)


def wait_healthy(url: str, deadline_s: float) -> None:
    """Wait until the service answers /health with 200."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"demo service at {url} did not become healthy within {deadline_s} s")
