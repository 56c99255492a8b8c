"""Render a report as Markdown (for a ticket, a pull request or a chat message).

Clean Markdown that reads as plain text too: no HTML and no HTML entities. Whatever comes
from a contract, a sidecar or a record is escaped with backslashes (or set in a code span)
so that it can neither break a table nor add markup: no link, image, raw HTML, emphasis,
mention or autolink can come from it, in CommonMark and GitHub-flavoured renderers alike.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from handoff.report.model import CriterionRow, EvidenceRow, Report
from handoff.report.text import evidence_sentence, figures, seconds, when

# Always escaped: escapes themselves, code spans, emphasis, links and images, table cells,
# strikethrough and math.
_ALWAYS = re.compile(r"([\\`*\[\]|~$])")
# Escaped where they would start something: raw HTML and autolinks (`<` before a letter,
# `/`, `!` or `?`), entities (`&name;`), mentions and e-mail autolinks (`@` before a word),
# emphasis by underscores (a run of `_` not between two letters or digits), bare-URL autolinks.
_CONTEXT = re.compile(
    r"<(?=[A-Za-z/!?])|&(?=#?\w+;)|@(?=\w)|(?<!\w)_+|_+(?!\w)|:(?=//)|(?<=www)\.",
    re.IGNORECASE,
)
# A line that starts with one of these would become a heading, a quote, a list or a rule.
_BLOCK_START = re.compile(
    r"^(\s*)(#{1,6}(?=\s|$)|>|[+-](?=\s|$)|-(?=[\s-]*$)|\d{1,9}(?=[.)](?:\s|$)))"
)
# Unicode's control characters (Cc) and its line and paragraph separators (Zl, Zp).
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LINK_SAFE = "/:?#=&%;,+-._~!"


def _one_line(text: str) -> str:
    """Return text on one line: line breaks, tabs and other control characters become spaces."""
    return _BREAKS.sub(" ", text).strip()


def cell(text: object) -> str:
    """Return text as plain, inert Markdown on one line, safe inside a table cell."""
    line = _one_line(str(text))
    line = _ALWAYS.sub(r"\\\1", line)
    line = _CONTEXT.sub(lambda m: "".join("\\" + ch for ch in m.group(0)), line)
    return _BLOCK_START.sub(_escape_block_start, line, count=1)


def _escape_block_start(match: re.Match[str]) -> str:
    """Escape a block marker; an ordered list's number keeps its digits, its dot is escaped."""
    indent, marker = match.group(1), match.group(2)
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


def code(text: object) -> str:
    """Return text as a code span on one line, safe inside a table cell."""
    line = _one_line(str(text)).replace("|", "\\|")  # GFM splits cells even inside code
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}" if line else "-"


