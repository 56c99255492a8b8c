"""The task-level failure callback escalates: which step, why, what happens next, the log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.tasks.notify import escalate
from tests.support.handoffs import SEED_ID, make_handoffs
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

pytestmark = pytest.mark.integration


@dataclass
class FailedTry:
    """The fields of a task instance an escalation reads (what the task runner passes)."""

    task_id: str
    try_number: int = 2
    dag_id: str = "handoff_prod_deployment_001"
    run_id: str = "manual__2026-11-28T09:00:00+00:00"

    def xcom_pull(self, task_ids: str) -> dict[str, Any]:
        return {"settings": {"time_scale": 3600, "release": "ux:2.0"}}


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with slack_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(receiver.url))
        yield receiver


@pytest.mark.parametrize(
    ("task_id", "consequence"),
    [
        ("pre_switch_gates.health_via_preview", "abort: the new colour is removed"),
        ("validation_period.watch", "rollback to the previous colour"),
        ("rollback.roll_back", "MANUAL INTERVENTION"),
        ("wait_for_deploy_time", "deployment window was missed"),
    ],
)
def test_a_failed_step_is_escalated_with_reason_consequence_and_log(
    slack: Receiver, tmp_path: Path, task_id: str, consequence: str
) -> None:
    contract = make_handoffs(tmp_path, [SEED_ID]) / f"{SEED_ID}.md"
    escalate(str(contract), {"ti": FailedTry(task_id), "exception": ValueError("p95 612 ms > 500")})
    [body] = slack.inbox.bodies
    for needle in (task_id, "p95 612 ms &gt; 500", consequence, f"/tasks/{task_id}?try_number=2"):
        assert needle in body["blocks"][1]["text"]["text"]
    escalate(str(contract), {"ti": FailedTry(task_id), "exception": ValueError("again")})
    assert len(slack.inbox.bodies) == 1  # the same try is escalated once


def test_an_escalation_that_cannot_be_built_never_raises(tmp_path: Path) -> None:
    escalate(str(tmp_path / "missing.md"), {"ti": FailedTry("deploy.start_release")})
