"""Render a report as one self-contained HTML page: inline CSS and SVG, no external assets.

Everything that comes from a contract, a sidecar or a record is escaped.
"""

from __future__ import annotations

from html import escape

from handoff.report.chart import timeline_svg, window_chart
from handoff.report.model import CriterionRow, EvidenceRow, Report
from handoff.report.text import evidence_sentence, figures, seconds, when

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.85rem;word-break:break-all}
.s{font-weight:600;padding:0 .3rem;border-radius:3px;color:#fff;white-space:nowrap;
background:#455a64}
.met,.passed,.success,.succeeded,.sent{background:#2e7d32}
.missed,.failed,.aborted,.rolled-back{background:#c62828}
.not-measured,.not-verified,.skipped,.not-run{background:#616161}
.upstream_failed{background:#a84300}.running{background:#1565c0}
"""
# Every badge colour keeps white text at a contrast of at least 4.5:1 (WCAG 2.1 AA).


def badge(status: str) -> str:
    """Return a coloured status label."""
    css = escape(status.replace(" ", "-"))
    return f'<span class="s {css}">{escape(status)}</span>'


def link(url: str, text: str) -> str:
    """Return a link; the URL is escaped like any other text."""
    return f'<a href="{escape(url)}">{escape(text)}</a>' if url else escape(text)


def render_html(report: Report) -> str:
    """Return the report as a self-contained HTML page."""
    h = report.header
    out = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Deployment report {escape(h.handoff_id)} {escape(h.run_id)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Deployment report: {escape(h.handoff_id)} {badge(report.outcome.value)}</h1>",
        f"<p>{escape(report.outcome_detail)}. Generated {when(report.generated_at)}.</p>",
        "<h2>Handoff</h2><table>",
    ]
    rows = [
        ("Handoff", f"{escape(h.handoff_id)}: {escape(h.title)}"),
        ("From", escape(h.sender)),
        ("To", escape(", ".join(h.recipients))),
        ("Objective", escape(h.objective)),
        ("Service / release", f"{escape(h.service)} / {escape(h.release)}"),
        ("Environment", escape(h.environment)),
        ("Run", f"{link(h.run_url, h.run_id)} of <code>{escape(h.dag_id)}</code>"),
        ("Contract sha256", f"<code>{escape(h.contract_sha256)}</code>"),
        ("Sidecar sha256", f"<code>{escape(h.sidecar_sha256)}</code>"),
        ("Environment sha256", f"<code>{escape(h.environment_sha256)}</code>"),
    ]
    if h.rehearsal_time_scale != 1:
        rows.append(("Rehearsal", f"every wait and window divided by {h.rehearsal_time_scale:g}"))
    out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
    out.append("</table>")
    if report.drift:
        out.append(
            "<h2>Drift during the run</h2><p>The run kept the version it started with; "
            'nothing of these edits applied.</p><table id="drift"><tr><th>file</th>'
            "<th>snapshot sha256</th><th>live sha256</th><th>seen</th><th>by task</th></tr>"
        )
        for d in report.drift:
            live = f"<code>{escape(d.live_sha256)}</code>" if d.live_sha256 else "deleted"
            out.append(
                f"<tr><td>{escape(d.role)}: {escape(d.path)}</td>"
                f"<td><code>{escape(d.snapshot_sha256)}</code></td><td>{live}</td>"
                f"<td>{escape(d.seen_at)}</td><td>{escape(d.seen_by)}</td></tr>"
            )
        out.append("</table>")
    out.append('<h2>Success metrics</h2><table id="metrics">')
    out.append(
        "<tr><th>metric</th><th>target</th><th>measured</th><th>status</th><th>source</th></tr>"
    )
    for m in report.metrics:
        out.append(
            f"<tr><td>{escape(m.name)}</td><td>{escape(m.target)}</td><td>{escape(m.measured)}</td>"
            f"<td>{badge(m.status.value)}</td><td>{escape(m.source)}</td></tr>"
        )
    out.append("</table><h2>Dependencies (proven at preflight)</h2>")
    out += criteria_table(report.dependencies, "dependencies")
    out += schema_table(report)
    out.append("<h2>Acceptance criteria</h2>")
    out += criteria_table(report.criteria)
    out += unplanned_table(report.unplanned_evidence)
    out.append("<h2>Timeline: planned against actual</h2>")
    out.append(timeline_svg(report.timeline))
    out += charts_section(report)
    out.append('<table id="tasks"><tr><th>step</th><th>task</th><th>state</th><th>start</th>')
    out.append("<th>end</th><th>took</th><th>log</th></tr>")
    for s in report.timeline:
        for t in s.tasks:
            out.append(
                f"<tr><td>{escape(s.step)}</td><td><code>{escape(t.task_id)}</code></td>"
                f"<td>{badge(t.state)}</td>"
                f"<td>{when(t.start)}</td><td>{when(t.end)}</td><td>{seconds(t.seconds)}</td>"
                f"<td>{link(t.log_url, 'log')}</td></tr>"
            )
    out.append("</table><h2>Notifications</h2>")
    if report.notifications:
        out.append('<table id="notifications"><tr><th>event</th><th>step</th><th>status</th>')
        out.append("<th>attempts</th><th>at</th><th>error</th></tr>")
        for n in report.notifications:
            out.append(
                f"<tr><td>{escape(n.event)}</td><td>{escape(n.step)}</td><td>{badge(n.status)}</td>"
                f"<td>{n.attempts}</td><td>{escape(n.at)}</td><td>{escape(n.error)}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No notification was recorded for this run.</p>")
    out.append("</main></body></html>")
    return "\n".join(out)


def schema_table(report: Report) -> list[str]:
    """Return the schema's phases and the rollback's decision (nothing without migrations)."""
    if not report.schema:
        return []
    out: list[str] = []
    out.append('<h2>Schema migrations</h2><table id="schema"><tr><th>phase</th>')
    out.append("<th>state</th><th>steps</th><th>schema version</th><th>detail</th></tr>")
    for r in report.schema:
        version = "-" if r.schema_version is None else str(r.schema_version)
        out.append(
            f"<tr><td>{escape(r.phase)}</td><td>{badge(r.state)}</td>"
            f"<td>{escape(', '.join(r.steps))}</td><td>{version}</td>"
            f"<td>{escape(r.detail)}</td></tr>"
        )
    out.append("</table>")
    return out


def criteria_table(criteria: tuple[CriterionRow, ...], table_id: str = "criteria") -> list[str]:
    """Return the criteria table: a row per evidence record, its measured values apart."""
    out = [
        f'<table id="{table_id}"><tr><th>group</th><th>criterion</th><th>check</th>'
        "<th>status</th><th>evidence</th><th>measured</th><th>log</th></tr>"
    ]
    for c in criteria:
        span = f' rowspan="{len(c.evidence)}"' if len(c.evidence) > 1 else ""
        first = (
            f"<td{span}>{escape(c.group)}</td><td{span}>{escape(c.name)}</td>"
            f"<td{span}>{escape(c.check)}</td><td{span}>{badge(c.status)}</td>"
        )
        if not c.evidence:
            out.append(f"<tr>{first}<td>no evidence recorded</td><td>-</td><td>-</td></tr>")
        for index, e in enumerate(c.evidence):
            sentence = escape(evidence_sentence(e, c.status))
            out.append(
                f"<tr>{first if index == 0 else ''}<td>{sentence}</td>"
                f"<td>{escape(figures(e.measured))}</td><td>{link(e.log_url, 'log')}</td></tr>"
            )
    out.append("</table>")
    return out


def unplanned_table(records: tuple[EvidenceRow, ...]) -> list[str]:
    """Return the records that name no criterion of the contract (none: nothing)."""
    if not records:
        return []
    out = [
        "<h2>Other evidence (no criterion of the contract)</h2>",
        '<table id="unplanned"><tr><th>criterion</th><th>status</th><th>evidence</th>'
        "<th>measured</th><th>log</th></tr>",
    ]
    for e in records:
        out.append(
            f"<tr><td>{escape(e.criterion)}</td><td>{badge(e.status)}</td>"
            f"<td>{escape(evidence_sentence(e, e.status))}</td>"
            f"<td>{escape(figures(e.measured))}</td><td>{link(e.log_url, 'log')}</td></tr>"
        )
    out.append("</table>")
    return out


def charts_section(report: Report) -> list[str]:
    """Return the windows' charts (error rate and p95 per colour), or why there are none."""
    out = ["<h2>Watch windows: error rate and p95 per colour</h2>"]
    if not report.charts:
        return [*out, "<p>No chart: Prometheus did not observe this run.</p>"]
    return out + [window_chart(c, report.timeline, i) for i, c in enumerate(report.charts)]
