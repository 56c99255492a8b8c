"""DORA figures across handoffs, as pure functions over one record per deployment run.

A run that went live and stayed is a deployment; a rollback or an abort counts as a change
failure (rollbacks and aborts per deployment attempt); time to restore is how long each
rollback took. Nothing is estimated: a figure with no runs behind it is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from statistics import median


class Outcome(Enum):
    """How a deployment run ended, as its evidence tells it."""

    LIVE = "live"
    ROLLED_BACK = "rolled back"
    ABORTED = "aborted"


@dataclass(frozen=True)
class DeploymentRun:
    """What DORA needs from one run's evidence."""

    handoff_id: str
    accepted_at: datetime
    finished_at: datetime
    outcome: Outcome
    live_at: datetime | None = None
    rollback_started: datetime | None = None
    rollback_ended: datetime | None = None


@dataclass(frozen=True)
class DoraFigures:
    """The four figures over a period; None where no run measured it."""

    runs: int
    deployments_per_week: float | None
    lead_time_median: timedelta | None
    change_failure_rate: float | None
    time_to_restore_median: timedelta | None


def _median(spans: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=median(s.total_seconds() for s in spans)) if spans else None


def dora_figures(runs: list[DeploymentRun], period: timedelta) -> DoraFigures:
    """Compute the four figures over runs that finished within `period`."""
    if period <= timedelta(0):
        raise ValueError("the period must be positive")
    deployed = [r for r in runs if r.outcome is Outcome.LIVE]
    failures = [r for r in runs if r.outcome is not Outcome.LIVE]
    lead_times = [r.live_at - r.accepted_at for r in runs if r.live_at is not None]
    restores = [
        r.rollback_ended - r.rollback_started
        for r in runs
        if r.rollback_started is not None and r.rollback_ended is not None
    ]
    weeks = period / timedelta(weeks=1)
    return DoraFigures(
        runs=len(runs),
        deployments_per_week=len(deployed) / weeks if runs else None,
        lead_time_median=_median(lead_times),
        change_failure_rate=len(failures) / len(runs) if runs else None,
        time_to_restore_median=_median(restores),
    )


def weekly_trend(
    runs: list[DeploymentRun], end: datetime, weeks: int
) -> list[tuple[datetime, DoraFigures]]:
    """The figures per week, oldest first, for the small trend beside each figure."""
    trend = []
    for index in range(weeks, 0, -1):
        start = end - timedelta(weeks=index)
        stop = start + timedelta(weeks=1)
        in_week = [r for r in runs if start <= r.finished_at < stop]
        trend.append((start, dora_figures(in_week, timedelta(weeks=1))))
    return trend
