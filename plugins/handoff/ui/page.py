"""Render the Handoffs page: one self-contained HTML page, everything from a contract escaped."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from handoff.contract.quantities import format_seconds
from handoff.ui.overview import HandoffRow, WatchFigures

CSS = """
body{font-family:system-ui,sans-serif;margin:1rem;color:#1b1b1b}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
.muted{color:#666}ul{margin:.2rem 0;padding-left:1.1rem}
"""


def _lint(row: HandoffRow) -> str:
    if row.errors:
        items = "".join(f"<li>{escape(e)}</li>" for e in row.errors)
        return f'<span class="bad">{len(row.errors)} error(s)</span><ul>{items}</ul>'
    warnings = f", {row.warnings} warning(s)" if row.warnings else ""
    return f'<span class="ok">ok</span>{escape(warnings)}'


def _judged(value: float | None, limit: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if limit is None:
        return f"{value:.4g} {unit}"
    css = "ok" if value <= limit else "bad"
    return f'<span class="{css}">{value:.4g} {unit}</span> (limit {limit:.4g} {unit})'


def _watch(figures: WatchFigures) -> str:
    latency = "".join(
        f"<li>p95 {escape(path)}: {_judged(p95, budget, 'ms')}</li>"
        for path, p95, budget in figures.latency
    )
    return (
        f"<div><b>{escape(figures.window)}</b> open, "
        f"{escape(format_seconds(round(figures.seconds_left)))} left; "
        f"error rate {_judged(figures.error_rate_pct, figures.error_rate_limit_pct, '%')} "
        f"over {figures.samples} probes<ul>{latency}</ul>"
        f'<span class="muted">as of {escape(figures.updated_at)}</span></div>'
    )


def _run(row: HandoffRow, base_url: str) -> str:
    latest = row.latest
    if row.dag_id is None:
        return '<span class="muted">no DAG</span>'
    if latest is None:
        return '<span class="muted">no run yet</span>'
    run_url = f"{base_url}/dags/{quote(row.dag_id)}/runs/{quote(latest.run_id)}"
    started = f"{latest.started:%Y-%m-%d %H:%M:%S} UTC" if latest.started else "not started"
    css = {"success": "ok", "failed": "bad"}.get(latest.state, "muted")
    reports = " ".join(
        f'<a href="{escape(report_url(row.dag_id, latest.run_id, fmt))}">{fmt}</a>'
        for fmt in row.reports
    )
    return (
        f'<a href="{escape(run_url)}" target="_top">{escape(latest.run_id)}</a> '
        f'<span class="{css}">{escape(latest.state)}</span><br>'
        f'<span class="muted">{started}</span><br>'
        f"report: {reports or '<span class=muted>not written yet</span>'}"
        + "".join(_watch(w) for w in row.watches)
    )


def report_url(dag_id: str, run_id: str, fmt: str) -> str:
    """Return the app-relative URL of a run's report in one format."""
    return f"reports/{quote(dag_id)}/{quote(run_id, safe='')}/report.{fmt}"


def _name_cell(row: HandoffRow) -> str:
    name = f"<b>{escape(row.handoff_id)}</b>"
    if row.dag_id is None:
        return name
    # The handoff's own page, relative to this one (/handoffs/ -> /handoffs/<dag_id>).
    return f'<a href="{escape(quote(row.dag_id))}">{name}</a>'


def render_page(rows: list[HandoffRow], base_url: str, user: str, dora: str = "") -> str:
    """Return the Handoffs page (``dora``: the DORA section, already rendered)."""
    body = "".join(
        f"<tr><td>{_name_cell(r)}<br>"
        f'<span class="muted">{escape(r.contract_file)}</span></td>'
        f"<td>{_lint(r)}</td><td>{escape(r.acceptance)}</td><td>{escape(r.schedule)}</td>"
        f"<td>{_run(r, base_url.rstrip('/'))}</td></tr>"
        for r in rows
    )
    empty = "" if rows else '<tr><td colspan="5">No handoff contract found.</td></tr>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Handoffs</title>'
        f"<style>{CSS}</style></head><body><main><h1>Handoffs</h1>"
        f'<p class="muted">Signed in as {escape(user)}. Every contract, its lint status, '
        "acceptance, schedule and latest run.</p>"
        '<table id="handoffs"><tr><th>handoff</th><th>lint</th><th>acceptance</th>'
        f"<th>schedule</th><th>latest run</th></tr>{body}{empty}</table>{dora}</main></body></html>"
    )
