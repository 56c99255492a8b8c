"""Under real components, a watch window waits deferred in the triggerer, holds no worker slot,
and resumes to succeed when the window ends.

The executor has one slot. While the window is deferred: the task instance's state is
"deferred", the default pool counts it as deferred and not running, the triggerer keeps
probing the service, and another DAG's task runs to success on the one slot.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Airflow
from tests.support.loopback import Behaviour, loopback_service

pytestmark = pytest.mark.e2e

WINDOW_DAG = "handoff_watch_window_e2e"
PROBE_DAG = "handoff_watch_slot_probe"
TASK = "validation_period"
WINDOW_S = 20  # 1 h scaled ÷180


def trigger_run(airflow: Airflow, dag_id: str, conf: dict[str, Any]) -> str:
    airflow.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    run = airflow.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    return str(run["dag_run_id"])


def task_state(airflow: Airflow, dag_id: str, run_id: str, task_id: str) -> str | None:
    ti = airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    return ti.get("state")


def run_state(airflow: Airflow, dag_id: str, run_id: str) -> str:
    return str(airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])


def task_log(airflow: Airflow, dag_id: str, run_id: str, task_id: str) -> str:
    answer = airflow.api(
        "GET",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
    )
    content = answer.get("content", [])
    if isinstance(content, str):
        return content
    return "\n".join(log_line(item) for item in content)


def log_line(item: Any) -> str:
    """Render one structured log record: its message and any exception it carries."""
    if not isinstance(item, dict):
        return str(item)
    text = str(item.get("event", item))
    for error in item.get("error_detail") or ():
        text += f"\n{error.get('exc_type')}: {error.get('exc_value')}"
    return text


def test_watch_window_defers_holds_no_slot_and_resumes(airflow: Airflow) -> None:
    def parsed() -> bool:
        dags = airflow.api("GET", "/dags", params={"dag_id_pattern": "handoff_watch"})
        return {d["dag_id"] for d in dags["dags"]} >= {WINDOW_DAG, PROBE_DAG}

    airflow.wait_for("the dag-processor to parse the test DAGs", parsed, deadline_s=60)
    errors = airflow.api("GET", "/importErrors")
    assert errors["total_entries"] == 0, errors

    with loopback_service() as service:
        started = time.monotonic()
        run_id = trigger_run(airflow, WINDOW_DAG, {"base_url": service.url, "time_scale": 180})
        states: list[str | None] = []

        def deferred() -> bool:
            states.append(task_state(airflow, WINDOW_DAG, run_id, TASK))
            return states[-1] == "deferred"

        airflow.wait_for("the window to defer", deferred, deadline_s=60)
        deferred_after = time.monotonic() - started

        # Deferred, not running: the pool counts it as deferred and no slot as running.
        pool = airflow.api("GET", "/pools/default_pool")
        assert (pool["running_slots"], pool["deferred_slots"]) == (0, 1), pool

        # The one executor slot is free: another DAG's task runs while the window waits.
        probe_run = trigger_run(airflow, PROBE_DAG, {})
        airflow.wait_for(
            "the slot probe to succeed while the window is deferred",
            lambda: run_state(airflow, PROBE_DAG, probe_run) in {"success", "failed"},
            deadline_s=WINDOW_S,
        )
        assert run_state(airflow, PROBE_DAG, probe_run) == "success"
        assert task_state(airflow, WINDOW_DAG, run_id, TASK) == "deferred"

        # The triggerer is probing the service meanwhile.
        before = service.behaviour.requests
        time.sleep(1.5)
        assert service.behaviour.requests > before, "the trigger is not probing"

        airflow.wait_for(
            "the window to end and the task to resume",
            lambda: run_state(airflow, WINDOW_DAG, run_id) in {"success", "failed"},
            deadline_s=WINDOW_S + 60,
        )
        took = time.monotonic() - started
        probes = service.behaviour.requests

    assert run_state(airflow, WINDOW_DAG, run_id) == "success", airflow.tail_log()
    assert task_state(airflow, WINDOW_DAG, run_id, TASK) == "success"
    assert took >= WINDOW_S
    assert deferred_after < WINDOW_S

    verdict = airflow.api(
        "GET", f"/dags/{WINDOW_DAG}/dagRuns/{run_id}/taskInstances/{TASK}/xcomEntries/verdict"
    )["value"]
    assert verdict["status"] == "completed"
    assert verdict["summary"]["samples"] == probes
    assert verdict["summary"]["errors"] == 0

    log = task_log(airflow, WINDOW_DAG, run_id, TASK)
    assert "window validation period: 1 h (scaled ÷180 -> 20 s) ends at" in log
    assert "Pausing task as DEFERRED" in log
    # The triggerer's lines land in the task log between the deferral and the resume.
    assert "window validation period: 20 probes, 0 errors" in log
    assert f"window validation period: completed: {probes} probes, 0 errors" in log
    assert "decision: completed" in log


def test_breach_ends_the_window_early_and_fails_the_task(airflow: Airflow) -> None:
    behaviour = Behaviour()
    behaviour.fail_in(0)
    with loopback_service(behaviour) as service:
        started = time.monotonic()
        # 1 h scaled ÷60 = a 60 s window, probed every second; the breach must end it early.
        run_id = trigger_run(airflow, WINDOW_DAG, {"base_url": service.url, "time_scale": 60})
        airflow.wait_for(
            "the breach to fail the run",
            lambda: run_state(airflow, WINDOW_DAG, run_id) in {"success", "failed"},
            deadline_s=90,
        )
        took = time.monotonic() - started
    assert run_state(airflow, WINDOW_DAG, run_id) == "failed"
    assert task_state(airflow, WINDOW_DAG, run_id, TASK) == "failed"
    assert took < 45, f"the breach should end the 60 s window early, took {took:.0f} s"
    verdict = airflow.api(
        "GET", f"/dags/{WINDOW_DAG}/dagRuns/{run_id}/taskInstances/{TASK}/xcomEntries/verdict"
    )["value"]
    assert verdict["status"] == "breach"
    assert verdict["breach"]["kind"] == "error_rate"
    log = task_log(airflow, WINDOW_DAG, run_id, TASK)
    assert "window validation period: BREACH after" in log  # the triggerer's line
    assert "decision: BREACH (error_rate)" in log
    assert "window validation period breached at" in log  # AirflowFailException's message
