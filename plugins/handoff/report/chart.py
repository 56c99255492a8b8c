"""The timeline chart: planned against actual per step, as inline SVG (no external assets)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from handoff.plan.model import StepKind
from handoff.report.model import ChartRow, StepRow
from handoff.svg_chart import Band, Marker, Series, render_chart

STATE_COLOURS = {
    "success": "#2e7d32",
    "failed": "#c62828",
    "upstream_failed": "#ef6c00",
    "skipped": "#9e9e9e",
    "running": "#1565c0",
}
_LABEL_W, _ROW_H, _WIDTH, _TOP = 190, 26, 900, 24


def timeline_svg(rows: tuple[StepRow, ...]) -> str:
    """Return an SVG of the steps: a hollow bar (or diamond) planned, a filled bar actual."""
    times = [
        t
        for r in rows
        for t in (r.planned_start, r.planned_end, r.actual_start, r.actual_end)
        if t is not None
    ]
    height = _TOP + _ROW_H * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" aria-label="timeline, planned against actual">',
        '<text x="4" y="14" font-size="11">hollow: planned; filled: actual (colour = state)</text>',
    ]
    if not times:
        parts.append('<text x="4" y="40" font-size="12">no step recorded a time</text></svg>')
        return "".join(parts)
    first, last = min(times), max(times)
    span = max((last - first).total_seconds(), 1e-3)
    plot = _WIDTH - _LABEL_W - 10

    def x(at: datetime) -> float:
        return _LABEL_W + plot * (at - first).total_seconds() / span

    for index, row in enumerate(rows):
        y = _TOP + index * _ROW_H
        parts.append(f'<text x="4" y="{y + 16}" font-size="12">{escape(row.step)}</text>')
        if row.planned_start and row.planned_end and row.planned_end > row.planned_start:
            width = max(x(row.planned_end) - x(row.planned_start), 1)
            parts.append(
                f'<rect x="{x(row.planned_start):.1f}" y="{y + 3}" width="{width:.1f}" height="20" '
                'fill="none" stroke="#555" stroke-dasharray="4 2"><title>planned '
                f"{escape(str(row.planned_start))} to {escape(str(row.planned_end))}</title></rect>"
            )
        elif row.planned_end:
            cx = x(row.planned_end)
            parts.append(
                f'<path d="M{cx:.1f} {y + 3} l7 10 l-7 10 l-7 -10 z" fill="none" stroke="#555">'
                f"<title>planned {escape(str(row.planned_end))}</title></path>"
            )
        if row.actual_start:
            end = row.actual_end or row.actual_start
            width = max(x(end) - x(row.actual_start), 2)
            colour = STATE_COLOURS.get(row.state, "#607d8b")
            parts.append(
                f'<rect x="{x(row.actual_start):.1f}" y="{y + 8}" width="{width:.1f}" height="10" '
                f'fill="{colour}"><title>{escape(row.state)}: {escape(str(row.actual_start))} '
                f"to {escape(str(row.actual_end))}</title></rect>"
            )
    axis_y = _TOP + _ROW_H * len(rows) + 14
    parts.append(
        f'<text x="{_LABEL_W}" y="{axis_y}" font-size="10">{escape(first.isoformat())}</text>'
        f'<text x="{_WIDTH - 10}" y="{axis_y}" font-size="10" text-anchor="end">'
        f"{escape(last.isoformat())} ({span:.1f} s)</text></svg>"
    )
    return "".join(parts)


# The windows' charts: the page's renderer (handoff.svg_chart), fed with the run's windows as
# they ran and the switch's end.
_WINDOW_STEPS = (StepKind.ALL_CLEAR, StepKind.VALIDATION_PERIOD, StepKind.MONITORING_PERIOD)


def _marks(rows: tuple[StepRow, ...]) -> tuple[list[Band], list[Marker]]:
    """Return the watch windows as they ran and the switch's end, as the chart marks them."""
    names = {k.value for k in _WINDOW_STEPS}
    bands = [
        Band(f"{r.step} window", r.actual_start.timestamp(), r.actual_end.timestamp())
        for r in rows
        if r.step in names and r.actual_start and r.actual_end
    ]
    switch = next((r for r in rows if r.step == StepKind.SWITCH.value and r.actual_end), None)
    markers = (
        [Marker("switch", switch.actual_end.timestamp())] if switch and switch.actual_end else []
    )
    return bands, markers


def window_chart(chart: ChartRow, rows: tuple[StepRow, ...], index: int) -> str:
    """Return one chart of the run as a figure: SVG, legend, caption, its figures in a table."""
    bands, markers = _marks(rows)
    series = [Series(name, tuple(points)) for name, points in chart.lines]
    return render_chart(f"chart-{index}", chart.title, chart.unit, series, bands, markers)
