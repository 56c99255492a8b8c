"""The windows' charts of a run: error rate and p95 per colour over the run, from Prometheus.

The report task asks Prometheus (range queries, the same PromQL the watches judge with,
handoff.analysis.queries) for the run's span, in an environment that Prometheus observes.
A chart is a record like any other: what Prometheus answered, nothing interpolated. When
Prometheus does not answer, the report says the charts are missing; it is never late or
failed for it (one bounded attempt, errors logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from handoff.analysis.prometheus import PrometheusClient, PrometheusSettings, RangeResult
from handoff.analysis.queries import Target, latency_quantile, router_error_rate
from handoff.report.model import ChartRow, Line

log = logging.getLogger(__name__)

COLOURS = ("blue", "green")
MAX_POINTS = 240  # per series: enough for a 900 px chart, small enough for a report
RATE_WINDOW_S = 60.0  # the rate() window of each point


@dataclass(frozen=True)
class SeriesQuery:
    """One line of one chart: its PromQL and the factor to the chart's unit."""

    chart: str
    unit: str
    label: str
    promql: str
    factor: float


def chart_queries(service: str, paths: Sequence[str], window_s: float) -> list[SeriesQuery]:
    """Return the lines of the charts: error rate per colour, then p95 per colour and path."""
    queries = [
        SeriesQuery(
            "error rate through live", "%", colour, router_error_rate(t, window_s).promql, 100.0
        )
        for colour in COLOURS
        for t in [Target(service, colour)]
    ]
    for path in paths:
        queries += [
            SeriesQuery(
                f"p95 latency of {path}",
                "ms",
                colour,
                latency_quantile(Target(service, colour), window_s, path).promql,
                1000.0,
            )
            for colour in COLOURS
        ]
    return queries


def _points(result: RangeResult, factor: float) -> tuple[tuple[float, float], ...]:
    """Return the points of the answer's first series in the chart's unit, NaN left out."""
    if not result.series:
        return ()
    return tuple((t, v * factor) for t, v in result.series[0].points if v == v)  # NaN != NaN


def charts_from(
    queries: Sequence[SeriesQuery], answers: Sequence[RangeResult | object]
) -> tuple[ChartRow, ...]:
    """Return the charts, in the order their first line was asked, from the answers."""
    lines: dict[tuple[str, str], list[Line]] = {}
    for query, answer in zip(queries, answers, strict=True):
        points = _points(answer, query.factor) if isinstance(answer, RangeResult) else ()
        lines.setdefault((query.chart, query.unit), []).append((query.label, points))
    return tuple(ChartRow(title, unit, tuple(rows)) for (title, unit), rows in lines.items())


async def _ask(
    settings: PrometheusSettings, queries: Sequence[SeriesQuery], start: float, end: float
) -> list[RangeResult | object]:
    step = max((end - start) / MAX_POINTS, 1.0)
    async with PrometheusClient(settings) as client:
        return list(
            await asyncio.gather(*(client.query_range(q.promql, start, end, step) for q in queries))
        )


def window_charts(
    service: str, paths: Sequence[str], start: float, end: float
) -> tuple[ChartRow, ...]:
    """Return the run's charts from the machine's Prometheus (none when it does not answer)."""
    if end <= start:
        return ()
    queries = chart_queries(service, paths, RATE_WINDOW_S)
    try:
        answers = asyncio.run(_ask(PrometheusSettings.from_env(), queries, start, end))
    except Exception:  # a chart is a figure of the report, never a reason to fail it
        log.exception("the windows' charts are left out: Prometheus did not answer")
        return ()
    charts = charts_from(queries, answers)
    for chart in charts:
        log.info(
            "chart %s: %s",
            chart.title,
            ", ".join(f"{name} {len(points)} points" for name, points in chart.lines),
        )
    return charts
