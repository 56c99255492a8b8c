"""How a deploy tells a stale lease from a live one: Airflow's run state, through the task SDK.

Real Airflow (dag.test(), the task SDK's supervisor and execution API in process): a run is
running while it asks about itself, a finished run has ended, and a run Airflow never had is
gone. The drill under real components (tests/drills/test_two_handoffs_airflow.py) breaks a
lease of a deleted run; this covers the finished one, where the task SDK's answer is an enum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.airflow_env import configure_airflow

DAGS_FOLDER = configure_airflow()
DAG_ID = "handoff_lease_run_state"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dag(airflow_db: None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "lease_run_state_dag.py"))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def verdicts(dag: Any, out: Path, owners: list[str]) -> tuple[Any, dict[str, str | None]]:
    run = dag.test(run_conf={"out": str(out), "owners": owners})
    assert str(run.state) == "success", run
    return run, json.loads(out.read_text())


def test_running_finished_and_unknown_runs_are_told_apart(dag: Any, tmp_path: Path) -> None:
    never = f"{DAG_ID}/manual__never-existed"
    first, judged = verdicts(dag, tmp_path / "first.json", [never])
    own = f"{DAG_ID}/{first.run_id}"
    assert judged[own] is None  # a run asking while it runs: still running, never broken
    assert judged[never] == (
        f"run manual__never-existed of {DAG_ID} does not exist in this Airflow (deleted)"
    )
    _, judged = verdicts(dag, tmp_path / "second.json", [own])
    assert judged[own] == "its run ended success"
