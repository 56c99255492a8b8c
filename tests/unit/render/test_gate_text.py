"""Contract text in the human gates is data: Airflow's templating never reads it.

Each gate of a DAG built from a contract whose user-impact metric and next steps carry
template syntax is rendered the way the task runner renders a task before it runs
(``render_template_fields`` with real connection and variable accessors, which read the
secrets from the environment here), then run up to the point where it writes its question
for a person. The question must hold the contract's text as written: no secret, no error.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.standard.operators import hitl
from airflow.sdk.exceptions import TaskAwaitingInput
from airflow.sdk.execution_time.context import ConnectionAccessor, VariableAccessor

from handoff.catalog import load_handoff
from handoff.render.dag import build_dag
from handoff.tasks import human_gate
from tests.support.poisoned import (
    MRKDWN_PAYLOADS,
    SECRET_ENV,
    SECRET_URL,
    SECRET_VARIABLE,
    TEMPLATE_PAYLOADS,
    poisoned_handoff,
)

GATES = ("go_no_go", "validation_period.no_user_reported_issues", "handover.sign_off")
RELEASE = "ux:2.0 {{ var.value.x }} <!channel>"  # the trigger form's release is data too


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def template_context() -> dict[str, Any]:
    """Return the template context keys a contract line could reach: conn, var, params."""
    return {
        "conn": ConnectionAccessor(),
        "var": {
            "value": VariableAccessor(deserialize_json=False),
            "json": VariableAccessor(deserialize_json=True),
        },
        "params": {"release": RELEASE},
        "task_instance": SimpleNamespace(id="0190ad1e-0000-7000-8000-000000000001"),
    }


def asked(gate: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Render and run a gate until it waits for a person; return the subject and body it wrote."""
    written: dict[str, Any] = {}
    no_answers = SimpleNamespace(go_no_go="", user_issues="", handover="")
    settings = SimpleNamespace(release=RELEASE, rehearsal=False, answers=no_answers)
    monkeypatch.setattr(human_gate, "run_settings", lambda: settings)
    # The HITL detail goes to the metadata DB through the supervisor; here it is kept.
    monkeypatch.setattr(hitl, "upsert_hitl_detail", lambda **detail: written.update(detail))
    context = template_context()
    gate.render_template_fields(context)  # what the task runner does before execute
    with pytest.raises(TaskAwaitingInput):
        gate.execute(context)
    return written["subject"], written["body"] or ""


def gate_tasks(tmp_path: Path, text: str) -> dict[str, Any]:
    handoff = load_handoff(poisoned_handoff(tmp_path, text))
    assert handoff.deployable, [d.render() for d in handoff.diagnostics]
    dag = build_dag(handoff)
    return {task_id: dag.get_task(task_id) for task_id in GATES}


@pytest.mark.parametrize("payload", TEMPLATE_PAYLOADS)
def test_template_syntax_in_the_contract_is_shown_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    tasks = gate_tasks(tmp_path, payload)
    issues_subject, _ = asked(tasks["validation_period.no_user_reported_issues"], monkeypatch)
    _, handover_body = asked(tasks["handover.sign_off"], monkeypatch)
    go_subject, _ = asked(tasks["go_no_go"], monkeypatch)
    for shown in (issues_subject, handover_body, go_subject):
        assert SECRET_URL not in shown and SECRET_VARIABLE not in shown
    # The markdown reader takes `__x__` for bold: compare with the contract as it was read.
    read = payload.replace("__", "")
    assert issues_subject == f"POISON-1: No user-reported issues within 24 hours {read}?"
    assert f"Confirm production environment readiness {read}" in handover_body
    assert go_subject == f"POISON-1: switch live traffic to {RELEASE}?"


def test_every_payload_at_once_and_mrkdwn_reach_the_gates_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = " ".join(TEMPLATE_PAYLOADS + MRKDWN_PAYLOADS)
    tasks = gate_tasks(tmp_path, text)
    subject, _ = asked(tasks["validation_period.no_user_reported_issues"], monkeypatch)
    _, body = asked(tasks["handover.sign_off"], monkeypatch)
    assert "<!channel>" in subject and "{{ conn.handoff_slack.password }}" in body
    assert SECRET_URL not in subject + body


def test_no_templated_field_of_the_dag_carries_contract_text(tmp_path: Path) -> None:
    """Every field Airflow would render holds only the project's own templates."""
    marker = "{{ conn.handoff_slack.password }}"
    handoff = load_handoff(poisoned_handoff(tmp_path, marker))
    dag = build_dag(handoff)
    for task in dag.tasks:
        for field in task.template_fields:
            value = repr(getattr(task, field))
            assert "handoff_slack" not in value, f"{task.task_id}.{field} carries contract text"
    gate = dag.get_task("handover.sign_off")
    assert gate.template_fields == ()
    assert dag.get_task("preflight").template_fields == ()


def test_a_contract_file_name_with_template_syntax_is_not_rendered(tmp_path: Path) -> None:
    contract = poisoned_handoff(tmp_path, "plain")
    named = contract.with_name("POISON-{{ var.value.x }}.md")
    contract.rename(named)
    contract.with_name("POISON-1.deploy.yaml").rename(
        named.with_name("POISON-{{ var.value.x }}.deploy.yaml")
    )
    handoff = load_handoff(named)
    assert any("file name holds template syntax" in d.message for d in handoff.diagnostics)
    task = build_dag(handoff).get_task("preflight")
    task.render_template_fields(template_context())
    assert task.op_kwargs["contract_path"] == str(named)
