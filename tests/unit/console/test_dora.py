"""DORA figures from deployment runs: frequency, lead time, failure rate, time to restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff.console.dora import DeploymentRun, Outcome, dora_figures, weekly_trend

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _run(day: int, outcome: Outcome, lead_h: float = 2, restore_min: float = 0) -> DeploymentRun:
    accepted = T + timedelta(days=day)
    live = accepted + timedelta(hours=lead_h)
    rollback = (live, live + timedelta(minutes=restore_min)) if restore_min else (None, None)
    return DeploymentRun(
        "h", accepted, live + timedelta(hours=1), outcome, live, rollback[0], rollback[1]
    )


RUNS = [
    _run(0, Outcome.LIVE, lead_h=2),
    _run(1, Outcome.LIVE, lead_h=4),
    _run(2, Outcome.ROLLED_BACK, lead_h=6, restore_min=10),
    _run(9, Outcome.ABORTED, lead_h=8),
]


def test_four_figures_over_two_weeks() -> None:
    figures = dora_figures(RUNS, timedelta(weeks=2))
    assert figures.runs == 4
    assert figures.deployments_per_week == 1.0
    assert figures.lead_time_median == timedelta(hours=5)
    assert figures.change_failure_rate == 0.5
    assert figures.time_to_restore_median == timedelta(minutes=10)


def test_no_runs_measure_nothing() -> None:
    figures = dora_figures([], timedelta(weeks=1))
    assert figures.deployments_per_week is None and figures.change_failure_rate is None
    assert figures.lead_time_median is None and figures.time_to_restore_median is None


def test_weekly_trend_splits_runs_by_finish_week() -> None:
    trend = weekly_trend(RUNS, T + timedelta(weeks=2), weeks=2)
    assert [f.runs for _, f in trend] == [3, 1]
    assert trend[1][1].change_failure_rate == 1.0


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError):
        dora_figures(RUNS, timedelta(0))
