"""Server-rendered SVG line charts: series per colour over a run, windows and the switch marked.

One pure function, no JavaScript and nothing from a CDN: the same chart serves the handoff
page (handoff.ui) and the HTML report (handoff.report), which is why it sits above both.
Every text from a contract or a series label is escaped. The chart carries a <title>/<desc>,
a legend, a caption naming what is shaded and dashed, and is followed by a data table, so a
screen reader gets the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 220, 56, 12, 20, 28
LEGEND_STEP = 90  # px per series in the legend, drawn right-aligned above the plot

# Colours chosen for contrast on white (WCAG AA for the labels drawn in them).
SERIES_COLOURS = {"blue": "#1f4e9c", "green": "#1b6e2a"}
FALLBACK_COLOUR = "#444444"


@dataclass(frozen=True)
class Series:
    """One line: a label (e.g. "blue") and (unix seconds, value) points in time order."""

    label: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Band:
    """A shaded span of time, e.g. a watch window."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Marker:
    """A vertical line at one instant, e.g. the switch."""

    label: str
    at: float


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def _span(series: list[Series], bands: list[Band], markers: list[Marker]) -> tuple[float, float]:
    times = [t for s in series for t, _ in s.points]
    times += [b.start for b in bands] + [b.end for b in bands] + [m.at for m in markers]
    if not times:
        return 0.0, 1.0
    low, high = min(times), max(times)
    return (low, high) if high > low else (low, low + 1.0)


def render_chart(
    chart_id: str,
    title: str,
    unit: str,
    series: list[Series],
    bands: list[Band] | None = None,
    markers: list[Marker] | None = None,
) -> str:
    """Return a <figure> holding an accessible SVG chart and its data table."""
    bands, markers = bands or [], markers or []
    t0, t1 = _span(series, bands, markers)
    values = [v for s in series for _, v in s.points]
    top = max(values) * 1.1 if values and max(values) > 0 else 1.0
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return PAD_TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(_describe(title, unit, series, bands, markers))}</desc>',
    ]
    for band in bands:
        parts.append(
            f'<rect x="{x(band.start):.1f}" y="{PAD_TOP}" '
            f'width="{max(x(band.end) - x(band.start), 1):.1f}" '
            f'height="{plot_h}" fill="#fff3c4"><title>{escape(band.label)}</title></rect>'
        )
    parts.append(
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - PAD_RIGHT}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#555"/>'
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#555"/>'
        f'<text x="4" y="{PAD_TOP + 10}" font-size="11" fill="#1b1b1b">'
        f"{top:.3g} {escape(unit)}</text>"
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 8}" font-size="11" fill="#1b1b1b">'
        f"{_clock(t0)} UTC</text>"
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" font-size="11" fill="#1b1b1b" '
        f'text-anchor="end">{_clock(t1)} UTC</text>'
    )
    for marker in markers:
        parts.append(
            f'<line x1="{x(marker.at):.1f}" y1="{PAD_TOP}" x2="{x(marker.at):.1f}" '
            f'y2="{PAD_TOP + plot_h}" stroke="#8a1c1c" stroke-dasharray="4 3">'
            f"<title>{escape(marker.label)}</title></line>"
        )
    for i, s in enumerate(series):
        # The legend: a short stroke in the series' colour and its label (lines, not rects,
        # so a rect always means a window).
        lx = WIDTH - PAD_RIGHT - LEGEND_STEP * (len(series) - i)
        colour = SERIES_COLOURS.get(s.label, FALLBACK_COLOUR)
        parts.append(
            f'<line x1="{lx}" y1="9" x2="{lx + 16}" y2="9" stroke="{colour}" stroke-width="3"/>'
            f'<text x="{lx + 20}" y="13" font-size="11" fill="#1b1b1b">{escape(s.label)}</text>'
        )
    for s in series:
        colour = SERIES_COLOURS.get(s.label, FALLBACK_COLOUR)
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s.points)
        if path:
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
                f"<title>{escape(s.label)}</title></polyline>"
            )
    parts.append("</svg>")
    return (
        f'<figure id="{chart_id}">{"".join(parts)}'
        f"<figcaption>{escape(_caption(title, unit, bands, markers))}</figcaption>"
        f"{_table(title, unit, series)}</figure>"
    )


def _caption(title: str, unit: str, bands: list[Band], markers: list[Marker]) -> str:
    shaded = ", ".join(f"{b.label} {_clock(b.start)} to {_clock(b.end)}" for b in bands)
    dashed = ", ".join(f"{m.label} at {_clock(m.at)}" for m in markers)
    return (
        f"{title} ({unit}), one line per colour. Shaded: {shaded or 'no window ran'}; "
        f"dashed: {dashed or 'no switch'} (UTC)."
    )


def _describe(
    title: str, unit: str, series: list[Series], bands: list[Band], markers: list[Marker]
) -> str:
    lines = [f"{title}."]
    for s in series:
        if s.points:
            peak = max(v for _, v in s.points)
            lines.append(f"{s.label}: {len(s.points)} points, peak {peak:.4g} {unit}.")
        else:
            lines.append(f"{s.label}: no data.")
    lines += [f"{b.label} from {_clock(b.start)} to {_clock(b.end)} UTC." for b in bands]
    lines += [f"{m.label} at {_clock(m.at)} UTC." for m in markers]
    return " ".join(lines)


def _table(title: str, unit: str, series: list[Series]) -> str:
    """The figures behind the chart, one row per instant, one column per series."""
    times = sorted({t for s in series for t, _ in s.points})
    by_label = [dict(s.points) for s in series]
    head = "".join(f'<th scope="col">{escape(s.label)} ({escape(unit)})</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{_clock(t)}</th>'
        + "".join(f"<td>{f'{d[t]:.4g}' if t in d else '-'}</td>" for d in by_label)
        + "</tr>"
        for t in times
    )
    return (
        f"<details><summary>Data: {escape(title)}</summary><table>"
        f'<thead><tr><th scope="col">UTC</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></details>"
    )
