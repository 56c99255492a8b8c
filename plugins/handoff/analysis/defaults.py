"""The analyses a watch runs by default, from the contract's thresholds.

Error rate under the contract's rate (1 % in the seed), p95 of each path under its budget,
and each path's p95 within the tolerance (±10 %) of the old colour's: one ``AnalysisSpec``
each, with its sample-count query and minimum. The sidecar may override any of these
values; the registry session maps the contract and the sidecar to ``AnalysisThresholds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from handoff.analysis import queries
from handoff.analysis.queries import MetricQuery, Target
from handoff.analysis.verdict import (
    DEFAULT_INCONCLUSIVE_POLICY,
    AnalysisSpec,
    Condition,
    InconclusivePolicy,
    Operator,
)


@dataclass(frozen=True)
class AnalysisThresholds:
    """What the contract and sidecar say a watch judges.

    Parameters: ``error_rate`` (allowed 5xx share), ``p95_budgets_s`` (path -> seconds),
    ``tolerance`` (allowed slowdown against the old colour, 0.10 for ±10 %), ``window_s``
    (each query's rate window), ``interval_s``, ``min_requests`` (requests in a window under
    which a measurement is inconclusive), the limits, and ``on_inconclusive``.
    """

    error_rate: float = 0.01
    p95_budgets_s: dict[str, float] = field(default_factory=dict)
    tolerance: float = 0.10
    window_s: int = 60
    interval_s: float = 30.0
    min_requests: float = 50.0
    failure_limit: int = 1
    consecutive_error_limit: int = 4
    inconclusive_limit: int = 0
    on_inconclusive: InconclusivePolicy = DEFAULT_INCONCLUSIVE_POLICY
    # Prometheus unreachable is no evidence against the release: a person decides, and a
    # Docker daemon restart (which takes the stack down for seconds) never rolls back.
    on_error: InconclusivePolicy = InconclusivePolicy.ASK

    def to_json(self) -> dict[str, object]:
        """Return the JSON form (DAG parse time to the watch operator)."""
        return {
            "error_rate": self.error_rate,
            "p95_budgets_s": dict(self.p95_budgets_s),
            "tolerance": self.tolerance,
            "window_s": self.window_s,
            "interval_s": self.interval_s,
            "min_requests": self.min_requests,
            "failure_limit": self.failure_limit,
            "consecutive_error_limit": self.consecutive_error_limit,
            "inconclusive_limit": self.inconclusive_limit,
            "on_inconclusive": self.on_inconclusive.value,
            "on_error": self.on_error.value,
        }

    def scaled(self, scale: float, min_interval_s: float, min_window_s: int) -> AnalysisThresholds:
        """Return the thresholds of a rehearsal compressed ``scale`` times.

        The interval and the rate window shrink with the timeline, but never below what
        Prometheus can resolve: a rate needs at least two scrapes in its window.
        """
        return replace(
            self,
            interval_s=max(self.interval_s / scale, min_interval_s),
            window_s=max(round(self.window_s / scale), min_window_s),
        )


def _spec(query: MetricQuery, condition: Condition, t: AnalysisThresholds) -> AnalysisSpec:
    return AnalysisSpec(
        metric=query.name,
        promql=query.promql,
        samples_promql=query.samples_promql,
        condition=condition,
        interval_s=t.interval_s,
        failure_limit=t.failure_limit,
        consecutive_error_limit=t.consecutive_error_limit,
        inconclusive_limit=t.inconclusive_limit,
        min_samples=t.min_requests,
        on_inconclusive=t.on_inconclusive,
        on_error=t.on_error,
    )


def default_analyses(
    release: Target, thresholds: AnalysisThresholds, baseline: Target | None = None
) -> list[AnalysisSpec]:
    """Return the watch's analyses of the release (and against the baseline, when given)."""
    t = thresholds
    specs = [
        _spec(
            queries.router_error_rate(release, t.window_s),
            Condition(Operator.LT, t.error_rate),
            t,
        ),
        _spec(
            queries.worst_path_error_rate(release, t.window_s),
            Condition(Operator.LT, t.error_rate),
            t,
        ),
    ]
    for path, budget in sorted(t.p95_budgets_s.items()):
        p95 = queries.latency_quantile(release, t.window_s, path)
        specs.append(_spec(p95, Condition(Operator.LT, budget), t))
        if baseline is not None:
            old = queries.latency_quantile(baseline, t.window_s, path)
            ratio = queries.ratio(f"p95_ratio {path}", p95, old)
            specs.append(_spec(ratio, Condition(Operator.LE, 1 + t.tolerance), t))
    return specs
