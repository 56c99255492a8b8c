"""Turn a window's verdict into the lines of its task log (pure Python, no Airflow import).

An incident reviewer reads these lines: what was probed, against which threshold, what was
measured, and what was decided.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handoff.watch.evaluate import PathSummary, Verdict, WatchThresholds


def describe_duration(value: timedelta) -> str:
    """Return a short human duration: '72 h', '90 min', '24 s', '250 ms' (contracts speak hours)."""
    seconds = value.total_seconds()
    for unit, size in (("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size and (seconds % size == 0 or unit == "s" or seconds >= 10 * size):
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds * 1000:.3g} ms"


def story(verdict: Verdict) -> list[str]:
    """Return the log lines telling what the window measured and decided."""
    summary, limits = verdict.summary, verdict.thresholds
    lines = [
        f"measured {summary.samples} probes of {len(summary.paths)} path(s) "
        f"from {_at(summary.first_sample_at)} to {_at(summary.last_sample_at)}",
        _error_rate_line(verdict),
        f"health: {summary.health_probes} probes, {summary.health_failures} failed, longest "
        f"failure streak {summary.longest_health_failure_streak} (limit "
        f"{limits.max_health_failures} in a row)",
    ]
    lines += [_path_line(p, limits) for p in summary.paths]
    if summary.last_error:
        lines.append(f"last error: {summary.last_error}")
    if verdict.breach is None:
        lines.append("decision: completed, the release held every threshold for the whole window")
    else:
        breach = verdict.breach
        lines.append(
            f"decision: BREACH ({breach.kind.value}) at {_at(breach.at)}: {breach.reason}; "
            "the task fails so the rollback runs"
        )
    return lines


def _error_rate_line(verdict: Verdict) -> str:
    summary, limits = verdict.summary, verdict.thresholds
    text = (
        f"error rate {summary.error_rate_pct:.2f}% ({summary.errors} of {summary.samples} "
        f"probes failed: no answer or HTTP 5xx), limit < {limits.error_rate_limit_pct:g}%"
    )
    if limits.sliding_samples:
        text += f", judged over the last {limits.sliding_samples} probes at every probe"
    if not summary.error_rate_judged:
        text += (
            f"; NOT JUDGED: fewer than the {limits.min_samples} probes needed "
            "(report it as not verified)"
        )
    return text


def _path_line(path: PathSummary, limits: WatchThresholds) -> str:
    text = (
        f"{path.path}: {path.samples} probes, {path.errors} errors, "
        f"p50 {_ms(path.p50_ms)}, p95 {_ms(path.p95_ms)}, max {_ms(path.max_ms)}"
    )
    budget = limits.budget_for(path.path)
    if budget is None or path.p95_ms is None:
        return text
    if budget.p95_ms is not None:
        verdict = "within" if path.p95_ms <= budget.p95_ms else "ABOVE"
        text += f"; p95 {verdict} its budget of {budget.p95_ms:g} ms"
    if budget.baseline_p95_ms is not None and limits.latency_tolerance_pct is not None:
        ceiling = budget.baseline_p95_ms * (1 + limits.latency_tolerance_pct / 100)
        verdict = "within" if path.p95_ms <= ceiling else "ABOVE"
        text += (
            f"; p95 {verdict} baseline {budget.baseline_p95_ms:g} ms "
            f"+{limits.latency_tolerance_pct:g}% = {ceiling:.1f} ms"
        )
    return text


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _at(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(timespec="milliseconds")
