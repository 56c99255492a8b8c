"""The timeline chart: planned against actual per step, as inline SVG (no external assets)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from handoff.plan.model import StepKind
from handoff.report.model import ChartRow, StepRow

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


# The windows' charts: a line per colour, the watch windows shaded, the switch marked.
# Series colours keep a 4.5:1 contrast on white, like the page's (handoff.ui.charts), whose
# renderer the report cannot import (the UI layer imports the report's).
LINE_COLOURS = {"blue": "#1f4e9c", "green": "#1b6e2a"}
_WINDOW_STEPS = (StepKind.ALL_CLEAR, StepKind.VALIDATION_PERIOD, StepKind.MONITORING_PERIOD)
_CW, _CH, _LEFT, _BOTTOM = 900, 200, 70, 24


def _windows(rows: tuple[StepRow, ...]) -> tuple[list[tuple[str, float, float]], float | None]:
    """Return the watch windows as they ran (name, start, end) and when the switch ended."""
    names = {k.value for k in _WINDOW_STEPS}
    bands = [
        (r.step, r.actual_start.timestamp(), r.actual_end.timestamp())
        for r in rows
        if r.step in names and r.actual_start and r.actual_end
    ]
    switch = next((r for r in rows if r.step == StepKind.SWITCH.value and r.actual_end), None)
    return bands, switch.actual_end.timestamp() if switch and switch.actual_end else None


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def window_chart(chart: ChartRow, rows: tuple[StepRow, ...], index: int) -> str:
    """Return one chart of the run as a figure: SVG, caption, and its figures in a table."""
    bands, switched = _windows(rows)
    times = [t for _, pts in chart.lines for t, _ in pts] + [t for b in bands for t in b[1:]]
    values = [v for _, pts in chart.lines for _, v in pts]
    lo, hi = (min(times), max(times)) if times else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    top = max(values) * 1.1 if values and max(values) > 0 else 1.0
    plot_w, plot_h = _CW - _LEFT - 10, _CH - _BOTTOM - 8

    def x(t: float) -> float:
        return _LEFT + plot_w * (t - lo) / (hi - lo)

    def y(v: float) -> float:
        return 8 + plot_h * (1 - v / top)

    label = f"chart-{index}"
    out = [
        f'<figure id="{label}"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{_CW}" height="{_CH}" viewBox="0 0 {_CW} {_CH}" aria-labelledby="{label}-c">'
    ]
    for name, start, end in bands:
        out.append(
            f'<rect x="{x(start):.1f}" y="8" width="{max(x(end) - x(start), 1):.1f}" '
            f'height="{plot_h}" fill="#fff3c4"><title>{escape(name)} window</title></rect>'
        )
    if switched is not None:
        out.append(
            f'<line x1="{x(switched):.1f}" x2="{x(switched):.1f}" y1="8" y2="{8 + plot_h}" '
            'stroke="#8a1c1c" stroke-dasharray="4 3"><title>switch</title></line>'
        )
    for name, pts in chart.lines:
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
        if points:
            colour = LINE_COLOURS.get(name, "#444")
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
                f"<title>{escape(name)}</title></polyline>"
            )
    out.append(
        f'<text x="4" y="16" font-size="11" fill="#1b1b1b">{top:.3g} {escape(chart.unit)}</text>'
        f'<text x="{_LEFT}" y="{_CH - 6}" font-size="11" fill="#1b1b1b">{_clock(lo)} UTC</text>'
        f'<text x="{_CW - 10}" y="{_CH - 6}" font-size="11" fill="#1b1b1b" text-anchor="end">'
        f"{_clock(hi)} UTC</text></svg>"
    )
    lines = "; ".join(
        f"{name}: {len(pts)} points" + (f", peak {max(v for _, v in pts):.3g}" if pts else "")
        for name, pts in chart.lines
    )
    marks = ", ".join(f"{n} {_clock(a)} to {_clock(b)}" for n, a, b in bands)
    out.append(
        f'<figcaption id="{label}-c">{escape(chart.title)} ({escape(chart.unit)}) per colour: '
        f"{escape(lines)}. Shaded: the watch windows ({escape(marks) or 'none ran'}); dashed: "
        f"the switch{f' at {_clock(switched)} UTC' if switched else ' (none)'}.</figcaption>"
    )
    out.append(_figures_table(chart))
    return "".join(out) + "</figure>"


def _figures_table(chart: ChartRow) -> str:
    """Return the figures behind a chart, a row per instant and a column per colour."""
    instants = sorted({t for _, pts in chart.lines for t, _ in pts})
    columns = [dict(pts) for _, pts in chart.lines]
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name, _ in chart.lines)
    body = "".join(
        f'<tr><th scope="row">{_clock(t)}</th>'
        + "".join(f"<td>{c[t]:.4g}</td>" if t in c else "<td>-</td>" for c in columns)
        + "</tr>"
        for t in instants
    )
    return (
        f"<details><summary>Figures of {escape(chart.title)} ({escape(chart.unit)})</summary>"
        f'<table><tr><th scope="col">UTC</th>{head}</tr>{body}</table></details>'
    )
