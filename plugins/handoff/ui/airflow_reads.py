"""What the handoff page reads from Airflow's metadata database (the API server's own session).

Airflow's modules are imported inside the functions: the plugin module that registers the
app is imported by every Airflow component, workers included. Each function makes one or two
indexed queries for one run; the page's fragment is cached, so they run once per interval.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.plan.graph import PREFLIGHT_TASK
from handoff.ui.run_view import Gate, RunInfo, TaskRun

RUN_LIMIT = 500  # runs read for the DORA table, newest first


def latest_run(dag_id: str) -> RunInfo | None:
    """Return the DAG's latest run (by run_after), or None."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc())
        ).first()
        if run is None:
            return None
        return RunInfo(
            str(run.run_id), str(run.state), run.start_date, run.end_date, dict(run.conf or {})
        )


def task_runs(dag_id: str, run_id: str) -> dict[str, TaskRun]:
    """Return the run's task instances (map index -1: handoff DAGs map nothing)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.task_id,
                TaskInstance.state,
                TaskInstance.start_date,
                TaskInstance.end_date,
            ).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
    return {
        str(task_id): TaskRun(str(task_id), str(state) if state else "", start, end)
        for task_id, state, start, end in rows
    }


def open_questions(dag_id: str, run_id: str) -> list[Gate]:
    """Return the run's human-in-the-loop questions nobody has answered yet."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, HITLDetail)
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.state.in_(("deferred", "awaiting_input")),
                HITLDetail.responded_at.is_(None),
            )
        ).all()
        return [
            Gate(
                str(task_id),
                str(detail.subject),
                str(detail.body or ""),
                tuple(str(o) for o in (detail.options or ())),
                detail.created_at,
            )
            for task_id, detail in rows
        ]


def preflight_result(dag_id: str, run_id: str) -> dict[str, Any]:
    """Return preflight's XCom (settings, wait_until, hashes), or {} before it ran."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == PREFLIGHT_TASK,
                XComModel.key == "return_value",
            )
        ).first()
        value = XComModel.deserialize_value(row) if row is not None else None
    return value if isinstance(value, dict) else {}


def ended_runs(dag_ids: set[str], since: datetime) -> list[tuple[str, str]]:
    """Return (dag_id, run_id) of the runs that ended since ``since``, newest first."""
    if not dag_ids:
        return []
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(DagRun.dag_id, DagRun.run_id)
            .where(
                DagRun.dag_id.in_(sorted(dag_ids)),
                DagRun.end_date >= since,
                DagRun.state.in_(("success", "failed")),
            )
            .order_by(DagRun.end_date.desc())
            .limit(RUN_LIMIT)
        ).all()
    return [(str(d), str(r)) for d, r in rows]
