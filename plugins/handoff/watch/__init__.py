"""Deferrable watch windows: probe the live listener until a window ends or a threshold breaks.

`evaluate` is pure Python (statistics and the breach decision); `trigger` runs in the
triggerer (it lives under plugins/ so the triggerer can import it); `operator` defers to it.
Import the Airflow-facing modules directly: this package's `__init__` stays free of Airflow.
"""

from __future__ import annotations

from handoff.watch.evaluate import (
    Breach,
    BreachKind,
    LatencyBudget,
    PathSummary,
    Sample,
    Verdict,
    WatchThresholds,
    WindowEnd,
    WindowEvaluator,
    WindowSummary,
)

__all__ = [
    "Breach",
    "BreachKind",
    "LatencyBudget",
    "PathSummary",
    "Sample",
    "Verdict",
    "WatchThresholds",
    "WindowEnd",
    "WindowEvaluator",
    "WindowSummary",
]
