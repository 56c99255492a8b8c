"""The DORA table: one row per figure, its latest value and a small SVG trend by week."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from handoff.console.dora import DoraFigures

SPARK_W, SPARK_H = 120, 24


def sparkline(label: str, values: list[float | None]) -> str:
    """A tiny accessible SVG trend; weeks with no figure leave a gap."""
    known = [v for v in values if v is not None]
    top = max(known) if known and max(known) > 0 else 1.0
    step = SPARK_W / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_H - 2 - v / top * (SPARK_H - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    # A dot per week with a figure: a week alone between gaps is no line, but still shows.
    dots = "".join(
        f'<circle cx="{i * step:.1f}" cy="{SPARK_H - 2 - v / top * (SPARK_H - 4):.1f}" r="2" '
        'fill="#1f4e9c"/>'
        for i, v in enumerate(values)
        if v is not None
    )
    words = ", ".join("none" if v is None else f"{v:.3g}" for v in values)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{SPARK_W}" '
        f'height="{SPARK_H}"><title>{escape(label)} by week: {escape(words)}</title>'
        f'<polyline points="{points}" fill="none" stroke="#1f4e9c" stroke-width="1.5"/>{dots}</svg>'
    )


def _hours(f: DoraFigures, pick: str) -> float | None:
    span = getattr(f, pick)
    return None if span is None else span.total_seconds() / 3600


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


ROWS: list[tuple[str, str, Callable[[DoraFigures], float | None]]] = [
    ("Deployment frequency", "per week", lambda f: f.deployments_per_week),
    ("Lead time, acceptance to live", "h (median)", lambda f: _hours(f, "lead_time_median")),
    ("Change failure rate", "% of runs", lambda f: _percent(f.change_failure_rate)),
    ("Time to restore", "h (median)", lambda f: _hours(f, "time_to_restore_median")),
]


def dora_html(overall: DoraFigures, trend: list[tuple[datetime, DoraFigures]]) -> str:
    """The table, with the figure over the whole period and its weekly trend."""
    body = ""
    for name, unit, pick in ROWS:
        value = pick(overall)
        shown = "not measured" if value is None else f"{value:.3g} {unit}"
        body += (
            f'<tr><th scope="row">{escape(name)}</th><td>{escape(shown)}</td>'
            f"<td>{sparkline(name, [pick(f) for _, f in trend])}</td></tr>"
        )
    return (
        f"<table><caption>DORA figures over {overall.runs} run(s)</caption><thead><tr>"
        '<th scope="col">Figure</th><th scope="col">Value</th><th scope="col">Trend</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )
