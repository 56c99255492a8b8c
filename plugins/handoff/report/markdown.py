"""Render a report as Markdown (for a ticket, a pull request or a chat message)."""

from __future__ import annotations

import html

from handoff.report.model import Report
from handoff.report.text import figures, seconds, when


def cell(text: object) -> str:
    """Return text safe inside a Markdown table cell: no HTML, no pipes, one line."""
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def render_markdown(report: Report) -> str:
    """Return the report as Markdown."""
    h = report.header
    lines = [
        f"# Deployment report: {cell(h.handoff_id)}: {report.outcome.value.upper()}",
        "",
        f"{cell(report.outcome_detail)}. Generated {when(report.generated_at)}.",
        "",
        "## Handoff",
        "",
        "| | |",
        "|---|---|",
        f"| Handoff | {cell(h.handoff_id)}: {cell(h.title)} |",
        f"| From | {cell(h.sender)} |",
        f"| To | {cell(', '.join(h.recipients))} |",
        f"| Objective | {cell(h.objective)} |",
        f"| Service / release | {cell(h.service)} / {cell(h.release)} |",
        f"| Environment | {cell(h.environment)} |",
        f"| Run | [{cell(h.run_id)}]({h.run_url}) of `{cell(h.dag_id)}` |",
        f"| Contract sha256 | `{h.contract_sha256}` |",
        f"| Sidecar sha256 | `{h.sidecar_sha256}` |",
        f"| Environment sha256 | `{h.environment_sha256}` |",
    ]
    if h.rehearsal_time_scale != 1:
        lines.append(f"| Rehearsal | every wait and window divided by {h.rehearsal_time_scale:g} |")
    lines += drift_section(report)
    lines += ["", "## Success metrics", "", "| metric | target | measured | status | source |"]
    lines.append("|---|---|---|---|---|")
    for m in report.metrics:
        lines.append(
            f"| {cell(m.name)} | {cell(m.target)} | {cell(m.measured)} | "
            f"**{m.status.value}** | {cell(m.source)} |"
        )
    lines += ["", "## Acceptance criteria", "", "| group | criterion | check | status | evidence |"]
    lines.append("|---|---|---|---|---|")
    for c in report.criteria:
        evidence = (
            "<br>".join(
                f"{cell(e.summary)} ({cell(figures(e.measured))}) [log]({e.log_url})"
                for e in c.evidence
            )
            or "no evidence recorded"
        )
        lines.append(
            f"| {cell(c.group)} | {cell(c.name)} | {cell(c.check)} | **{c.status}** | {evidence} |"
        )
    lines += ["", "## Timeline: planned against actual", ""]
    lines += ["| step | planned | actual start | actual end | state |", "|---|---|---|---|---|"]
    for s in report.timeline:
        planned = (
            when(s.planned_end)
            if s.planned_start == s.planned_end
            else (f"{when(s.planned_start)} to {when(s.planned_end)}")
        )
        lines.append(
            f"| {cell(s.step)} | {planned} | {when(s.actual_start)} | {when(s.actual_end)} | "
            f"{s.state} |"
        )
    lines += ["", "### Tasks and their logs", "", "| task | state | try | took | log |"]
    lines.append("|---|---|---|---|---|")
    for s in report.timeline:
        for t in s.tasks:
            lines.append(
                f"| `{cell(t.task_id)}` | {t.state} | {t.try_number or '-'} | "
                f"{seconds(t.seconds)} | [log]({t.log_url}) |"
            )
    lines += ["", "## Notifications", ""]
    if report.notifications:
        lines += ["| event | step | status | attempts | at | error |", "|---|---|---|---|---|---|"]
        for n in report.notifications:
            lines.append(
                f"| {cell(n.event)} | {cell(n.step)} | {n.status} | {n.attempts} | "
                f"{cell(n.at)} | {cell(n.error)} |"
            )
    else:
        lines.append("No notification was recorded for this run.")
    return "\n".join(lines) + "\n"


def drift_section(report: Report) -> list[str]:
    """Return the lines listing the live files that changed during the run (none: no lines)."""
    if not report.drift:
        return []
    lines = ["", "## Drift during the run", ""]
    lines.append("The run kept the version it started with; nothing of these edits applied.")
    lines += ["", "| file | snapshot sha256 | live sha256 | seen | by task |"]
    lines.append("|---|---|---|---|---|")
    for d in report.drift:
        live = f"`{d.live_sha256}`" if d.live_sha256 else "deleted"
        lines.append(
            f"| {cell(d.role)}: {cell(d.path)} | `{d.snapshot_sha256}` | {live} | "
            f"{cell(d.seen_at)} | {cell(d.seen_by)} |"
        )
    return lines
