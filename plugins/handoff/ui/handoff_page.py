"""Render the page of one handoff: a shell that loads once and a live part it refreshes.

The shell (title, objective, the script) is sent once; the live part is the fragment the
app also serves on its own, which `assets/refresh.js` fetches every N seconds while the run
is in flight and stops fetching once it ended. Every text that comes from a contract, a
sidecar, a run, Prometheus or Airflow is escaped. Sections are labelled regions, so a
screen reader can jump between them; the charts carry their figures as tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote

from handoff.console.run_metrics import RunMetrics
from handoff.console.window import WindowStatus, window_html
from handoff.report.model import StepRow
from handoff.runtime.drift import Drift
from handoff.svg_chart import Band, Marker, Series, render_chart
from handoff.ui.page import CSS, report_url
from handoff.ui.run_view import Gate, RunInfo

PAGE_CSS = (
    CSS
    + """
section{margin:1.2rem 0}h2{font-size:1.15rem;margin:.4rem 0}.phase{font-size:1.1rem}
figure{margin:.5rem 0}figcaption{font-size:.85rem}nav a{margin-right:1rem}
.notice{border-left:4px solid #8a1c1c;padding:.3rem .6rem;background:#fdecea}
"""
)


@dataclass(frozen=True)
class LiveView:
    """Everything the live part shows."""

    dag_id: str
    handoff_id: str
    base_url: str
    run: RunInfo | None
    phase: str
    steps: Sequence[StepRow]
    window: WindowStatus | None
    gates: Sequence[Gate]
    metrics: RunMetrics | None  # None: the environment is not observed by Prometheus
    bands: Sequence[Band]
    markers: Sequence[Marker]
    drift: Sequence[Drift]
    reports: Sequence[str]
    now: datetime

    @property
    def final(self) -> bool:
        """Tell whether the run ended: the page then stops refreshing."""
        return self.run is not None and self.run.state in ("success", "failed")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "-"


def _section(key: str, title: str, body: str) -> str:
    return (
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{escape(title)}</h2>'
        f"{body}</section>"
    )


def _status(view: LiveView) -> str:
    if view.run is None:
        return _section("status", "Status", '<p class="phase">No run yet.</p>')
    run_url = f"{view.base_url}/dags/{quote(view.dag_id)}/runs/{quote(view.run.run_id)}"
    return _section(
        "status",
        "Status",
        f'<p class="phase"><b>{escape(view.phase)}</b></p>'
        f'<p>Run <a href="{escape(run_url)}" target="_top">{escape(view.run.run_id)}</a>, '
        f"{escape(view.run.state)}, started {_when(view.run.start)}; "
        f"as of {_when(view.now)}.</p>",
    )


def _gates(view: LiveView) -> str:
    if not view.gates or view.run is None:
        return _section("gates", "Human gates", "<p>No gate waits for a person.</p>")
    items = []
    for gate in view.gates:
        answer = (
            f"{view.base_url}/dags/{quote(view.dag_id)}/runs/{quote(view.run.run_id)}"
            f"/tasks/{quote(gate.task_id)}/required_actions"
        )
        options = f" Options: {escape(', '.join(gate.options))}." if gate.options else ""
        body = f"<br>{escape(gate.body[:500])}" if gate.body else ""
        items.append(
            f"<li><b>{escape(gate.subject)}</b> ({escape(gate.task_id)}, waiting since "
            f"{_when(gate.since)}).{options}{body}<br>"
            f'<a href="{escape(answer)}" target="_top">Answer {escape(gate.task_id)} in '
            "Airflow</a></li>"
        )
    return _section("gates", "Human gates waiting", f"<ul>{''.join(items)}</ul>")


def _timeline(view: LiveView) -> str:
    if not view.steps:
        return _section("timeline", "Plan against the run", "<p>No step has a task yet.</p>")
    rows = "".join(
        f'<tr><th scope="row">{escape(s.step)}</th><td>{_when(s.planned_start)}</td>'
        f"<td>{_when(s.planned_end)}</td><td>{_when(s.actual_start)}</td>"
        f"<td>{_when(s.actual_end)}</td><td>{escape(s.state)}</td></tr>"
        for s in view.steps
    )
    table = (
        '<table id="plan"><caption>Planned times are scaled like the run\'s waits</caption>'
        '<thead><tr><th scope="col">Step</th><th scope="col">Planned start</th>'
        '<th scope="col">Planned end</th><th scope="col">Started</th>'
        f'<th scope="col">Ended</th><th scope="col">State</th></tr></thead><tbody>{rows}'
        "</tbody></table>"
    )
    return _section("timeline", "Plan against the run", table)


def _scaled(label: str, points: tuple[tuple[float, float], ...], factor: float) -> Series:
    return Series(label, tuple((t, v * factor) for t, v in points))


def _charts(view: LiveView) -> str:
    metrics = view.metrics
    if metrics is None:
        body = "<p>This handoff's environment is not observed by Prometheus: no charts.</p>"
    elif metrics.problem:
        body = f'<p class="notice">No charts: {escape(metrics.problem)}.</p>'
    else:
        error = [
            Series(c, tuple((t, v * 100) for t, v in p)) for c, p in metrics.error_rate.items()
        ]
        p95 = [Series(c, tuple((t, v * 1000) for t, v in p)) for c, p in metrics.p95.items()]
        bands, markers = list(view.bands), list(view.markers)
        body = render_chart(
            "chart-errors", "Error rate per colour", "%", error, bands, markers
        ) + render_chart("chart-p95", "p95 latency per colour", "ms", p95, bands, markers)
    return _section("charts", "Error rate and p95 per colour", body)


def _alerts(view: LiveView) -> str:
    metrics = view.metrics
    if metrics is None or metrics.problem:
        said = "not observed" if metrics is None else "Prometheus did not answer"
        return _section("alerts", "Alerts firing", f"<p>Unknown: {escape(said)}.</p>")
    if not metrics.alerts:
        return _section("alerts", "Alerts firing", "<p>No alert fires for this handoff.</p>")
    items = "".join(
        f"<li><b>{escape(a.name)}</b> ({escape(a.severity or 'no severity')}, "
        f"{escape(a.colour or 'no colour')}) since {escape(a.active_at)}"
        + (f": {escape(a.summary)}" if a.summary else "")
        + "</li>"
        for a in metrics.alerts
    )
    return _section("alerts", "Alerts firing", f"<ul>{items}</ul>")


def _drift(view: LiveView) -> str:
    if not view.drift:
        return _section(
            "drift", "Drift", "<p>The handoff's files are as the run's snapshot froze them.</p>"
        )
    items = "".join(
        f"<li>{escape(d.describe())}"
        + (
            f", seen {escape(d.seen_at)} by {escape(d.seen_by)}"
            if d.seen_at
            else ", seen by this page (no task has started since)"
        )
        + "</li>"
        for d in view.drift
    )
    return _section(
        "drift",
        "Drift: files changed during the run",
        f'<div class="notice"><p>The run keeps the version it started with.</p>'
        f"<ul>{items}</ul></div>",
    )


def _reports(view: LiveView) -> str:
    if view.run is None or not view.reports:
        return _section("reports", "Reports", "<p>No report written for this run yet.</p>")
    links = " ".join(
        f'<a href="{escape(report_url(view.dag_id, view.run.run_id, fmt))}">'
        f"report.{escape(fmt)}</a>"
        for fmt in view.reports
    )
    return _section("reports", "Reports", f"<p>{links}</p>")


def render_live(view: LiveView) -> str:
    """Return the live part of the page (also served alone, as the refresh fragment)."""
    if view.window is None:
        window = _section("window", "Watch window", "<p>No window open.</p>")
    else:
        window = window_html(view.window, view.now)
    return (
        f'<div data-final="{"true" if view.final else "false"}" data-phase="{escape(view.phase)}">'
        + _status(view)
        + _gates(view)
        + window
        + _timeline(view)
        + _charts(view)
        + _alerts(view)
        + _drift(view)
        + _reports(view)
        + "</div>"
    )


def render_handoff_page(
    view: LiveView, title: str, objective: str, refresh_s: int, user: str
) -> str:
    """Return the whole page: the shell around the first live part."""
    live_url = f"{quote(view.dag_id)}/live"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(view.handoff_id)}: handoff</title><style>{PAGE_CSS}</style>"
        '<script src="assets/refresh.js" defer></script></head><body>'
        '<header><nav aria-label="Handoffs"><a href="./">All handoffs</a></nav></header>'
        f"<main><h1>{escape(view.handoff_id)}: {escape(title)}</h1>"
        f'<p class="muted">{escape(objective)} Signed in as {escape(user)}.</p>'
        f'<p id="refreshed" role="status" class="muted">Refreshes every {refresh_s} s while '
        "the run is in flight.</p>"
        f'<div id="live" data-src="{escape(live_url)}" data-refresh="{refresh_s}">'
        f"{render_live(view)}</div></main></body></html>"
    )
