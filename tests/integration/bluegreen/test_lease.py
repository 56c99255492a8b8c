"""The service lease on the real Docker engine: taken once, kept by its owner, broken when stale.

The holder's liveness is the caller's knowledge (for a handoff: Airflow's run state, drilled
under real Airflow in tests/drills/test_concurrent_handoffs.py); here it is a table of ended
owners, which is what the lease is given in production too: a question, "has it ended?".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import docker
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine
from handoff.bluegreen.config import Role
from handoff.bluegreen.dockerapi import find
from handoff.bluegreen.lease import LeaseOutcome, ServiceLease
from tests.integration.bluegreen.conftest import ConfigFactory

pytestmark = pytest.mark.integration

A = "handoff_a/manual__2026-11-30T09:00:00+00:00"
B = "handoff_b/manual__2026-11-30T09:00:01+00:00"


def running(owner: str) -> str | None:
    """Every owner is still running."""
    return None


@pytest.fixture
def config(make_config: ConfigFactory) -> BlueGreenConfig:
    return make_config()


@pytest.fixture
def lease(config: BlueGreenConfig, docker_client: docker.DockerClient) -> ServiceLease:
    return ServiceLease(docker_client, config)


def test_a_free_service_is_leased_to_the_first_owner(lease: ServiceLease) -> None:
    got = lease.acquire(A, "handoff of 1.1.0", running)
    assert got.outcome is LeaseOutcome.TAKEN and got.acquired
    holder = lease.holder()
    assert holder is not None
    assert (holder.owner, holder.purpose) == (A, "handoff of 1.1.0")
    assert 0 <= holder.held_for().total_seconds() < 30


def test_the_same_owner_acquires_again_without_a_new_lease(lease: ServiceLease) -> None:
    first = lease.acquire(A, "handoff of 1.1.0", running)
    again = lease.acquire(A, "handoff of 1.1.0 (retried task)", running)
    assert again.outcome is LeaseOutcome.ALREADY_OURS and again.acquired
    assert again.holder.container_id == first.holder.container_id
    assert again.holder.since == first.holder.since  # the wait of others counts from the first


def test_another_owner_is_refused_while_the_holder_runs(lease: ServiceLease) -> None:
    lease.acquire(A, "handoff of 1.1.0", running)
    asked: list[str] = []

    def still_running(owner: str) -> str | None:
        asked.append(owner)
        return None

    got = lease.acquire(B, "handoff of 1.0.0", still_running)
    assert got.outcome is LeaseOutcome.HELD_BY_OTHER and not got.acquired
    assert got.holder.owner == A and asked == [A]
    assert not lease.release(B, "abort")  # not B's to give back
    holder = lease.holder()
    assert holder is not None and holder.owner == A


def test_a_lease_whose_run_ended_is_broken_and_taken(lease: ServiceLease) -> None:
    stale = lease.acquire(A, "handoff of 1.1.0", running).holder
    ended = {A: "its run is failed, no longer running"}
    got = lease.acquire(B, "handoff of 1.0.0", ended.get)
    assert got.outcome is LeaseOutcome.TAKEN
    assert [(h.owner, h.container_id, why) for h, why in got.broken] == [
        (A, stale.container_id, "its run is failed, no longer running")
    ]
    holder = lease.holder()
    assert holder is not None and holder.owner == B
    assert holder.container_id != stale.container_id


def test_release_by_the_owner_frees_the_service(lease: ServiceLease) -> None:
    lease.acquire(A, "handoff of 1.1.0", running)
    assert lease.release(A, "handover")
    assert lease.holder() is None
    assert not lease.release(A, "handover")  # a retried end point finds nothing to release
    assert lease.acquire(B, "handoff of 1.0.0", running).outcome is LeaseOutcome.TAKEN


def race(
    lease: ServiceLease, owners: list[str], run_ended: Callable[[str], str | None]
) -> dict[str, LeaseOutcome | Exception]:
    """Let every owner ask for the lease at the same instant; return what each got."""
    start = threading.Barrier(len(owners))
    outcomes: dict[str, LeaseOutcome | Exception] = {}

    def ask(owner: str) -> None:
        start.wait()
        try:
            outcomes[owner] = lease.acquire(owner, "race", run_ended).outcome
        except Exception as e:  # reported by the callers' assertions
            outcomes[owner] = e

    threads = [threading.Thread(target=ask, args=(o,)) for o in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_owners_racing_for_a_free_service_get_exactly_one_lease(lease: ServiceLease) -> None:
    owners = [f"handoff_{n}/manual__race" for n in range(8)]
    outcomes = race(lease, owners, running)
    winners = [o for o, outcome in outcomes.items() if outcome is LeaseOutcome.TAKEN]
    holder = lease.holder()
    assert len(outcomes) == len(owners)
    assert len(winners) == 1 and holder is not None and holder.owner == winners[0]


def test_teardown_removes_the_lease(
    config: BlueGreenConfig, lease: ServiceLease, docker_client: docker.DockerClient
) -> None:
    lease.acquire(A, "handoff of 1.1.0", running)
    assert find(docker_client, config.service, Role.LEASE)
    started = time.monotonic()
    BlueGreenEngine(config, client=docker_client).teardown(force=True)
    assert lease.holder() is None and time.monotonic() - started < 30


def test_owners_racing_to_break_one_stale_lease_get_exactly_one_lease(
    lease: ServiceLease,
) -> None:
    # Seen in the Airflow drill: while one breaker's removal is in progress the name is taken
    # but no holder can be read; the others must wait for it, not give up.
    stale = lease.acquire(A, "handoff of 1.1.0", running).holder
    ended = {A: "its run ended failed"}
    owners = [f"handoff_{n}/manual__race" for n in range(8)]
    outcomes = race(lease, owners, ended.get)
    winners = [o for o, outcome in outcomes.items() if outcome is LeaseOutcome.TAKEN]
    holder = lease.holder()
    assert len(outcomes) == len(owners)
    assert set(outcomes.values()) <= {LeaseOutcome.TAKEN, LeaseOutcome.HELD_BY_OTHER}, outcomes
    assert len(winners) == 1 and holder is not None and holder.owner == winners[0]
    assert holder.container_id != stale.container_id
