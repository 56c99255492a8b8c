"""The service lease seen from a handoff's tasks: owned by a run, waited for by rescheduling.

A run owns the lease as ``<dag_id>/<run_id>``: every task of the run, on any worker, and a
retried task too, is the same owner. The deploy step takes it (`hold_for_deploy`); the steps
after which the run is finished with the service (handover, abort, rollback) give it back
(`release`). A lease whose run has ended without giving it back (a run failed or was marked
failed before its end point, a run deleted) is broken by the next handoff that needs it: the
run's state comes from Airflow through the task SDK (`get_dagrun_state`).

While another run holds the lease, the deploy step raises Airflow's reschedule exception: the
task runner turns it into UP_FOR_RESCHEDULE for any task (not only sensors), the scheduler
runs it again at the given time, and in between the wait holds no worker slot. The wait is
counted from the first reschedule (kept by Airflow across them) and bounded by the
environment's ``lease.wait``; past it the deploy fails, so the run aborts touching nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from airflow.sdk import get_current_context
from airflow.sdk.api.client import ServerResponseError
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowRescheduleException,
    AirflowRuntimeError,
)

from handoff.acceptance.environment import LeaseSettings
from handoff.contract.quantities import format_seconds
from handoff.target import Acquisition, DeploymentTarget, LeaseHolder

log = logging.getLogger(__name__)

# Run states in which a run is done for good (Airflow's DagRunState values). Only these break
# a lease: any other answer, or one not understood, counts as still running.
_FINISHED = frozenset({"success", "failed"})


def run_owner() -> str:
    """Return this run's name as a lease owner: ``<dag_id>/<run_id>``."""
    ti = get_current_context()["ti"]
    return f"{ti.dag_id}/{ti.run_id}"


def ended_run(owner: str) -> str | None:
    """Return why the run owning a lease has ended, or None while it may still be running."""
    dag_id, slash, run_id = owner.partition("/")
    if not slash or not run_id:
        log.warning("lease owner %r is not a handoff run; only a person can break it", owner)
        return None
    ti = get_current_context()["ti"]
    try:
        answer = ti.get_dagrun_state(dag_id, run_id)
    except (AirflowRuntimeError, ServerResponseError) as e:
        if _status_code(e) == 404:
            return f"run {run_id} of {dag_id} does not exist in this Airflow (deleted)"
        # The API did not answer: a live holder must never be broken on a guess.
        log.warning("cannot read the state of run %s (%s); treating it as running", owner, e)
        return None
    # The task SDK hands back a DagRunState (a str enum whose str() is "DagRunState.RUNNING").
    state = str(getattr(answer, "value", answer))
    return f"its run ended {state}" if state in _FINISHED else None


def _status_code(error: AirflowRuntimeError | ServerResponseError) -> int | None:
    """Return the execution API's HTTP status behind an error from the task SDK."""
    # A task under a supervisor gets the API's answer as an AirflowRuntimeError carrying the
    # status; under dag.test() the in-process client raises the HTTP error itself.
    if isinstance(error, ServerResponseError):
        return int(error.response.status_code)
    detail = error.error.detail if isinstance(error.error.detail, dict) else {}
    code = detail.get("status_code")
    return int(code) if isinstance(code, int) else None


def take(target: DeploymentTarget, purpose: str) -> Acquisition:
    """Take this run's lease on the service (breaking a stale one); never wait."""
    return target.acquire_lease(run_owner(), purpose, ended_run)


def hold_for_deploy(target: DeploymentTarget, release: str, limits: LeaseSettings) -> LeaseHolder:
    """Hold the service for this run's deploy, or reschedule the task until it is free.

    Raises AirflowRescheduleException while another run holds the lease, and
    AirflowFailException once this run has waited longer than ``limits.wait``.
    """
    service = target.service
    got = take(target, f"handoff of {release}")
    for holder, why in got.broken:
        log.warning("broke the stale lease of %s held by %s: %s", service, holder.describe(), why)
    if got.acquired:
        log.info("lease of %s: %s by %s", service, got.outcome.value, got.holder.describe())
        return got.holder
    context = get_current_context()
    now = datetime.now(UTC)
    waiting_since = context["ti"].get_first_reschedule_date(context) or now
    waited = (now - waiting_since).total_seconds()
    limit = limits.wait.total_seconds()
    holder = got.holder
    if waited >= limit:
        raise AirflowFailException(
            f"service {service} is still leased by {holder.describe()}; this run waited "
            f"{format_seconds(round(waited))} for it (limit {format_seconds(limit)}, the "
            "environment's lease.wait) and gives up: nothing was deployed and nothing is "
            "touched. Trigger it again once that handoff is done; if that run is stuck, end "
            "it in Airflow (its lease is then broken automatically)."
        )
    poll = limits.poll.total_seconds()
    log.info(
        "service %s is leased by %s; this run waits until that run is finished with the "
        "service (its handover, abort or rollback done, or the run ended). Waited %s of at "
        "most %s; looking again in %s, holding no worker slot meanwhile",
        service,
        holder.describe(),
        format_seconds(round(waited)),
        format_seconds(limit),
        format_seconds(poll),
    )
    raise AirflowRescheduleException(now + limits.poll)  # type: ignore[no-untyped-call]


def release(target: DeploymentTarget, step: str) -> bool:
    """Give back this run's lease at one of its end points; a no-op when it holds none."""
    return target.release_lease(run_owner(), step)
