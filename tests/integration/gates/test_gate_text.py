"""The gates' questions as Airflow stores them: contract text as written, no secret, no error.

Real Airflow: dag.test() runs a DAG of the handoff's own gates (built by the renderer from a
contract whose metric and next steps carry template syntax), the task runner renders their
templated fields with the real context (connections and variables from the environment,
where a webhook secret sits), and each gate writes its question to the human-in-the-loop
table and waits. The test reads the questions there, then marks the gates done so the run
ends, as a person would in the UI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import poisoned
from tests.support.airflow_env import configure_airflow

DAGS_FOLDER = configure_airflow()
DAG_ID = "handoff_gate_text"
GATES = {"go_no_go", "no_user_reported_issues", "sign_off"}  # outside their groups here
RELEASE = "ux:2.0 {{ var.value.x }}"

pytestmark = pytest.mark.integration


@pytest.fixture
def dag(airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from airflow.dag_processing.dagbag import DagBag

    for name, value in poisoned.SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    contract = poisoned.poisoned_handoff(
        tmp_path, " ".join(poisoned.TEMPLATE_PAYLOADS + poisoned.MRKDWN_PAYLOADS)
    )
    monkeypatch.setenv("HANDOFF_GATE_TEXT_CONTRACT", str(contract))
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "gate_text_dag.py"))
    assert bag.import_errors == {}
    yield bag.dags[DAG_ID]


def questions_then_done(deadline_s: float = 180) -> dict[str, tuple[str, str | None]]:
    """Wait until every gate asked or failed; answer the waiting ones; return the questions.

    The waiting gates are marked done (what "mark success" in the UI does) once all three
    have settled, or failed at the deadline, so dag.test() always ends.
    """
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    settled = {TaskInstanceState.AWAITING_INPUT, TaskInstanceState.FAILED}
    end = time.monotonic() + deadline_s
    while True:
        with create_session() as session:
            gates = (
                session.query(TaskInstance)
                .filter(TaskInstance.dag_id == DAG_ID, TaskInstance.task_id.in_(GATES))
                .all()
            )
            done = len(gates) == len(GATES) and all(ti.state in settled for ti in gates)
            late = time.monotonic() > end
            if done or late:
                rows = (
                    session.query(TaskInstance.task_id, HITLDetail.subject, HITLDetail.body)
                    .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
                    .filter(TaskInstance.dag_id == DAG_ID)
                    .all()
                )
                for ti in gates:
                    if ti.state == TaskInstanceState.AWAITING_INPUT:
                        ti.state = TaskInstanceState.FAILED if late else TaskInstanceState.SUCCESS
                return {task_id: (subject, body) for task_id, subject, body in rows}
        time.sleep(0.5)


def test_the_stored_questions_hold_the_contract_text_as_written(dag: Any) -> None:
    found: dict[str, Any] = {}
    # dag.test() needs the main thread (it sets signal handlers); the "person" is a thread.
    person = threading.Thread(target=lambda: found.update(asked=questions_then_done()))
    person.start()
    run = dag.test(run_conf={"release": RELEASE})
    person.join(timeout=10)
    assert str(run.state) == "success", run
    asked = found["asked"]
    assert set(asked) == GATES
    every = " ".join(f"{subject} {body}" for subject, body in asked.values())
    assert poisoned.SECRET_URL not in every and poisoned.SECRET_VARIABLE not in every
    subject, _ = asked["no_user_reported_issues"]
    assert "{{ conn.handoff_slack.password }}" in subject and "{% if %}" in subject
    assert "<!channel>" in subject  # a gate is not Slack: shown as written
    _, body = asked["sign_off"]
    assert "Confirm production environment readiness {{ conn.handoff_slack.password }}" in body
    assert asked["go_no_go"][0] == f"POISON-1: switch live traffic to {RELEASE}?"
