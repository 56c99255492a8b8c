"""The service lease from the tasks' side: owned by the run, waited for by rescheduling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException

from handoff.acceptance.environment import LeaseSettings
from handoff.target import LeaseOutcome
from handoff.tasks import service_lease
from tests.support.fake_target import FakeTarget, FakeTI

OTHER = "handoff_other/manual__9"


def test_the_run_owns_the_lease_and_a_retry_finds_it_its_own(
    target: FakeTarget, ti: FakeTI
) -> None:
    holder = service_lease.hold_for_deploy(target, "v2", LeaseSettings())
    assert holder.owner == "handoff_shop/manual__1" and holder.purpose == "handoff of v2"
    assert service_lease.take(target, "abort").outcome is LeaseOutcome.ALREADY_OURS
    assert service_lease.release(target, "handover") is True
    assert service_lease.release(target, "handover") is False  # nothing held: a no-op


def test_another_running_handoff_makes_the_deploy_reschedule(
    target: FakeTarget, ti: FakeTI
) -> None:
    target.acquire_lease(OTHER, "handoff of v9", lambda _: None)
    with pytest.raises(AirflowRescheduleException):
        service_lease.hold_for_deploy(target, "v2", LeaseSettings())
    assert target.holder is not None and target.holder.owner == OTHER


def test_past_the_wait_the_deploy_gives_up(target: FakeTarget, ti: FakeTI) -> None:
    target.acquire_lease(OTHER, "handoff of v9", lambda _: None)
    ti.first_reschedule = datetime.now(UTC) - timedelta(days=2)
    with pytest.raises(AirflowFailException, match="still leased by handoff_other/manual__9"):
        service_lease.hold_for_deploy(target, "v2", LeaseSettings())


def test_the_lease_of_an_ended_run_is_broken(target: FakeTarget, ti: FakeTI) -> None:
    target.acquire_lease(OTHER, "handoff of v9", lambda _: None)
    ti.run_states[OTHER] = "failed"
    holder = service_lease.hold_for_deploy(target, "v2", LeaseSettings())
    assert holder.owner == "handoff_shop/manual__1"


def test_an_owner_that_is_no_run_is_never_broken(ti: FakeTI) -> None:
    assert service_lease.ended_run("a person") is None