def link(text: str, url: str) -> str:
    """Return a Markdown link to an http(s) URL, or the escaped text when there is none."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return cell(text)
    return f"[{cell(text)}]({quote(url, safe=_LINK_SAFE)})"


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
        f"| Run | {link(h.run_id, h.run_url)} of {code(h.dag_id)} |",
        f"| Contract sha256 | {code(h.contract_sha256)} |",
        f"| Sidecar sha256 | {code(h.sidecar_sha256)} |",
        f"| Environment sha256 | {code(h.environment_sha256)} |",
    ]
    if h.rehearsal_time_scale != 1:
        lines.append(f"| Rehearsal | every wait and window divided by {h.rehearsal_time_scale:g} |")
    lines += drift_section(report)
    lines += ["", "## Success metrics", "", "| metric | target | measured | status | source |"]
    lines.append("|---|---|---|---|---|")
    for m in report.metrics:
        lines.append(
            f"| {cell(m.name)} | {cell(m.target)} | {cell(m.measured)} | "
            f"**{cell(m.status.value)}** | {cell(m.source)} |"
        )
    lines += criteria_section(report.dependencies, "Dependencies (proven at preflight)")
    lines += schema_section(report)
    lines += criteria_section(report.criteria)
    lines += unplanned_section(report.unplanned_evidence)
    lines += timeline_section(report)
    lines += charts_section(report)
    lines += ["", "## Notifications", ""]
    if report.notifications:
        lines += ["| event | step | status | attempts | at | error |", "|---|---|---|---|---|---|"]
        for n in report.notifications:
            lines.append(
                f"| {cell(n.event)} | {cell(n.step)} | {cell(n.status)} | {n.attempts} | "
                f"{cell(n.at)} | {cell(n.error) or '-'} |"
            )
    else:
        lines.append("No notification was recorded for this run.")
    return "\n".join(lines) + "\n"


def evidence_cells(e: EvidenceRow, criterion_status: str) -> str:
    """Return the evidence, measured-values and log cells of one evidence record."""
    return f"{cell(evidence_sentence(e, criterion_status))} | {cell(figures(e.measured))} | " + (
        link("log", e.log_url) if e.log_url else "-"
    )


def criteria_section(
    criteria: tuple[CriterionRow, ...], title: str = "Acceptance criteria"
) -> list[str]:
    """Return the criteria table: a row per evidence record, its measured values apart."""
    lines = ["", f"## {title}", ""]
    lines.append("| group | criterion | check | status | evidence | measured | log |")
    lines.append("|---|---|---|---|---|---|---|")
    for c in criteria:
        first = f"| {cell(c.group)} | {cell(c.name)} | {cell(c.check)} | **{cell(c.status)}** |"
        records = c.evidence or (None,)
        for record in records:
            found = evidence_cells(record, c.status) if record else "no evidence recorded | - | -"
            lines.append(f"{first} {found} |")
    return lines


def unplanned_section(records: tuple[EvidenceRow, ...]) -> list[str]:
    """Return the records that name no criterion of the contract (none: no lines)."""
    if not records:
        return []
    lines = ["", "## Other evidence (no criterion of the contract)", ""]
    lines += ["| criterion | status | evidence | measured | log |", "|---|---|---|---|---|"]
    for e in records:
        lines.append(
            f"| {cell(e.criterion)} | **{cell(e.status)}** | {evidence_cells(e, e.status)} |"
        )
    return lines


def charts_section(report: Report) -> list[str]:
    """Return the figures of the windows' charts (drawn in the HTML report), a row per line."""
    lines = ["", "## Watch windows: error rate and p95 per colour", ""]
    if not report.charts:
        return [*lines, "No chart: Prometheus did not observe this run."]
    lines += ["The charts are drawn in the HTML report; their figures:", ""]
    lines += ["| chart | colour | points | peak | last |", "|---|---|---|---|---|"]
    for chart in report.charts:
        for name, points in chart.lines:
            peak = f"{max(v for _, v in points):.3g} {chart.unit}" if points else "-"
            last = f"{points[-1][1]:.3g} {chart.unit}" if points else "-"
            lines.append(
                f"| {cell(chart.title)} | {cell(name)} | {len(points)} | {cell(peak)} | "
                f"{cell(last)} |"
            )
    return lines


def timeline_section(report: Report) -> list[str]:
    """Return the timeline table and the table of tasks with their logs."""
    lines = ["", "## Timeline: planned against actual", ""]
    lines += ["| step | planned | actual start | actual end | state |", "|---|---|---|---|---|"]
    for s in report.timeline:
        planned = (
            when(s.planned_end)
            if s.planned_start == s.planned_end
            else (f"{when(s.planned_start)} to {when(s.planned_end)}")
        )
        lines.append(
            f"| {cell(s.step)} | {planned} | {when(s.actual_start)} | {when(s.actual_end)} | "
            f"{cell(s.state)} |"
        )
    lines += ["", "### Tasks and their logs", "", "| task | state | try | took | log |"]
    lines.append("|---|---|---|---|---|")
    for s in report.timeline:
        for t in s.tasks:
            lines.append(
                f"| {code(t.task_id)} | {cell(t.state)} | {t.try_number or '-'} | "
                f"{seconds(t.seconds)} | {link('log', t.log_url)} |"
            )
    return lines


def schema_section(report: Report) -> list[str]:
    """Return the schema's phases (expand, contract) and the rollback's decision, if any."""
    if not report.schema:
        return []
    lines = ["", "## Schema migrations", "", "| phase | state | steps | schema version | detail |"]
    lines.append("|---|---|---|---|---|")
    for r in report.schema:
        version = "-" if r.schema_version is None else str(r.schema_version)
        lines.append(
            f"| {cell(r.phase)} | **{cell(r.state)}** | {cell(', '.join(r.steps)) or '-'} | "
            f"{version} | {cell(r.detail) or '-'} |"
        )
    return lines


def drift_section(report: Report) -> list[str]:
    """Return the lines listing the live files that changed during the run (none: no lines)."""
    if not report.drift:
        return []
    lines = ["", "## Drift during the run", ""]
    lines.append("The run kept the version it started with; nothing of these edits applied.")
    lines += ["", "| file | snapshot sha256 | live sha256 | seen | by task |"]
    lines.append("|---|---|---|---|---|")
    for d in report.drift:
        live = code(d.live_sha256) if d.live_sha256 else "deleted"
        lines.append(
            f"| {cell(d.role)}: {cell(d.path)} | {code(d.snapshot_sha256)} | {live} | "
            f"{cell(d.seen_at)} | {cell(d.seen_by)} |"
        )
    return lines
