"""Test DAG: a handoff's real gates, asked after a preflight that hands them the run's settings.

`tests/integration/gates/test_gate_text.py` runs it with dag.test() for the contract named by
HANDOFF_GATE_TEXT_CONTRACT (full of template syntax) and reads the questions the gates wrote
to Airflow's human-in-the-loop table. Without that variable the file defines no DAG.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, get_current_context

from handoff.catalog import load_handoff
from handoff.plan.graph import PREFLIGHT_TASK, Runs, build_graph
from handoff.render.dag import _Renderer
from handoff.runtime.settings import Answers, RunSettings

DAG_ID = "handoff_gate_text"


def preflight() -> dict[str, Any]:
    """Return the settings the gates read: the form's release, no rehearsal, no answers."""
    now = datetime.now(UTC)
    release = (get_current_context()["dag_run"].conf or {})["release"]
    settings = RunSettings(
        deploy_at=now,
        release=release,
        time_scale=1.0,
        emergency_reason="",
        answers=Answers(go_no_go="", user_issues="", handover=""),
        window_closes_at=now + timedelta(hours=1),
        notice_lead=timedelta(0),
    )
    return {"settings": settings.to_xcom()}


_CONTRACT = os.environ.get("HANDOFF_GATE_TEXT_CONTRACT")
if _CONTRACT:
    _handoff = load_handoff(Path(_CONTRACT))
    assert _handoff.plan is not None
    _graph = build_graph(_handoff.plan)
    _renderer = _Renderer(_handoff, _graph)
    # The handoff's human gates as its DAG renders them, outside their groups here.
    _gates = [
        replace(task, id=task.name, group=None)
        for task in _graph.tasks
        if task.runs is Runs.HUMAN_GATE
    ]
    with DAG(dag_id=DAG_ID, schedule=None, tags=["test", "gates"]):
        first = PythonOperator(task_id=PREFLIGHT_TASK, python_callable=preflight, retries=0)
        first >> [_renderer.operator(gate) for gate in _gates]
