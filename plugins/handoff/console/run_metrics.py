"""What Prometheus says about a run, for the handoff page: series per colour and alerts firing.

Two range queries per colour (the service's own error rate and its p95 over every path, the
same histogram the watches judge) from the run's start to now, and Prometheus' alerts
carrying the handoff's label. Nothing raises: a Prometheus that does not answer gives a
``problem`` the page shows in words, and the rest of the page renders.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

import httpx

from handoff.analysis.prometheus import PrometheusClient, PrometheusSettings, QueryError
from handoff.analysis.queries import Target, overall_latency_quantile, service_error_rate

COLOURS = ("blue", "green")
#: At most this many points per series: enough for a 640-pixel chart.
MAX_POINTS = 240
#: A rate needs at least two scrapes (5 s apart in the stack) inside its window.
MIN_RATE_WINDOW_S = 20
#: The page must not wait long for a Prometheus that is slow or away.
PAGE_TIMEOUT_S = 2.0

Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class FiringAlert:
    """One alert Prometheus holds as firing for the handoff."""

    name: str
    severity: str
    colour: str
    summary: str
    active_at: str


@dataclass(frozen=True)
class RunMetrics:
    """Series per colour (error rate as a share, p95 in seconds), alerts, or why there are none."""

    error_rate: dict[str, Points] = field(default_factory=dict)
    p95: dict[str, Points] = field(default_factory=dict)
    alerts: tuple[FiringAlert, ...] = ()
    problem: str | None = None


def step_for(start: float, end: float) -> tuple[float, int]:
    """Return the range query's step (s) and the rate window (whole s) for a span."""
    step = max(math.ceil((end - start) / MAX_POINTS), 1)
    return float(step), max(step * 4, MIN_RATE_WINDOW_S)


def _finite(points: Points) -> Points:
    # No traffic divides 0 by 0 (NaN): a gap in the line, not a zero.
    return tuple((t, v) for t, v in points if math.isfinite(v))


def _describe(error: QueryError) -> str:
    return f"Prometheus did not answer ({error.kind.value}: {error.message})"


async def _series(client: PrometheusClient, promql: str, start: float, end: float) -> Points:
    step, _ = step_for(start, end)
    answer = await client.query_range(promql, start, end, step)
    if isinstance(answer, QueryError):
        raise _Failed(_describe(answer))
    points = answer.series[0].points if answer.series else ()
    return _finite(points)


class _Failed(Exception):
    """A query failed; its message is what the page says."""


async def fetch_run_metrics(
    settings: PrometheusSettings,
    service: str,
    handoff_id: str,
    start: float,
    end: float,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunMetrics:
    """Query the run's series and the handoff's firing alerts; never raise."""
    _, window = step_for(start, end)
    async with PrometheusClient(settings, transport=transport) as client:
        alerts = await client.alerts()
        if isinstance(alerts, QueryError):
            return RunMetrics(problem=_describe(alerts))
        firing = tuple(
            FiringAlert(
                name=a.name,
                severity=a.labels.get("severity", ""),
                colour=a.labels.get("colour", ""),
                summary=a.annotations.get("summary", ""),
                active_at=a.active_at,
            )
            for a in alerts
            if a.state == "firing" and a.labels.get("handoff") == handoff_id
        )
        targets = {c: Target(service, c) for c in COLOURS}
        queries = [service_error_rate(t, window).promql for t in targets.values()]
        queries += [overall_latency_quantile(t, window) for t in targets.values()]
        try:
            found = await asyncio.gather(*(_series(client, q, start, end) for q in queries))
        except _Failed as failed:
            return RunMetrics(alerts=firing, problem=str(failed))
    n = len(COLOURS)
    return RunMetrics(
        error_rate=dict(zip(COLOURS, found[:n], strict=True)),
        p95=dict(zip(COLOURS, found[n:], strict=True)),
        alerts=firing,
    )


def run_metrics(
    settings: PrometheusSettings, service: str, handoff_id: str, start: float, end: float
) -> RunMetrics:
    """Synchronous twin for the page's handlers (they run in FastAPI's thread pool)."""
    bounded = PrometheusSettings(
        url=settings.url,
        timeout_s=min(settings.timeout_s, PAGE_TIMEOUT_S),
        headers=settings.headers,
    )
    return asyncio.run(fetch_run_metrics(bounded, service, handoff_id, start, end))
