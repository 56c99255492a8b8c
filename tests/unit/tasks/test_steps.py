"""The timeline's steps against an in-memory target: deploy, retire, abort, rollback, finalize."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from handoff.target import Colour, TargetError
from handoff.tasks import steps
from tests.support.fake_target import FakeTarget, FakeTI
from tests.unit.tasks.conftest import RELEASE

OWNER = "handoff_shop/manual__1"


def test_deploy_leases_the_service_then_starts_the_release_in_the_idle_colour(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True)
    result = steps.deploy_release(contract)
    assert result["colour"] == "green" and result["release"] == RELEASE
    assert result["outcome"] == "changed"
    assert target.ops()[:2] == ["acquire_lease", "deploy"]
    assert target.holder is not None and target.holder.owner == OWNER
    assert target.live is Colour.BLUE  # the live colour is never touched by a deploy


def test_a_retried_deploy_reuses_the_colour_and_the_lease(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True)
    steps.deploy_release(contract)
    again = steps.deploy_release(contract)
    assert again["outcome"] == "already_done" and again["colour"] == "green"
    assert target.holder is not None and target.holder.owner == OWNER


def test_a_failed_deploy_fails_the_task_with_the_targets_reason(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.fail("deploy", TargetError("release image missing"))
    with pytest.raises(AirflowFailException, match="deploy failed: release image missing"):
        steps.deploy_release(contract)


def test_retire_removes_the_old_colour_and_gives_the_lease_back(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0").running(Colour.GREEN, RELEASE, live=True)
    steps.deploy_release(contract)  # already done: takes the lease for this run
    result = steps.retire_old_colour(contract)
    assert result["retired_colour"] == "blue" and result["outcome"] == "changed"
    assert set(target.colours) == {Colour.GREEN} and target.holder is None
    assert steps.retire_old_colour(contract)["outcome"] == "already_done"


def test_abort_removes_the_new_colour_only(contract: str, target: FakeTarget, ti: FakeTI) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True).running(Colour.GREEN, RELEASE)
    result = steps.abort_release(contract)
    assert result["retired_colour"] == "green"
    assert target.live is Colour.BLUE and set(target.colours) == {Colour.BLUE}
    assert target.holder is None  # taken for the abort, given back at its end


def test_abort_touches_nothing_while_another_handoff_holds_the_service(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True).running(Colour.GREEN, RELEASE)
    with_other = FakeTI(dag_id="handoff_other", run_id="manual__9")
    target.acquire_lease(f"{with_other.dag_id}/{with_other.run_id}", "deploy", lambda _: None)
    result = steps.abort_release(contract)
    assert result["status"] == "not the lease holder"
    assert "abort" not in target.ops() and set(target.colours) == {Colour.BLUE, Colour.GREEN}


def test_abort_on_a_first_deployment_has_nothing_live_to_keep(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, RELEASE)
    assert steps.abort_release(contract)["status"] == "nothing live"
    assert target.holder is None


def test_rollback_skips_when_the_switch_never_happened_and_frees_a_failed_switch(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True)
    steps.deploy_release(contract)
    ti.task_states[steps.SWITCH_TASK] = "failed"
    with pytest.raises(AirflowSkipException, match="nothing to roll back"):
        steps.rollback_release(contract)
    assert "rollback" not in target.ops() and target.holder is None


def test_rollback_keeps_the_lease_for_the_abort_when_a_gate_failed(
    contract: str, target: FakeTarget, ti: FakeTI
) -> None:
    target.running(Colour.BLUE, "handoff-demo:1.0.0", live=True)
    steps.deploy_release(contract)
    ti.task_states[steps.SWITCH_TASK] = "upstream_failed"
    with pytest.raises(AirflowSkipException):
        steps.rollback_release(contract)
    assert target.holder is not None  # the abort path gives it back after removing green


def test_finalize_fails_the_run_naming_what_ran(ti: FakeTI) -> None:
    ti.xcoms["abort.remove_release"] = {"status": "removed"}
    with pytest.raises(AirflowFailException, match=r"abort\.remove_release ran"):
        steps.finalize(["abort.remove_release", "rollback.restore"])


def test_a_retried_switch_converges_on_the_target() -> None:
    target = FakeTarget().running(Colour.BLUE, "v1", live=True).running(Colour.GREEN, "v2")
    first, again = target.switch("v2"), target.switch("v2")
    assert (first.outcome.value, again.outcome.value) == ("changed", "already_done")
    assert first.to_colour is again.to_colour is Colour.GREEN and target.live is Colour.GREEN
