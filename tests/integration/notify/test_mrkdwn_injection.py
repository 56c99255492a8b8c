"""What Slack receives: contract fields, the form's values and log lines arrive escaped.

Real delivery: the Slack provider's webhook hook posts to a local receiver that records what
Slack would get. The handoff is a seed whose objective and next steps carry mentions and a
disguised link; the release, the emergency reason and a failed step's container output carry
them too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.catalog import load_handoff
from handoff.notify import messages
from handoff.tasks.notify import announce, escalate
from tests.integration.notify.test_escalation import FailedTry
from tests.support.poisoned import poisoned_handoff
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

pytestmark = pytest.mark.integration

EVIL = "<!channel> <!here> <https://evil.example|Approve here>"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with slack_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(receiver.url))
        yield receiver


def assert_escaped(body: dict[str, object]) -> None:
    sent = json.dumps(body)
    assert "<!channel>" not in sent and "<!here>" not in sent and "<https://evil" not in sent
    assert "&lt;!channel&gt;" in sent and "&lt;https://evil.example|Approve here&gt;" in sent


def test_contract_fields_release_and_reason_arrive_escaped(slack: Receiver, tmp_path: Path) -> None:
    handoff = load_handoff(poisoned_handoff(tmp_path, EVIL))
    assert handoff.plan is not None and handoff.acceptance is not None
    contract = handoff.plan.contract
    context = {"ti": FailedTry("pre_deploy_notice", dag_id="handoff_poison_1")}
    at = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    announce(
        handoff,
        lambda ref: messages.notice(
            ref,
            service=handoff.acceptance.service.name if handoff.acceptance else "",
            release=f"ux:2.0 {EVIL}",
            deploy_at=at,
            lead="24 h",
            sender=contract.sender.name,
            owners=[r.name for r in contract.recipients],
            objective=contract.objective,
        ),
        context,
    )
    announce(
        handoff,
        lambda ref: messages.emergency_override(
            ref, release="ux:2.0", deploy_at=at, reason=EVIL, given="1 min", lead="24 h"
        ),
        context,
    )
    assert len(slack.inbox.bodies) == 2
    for body in slack.inbox.bodies:
        assert_escaped(body)


def test_container_log_lines_in_an_escalation_are_escaped_and_clipped(
    slack: Receiver, tmp_path: Path
) -> None:
    contract = poisoned_handoff(tmp_path, "plain")
    logs = "\n".join(f"{EVIL} line {n} " + "x" * 2000 for n in range(100))
    failure = RuntimeError(f"deploy failed: the release exited; last lines:\n{logs}")
    escalate(str(contract), {"ti": FailedTry("deploy.start_release"), "exception": failure})
    [body] = slack.inbox.bodies
    assert_escaped(body)
    why = body["blocks"][1]["text"]["text"]
    assert len(why) <= 3000
    assert all(len(line) <= messages.MAX_LOG_LINE + 20 for line in why.splitlines())
