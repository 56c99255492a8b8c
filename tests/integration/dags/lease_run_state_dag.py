"""Test DAG: a task asks Airflow, as a deploy does, whether the runs owning leases have ended.

`tests/integration/dags/test_lease_run_state.py` runs it with dag.test(): the task judges its
own run and the owners given in the run's conf, and writes the verdicts to the conf's `out`.
"""

from __future__ import annotations

import json
from pathlib import Path

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, get_current_context

from handoff.tasks.service_lease import ended_run, run_owner


def judge_owners() -> None:
    """Write {owner: why it ended, or None while running} for this run and the conf's owners."""
    conf = get_current_context()["dag_run"].conf or {}
    owners = [run_owner(), *conf.get("owners", [])]
    Path(conf["out"]).write_text(json.dumps({owner: ended_run(owner) for owner in owners}))


with DAG(dag_id="handoff_lease_run_state", schedule=None, tags=["test", "lease"]):
    PythonOperator(task_id="judge_owners", python_callable=judge_owners, retries=0)
