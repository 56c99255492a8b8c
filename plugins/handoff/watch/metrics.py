"""A window's metric analyses, judged from Prometheus alone.

The watch keeps no statistics of its own: every measurement is a query answer, and a
measurement due at time t is the same whether it was asked at t (an instant query) or later
(a range query over the window so far, whose points are those instant queries). So a trigger
that the triggerer cancels and re-creates elsewhere first asks Prometheus for every point it
missed since the window's start (`catch_up`) and goes on with the same verdict as before:
a restart loses nothing Prometheus kept. Alerts are read the same way, from Prometheus'
alerts endpoint, filtered by the handoff's labels.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from handoff.analysis.prometheus import (
    MAX_RANGE_POINTS,
    Alert,
    PrometheusClient,
    QueryError,
    RangeResult,
)
from handoff.analysis.verdict import (
    Action,
    AnalysisSpec,
    AnalysisState,
    Measurement,
    Verdict,
    measure,
)

log = logging.getLogger(__name__)


def _first_value(result: RangeResult) -> dict[float, float]:
    """Return time -> value of a range result's first series (the queries sum to one)."""
    if not result.series:
        return {}
    return {round(t, 3): v for t, v in result.series[0].points}


@dataclass
class MetricWatch:
    """The analyses of one window, measured against Prometheus from ``started_at`` on."""

    specs: Sequence[AnalysisSpec]
    started_at: float
    alert_match: Mapping[str, str] = field(default_factory=dict)
    states: dict[str, AnalysisState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.states = {s.metric: AnalysisState(s, self.started_at) for s in self.specs}

    @property
    def measurements(self) -> int:
        """Return how many measurements the analyses hold (the dropped ones included)."""
        return sum(
            len(s.measurements)
            + s.dropped.successful
            + s.dropped.failed
            + s.dropped.inconclusive
            + s.dropped.error
            for s in self.states.values()
        )

    async def catch_up(self, client: PrometheusClient, now: float) -> int:
        """Measure every point due since the start that has no measurement; return how many."""
        counts = await asyncio.gather(
            *(self._catch_up_one(client, metric, now) for metric in list(self.states))
        )
        return sum(counts)

    async def _catch_up_one(self, client: PrometheusClient, metric: str, now: float) -> int:
        state = self.states[metric]
        spec = state.spec
        first = state.next_due() if state.measurements else self.started_at + spec.interval_s
        if first > now:
            return 0
        # A 72 h window at a short interval can hold more points than one range query may
        # return: the oldest are then left out (their verdict weighs less than the recent).
        points = int((now - first) // spec.interval_s)
        if points >= MAX_RANGE_POINTS:
            first += (points - MAX_RANGE_POINTS + 1) * spec.interval_s
        values, samples = await asyncio.gather(
            client.query_range(spec.promql, first, now, spec.interval_s),
            client.query_range(spec.samples_promql, first, now, spec.interval_s)
            if spec.samples_promql
            else _nothing(),
        )
        if isinstance(values, QueryError):
            self.states[metric] = state.record(measure(spec, now, None, error=values.message))
            return 1
        by_time = _first_value(values)
        counted = _first_value(samples) if isinstance(samples, RangeResult) else {}
        added = 0
        at = first
        while at <= now + 1e-6:
            key = round(at, 3)
            count = counted.get(key, 0.0 if spec.samples_promql and counted else None)
            if isinstance(samples, QueryError):
                count = None
            state = state.record(measure(spec, at, by_time.get(key), count))
            added += 1
            at += spec.interval_s
        self.states[metric] = state
        return added

    async def measure_due(self, client: PrometheusClient, now: float) -> list[Measurement]:
        """Measure each analysis whose next measurement is due; return the new ones."""
        due = [m for m, s in self.states.items() if s.next_due() <= now]
        taken = await asyncio.gather(*(self._measure_one(client, m, now) for m in due))
        return list(taken)

    async def _measure_one(self, client: PrometheusClient, metric: str, now: float) -> Measurement:
        state = self.states[metric]
        spec = state.spec
        value_answer, samples_answer = await asyncio.gather(
            client.query(spec.promql, at=now),
            client.query(spec.samples_promql, at=now) if spec.samples_promql else _nothing(),
        )
        if isinstance(value_answer, QueryError):
            taken = measure(spec, now, None, error=value_answer.message)
        else:
            samples = None
            if spec.samples_promql and not isinstance(samples_answer, QueryError | None):
                samples = samples_answer.single()
                # No series at all means no request was counted: zero samples, not unknown.
                samples = 0.0 if samples is None else samples
            taken = measure(spec, now, value_answer.single(), samples)
        self.states[metric] = state.record(taken)
        return taken

    def verdicts(self, finished: bool) -> list[Verdict]:
        """Return each analysis' verdict over its measurements so far."""
        return [state.verdict(finished) for state in self.states.values()]

    def decisive(self, finished: bool) -> Verdict | None:
        """Return the first verdict that ends the window as a breach, or None."""
        return next((v for v in self.verdicts(finished) if v.action is Action.BREACH), None)

    async def firing(self, client: PrometheusClient) -> list[Alert] | QueryError:
        """Return the handoff's firing alerts (all ``alert_match`` labels equal)."""
        alerts = await client.alerts()
        if isinstance(alerts, QueryError):
            return alerts
        return [
            a
            for a in alerts
            if a.state == "firing"
            and all(a.labels.get(k) == v for k, v in self.alert_match.items())
        ]


async def _nothing() -> None:
    """Stand in for a sample-count query an analysis does not have."""
    return None


def describe_value(value: float | None) -> str:
    """Return a measured value as the evidence writes it."""
    if value is None:
        return "no value"
    return f"{value:.4g}" if math.isfinite(value) else str(value)
