"""WatchWindowOperator under Airflow's dag.test(): it defers, the trigger runs, it resumes.

dag.test() runs the trigger inline (and ignores the defer timeout); the deferral itself, the
serde round trip of the trigger kwargs, the templated time scale and the resume method are
Airflow's real code paths.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from tests.integration.watch.conftest import WINDOW_DAG
from tests.support.loopback import Behaviour, loopback_service

pytestmark = pytest.mark.integration

TASK = "validation_period"


def task_outcome(run: Any) -> tuple[str, dict[str, Any] | None]:
    """Return the watch task's state and its 'verdict' XCom."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ti = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == WINDOW_DAG,
                TaskInstance.run_id == run.run_id,
                TaskInstance.task_id == TASK,
            )
        ).one()
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, key="verdict", task_ids=TASK, dag_ids=WINDOW_DAG)
        ).first()
        verdict = None if row is None else XComModel.deserialize_value(row)
        return str(ti.state), verdict


def test_window_completes_and_returns_its_summary(
    window_dag: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with loopback_service() as service:
        caplog.set_level(logging.INFO, logger="handoff")
        started = time.monotonic()
        # 1 h scaled ÷720 = 5 s of probing.
        run = window_dag.test(run_conf={"base_url": service.url, "time_scale": 720})
        took = time.monotonic() - started
        requests = service.behaviour.requests
    state, verdict = task_outcome(run)
    assert (str(run.state), state) == ("success", "success")
    assert verdict is not None and verdict["status"] == "completed"
    summary = verdict["summary"]
    assert summary["errors"] == 0
    assert summary["samples"] == requests > 10
    assert took >= 5
    log = caplog.text
    assert "window validation period: 1 h (scaled ÷720 -> 5 s) ends at" in log
    assert "decision: completed" in log


def test_breach_fails_the_task_early_with_the_evidence(
    window_dag: Any, caplog: pytest.LogCaptureFixture
) -> None:
    behaviour = Behaviour()
    behaviour.fail_in(1.0)
    with loopback_service(behaviour) as service:
        caplog.set_level(logging.INFO, logger="handoff")
        started = time.monotonic()
        # 1 h scaled ÷60 = 60 s window; the breach must end it long before.
        run = window_dag.test(run_conf={"base_url": service.url, "time_scale": 60})
        took = time.monotonic() - started
    state, verdict = task_outcome(run)
    assert (str(run.state), state) == ("failed", "failed")
    assert verdict is not None and verdict["status"] == "breach"
    assert verdict["breach"]["kind"] == "error_rate"
    assert took < 40, f"the breach should end the 60 s window early, took {took:.0f} s"
    log = caplog.text
    assert "decision: BREACH (error_rate)" in log
    assert "HTTP 500 on /api/status" in log
