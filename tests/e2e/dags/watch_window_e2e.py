"""Test DAGs for the watch window: one window, and a one-task DAG that needs a worker slot.

The e2e test runs them under real components with one executor slot: while the window sits
deferred in the triggerer, the slot probe must still run. The dag.test() integration tests
use the window DAG too. The base URL and the time scale come from the trigger form.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, task

from handoff.watch.evaluate import WatchThresholds
from handoff.watch.operator import WatchWindowOperator

with DAG(
    dag_id="handoff_watch_window_e2e",
    schedule=None,
    max_active_runs=1,
    tags=["test", "watch"],
    params={
        "base_url": Param("http://127.0.0.1:8080", type="string", title="Live listener"),
        "time_scale": Param(180, type="number", minimum=1, title="Rehearsal time scale"),
    },
):
    WatchWindowOperator(
        task_id="validation_period",
        window="validation period",
        duration=timedelta(hours=1),
        base_url="{{ params.base_url }}",
        health_path="/health",
        probe_paths=["/api/status"],
        interval=timedelta(minutes=1),
        thresholds=WatchThresholds(min_samples=10, max_health_failures=3),
        time_scale="{{ params.time_scale }}",
        retries=0,
    )

with DAG(dag_id="handoff_watch_slot_probe", schedule=None, tags=["test", "watch"]):

    @task(retries=0)
    def needs_a_worker_slot() -> str:
        """Run at all: proof that a worker slot was free."""
        return "ran"

    needs_a_worker_slot()
