"""Delivery through the real Slack provider to a local receiver: retries, idempotency, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.notify import messages
from handoff.notify.deliver import RetryPolicy, deliver
from handoff.notify.ledger import Ledger
from handoff.notify.messages import Message, RunRef
from tests.support.slack_receiver import Receiver, conn_json, down_url, slack_receiver

pytestmark = pytest.mark.integration

CONN_ID = "handoff_slack_test"
REF = RunRef("H-1", "handoff_h_1", "manual__1", "http://af:8080")
FAST = RetryPolicy(tries=3, backoff_s=0.01, timeout_s=5)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with slack_receiver() as running:
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", conn_json(running.url))
        yield running


def send(message: Message, ledger: Ledger) -> str:
    outcome = deliver(
        message, conn_id=CONN_ID, ledger=ledger, dag_id=REF.dag_id, run_id=REF.run_id, policy=FAST
    )
    return outcome.status


def started() -> Message:
    return messages.deploy_started(REF, service="svc", release="svc:2")


def test_a_message_arrives_as_block_kit(receiver: Receiver, tmp_path: Path) -> None:
    assert send(started(), Ledger(tmp_path / "n.sqlite")) == "sent"
    assert receiver.inbox.bodies == [started().payload()]


def test_a_retried_task_does_not_send_the_same_message_twice(
    receiver: Receiver, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "n.sqlite")
    assert send(started(), ledger) == "sent"
    assert send(started(), Ledger(tmp_path / "n.sqlite")) == "already sent"  # as a new process
    assert len(receiver.inbox.bodies) == 1
    [entry] = ledger.entries(REF.dag_id, REF.run_id)
    assert (entry.event, entry.status, entry.attempts) == ("DEPLOY_STARTED", "sent", 1)


def test_failing_twice_then_recovering_loses_and_duplicates_nothing(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.inbox.fail_next = 2
    ledger = Ledger(tmp_path / "n.sqlite")
    assert send(started(), ledger) == "sent"
    assert send(started(), ledger) == "already sent"
    assert receiver.inbox.requests == 3
    assert receiver.inbox.bodies == [started().payload()]
    [entry] = ledger.entries(REF.dag_id, REF.run_id)
    assert (entry.status, entry.attempts) == ("sent", 3)


def test_a_receiver_that_is_down_is_recorded_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", conn_json(down_url()))
    ledger = Ledger(tmp_path / "n.sqlite")
    assert send(started(), ledger) == "failed"
    [entry] = ledger.entries(REF.dag_id, REF.run_id)
    assert (entry.status, entry.attempts) == ("failed", 3)
    assert entry.error
    assert "test-token" not in caplog.text  # the webhook secret never reaches a log


def test_a_failed_message_is_sent_by_the_next_try(receiver: Receiver, tmp_path: Path) -> None:
    receiver.inbox.fail_next = 3
    ledger = Ledger(tmp_path / "n.sqlite")
    assert send(started(), ledger) == "failed"
    assert send(started(), ledger) == "sent"
    assert receiver.inbox.bodies == [started().payload()]


def test_a_missing_connection_is_recorded_not_raised(tmp_path: Path) -> None:
    outcome = deliver(
        started(),
        conn_id="no_such_slack",
        ledger=Ledger(tmp_path / "n.sqlite"),
        dag_id="d",
        run_id="r",
        policy=FAST,
    )
    assert outcome.status == "failed" and "no_such_slack" in outcome.error


def test_rehearsal_scales_the_backoff_down() -> None:
    assert RetryPolicy().scaled(7200).delay(1) == pytest.approx(0.01)
    assert RetryPolicy().delay(2) == 4.0
