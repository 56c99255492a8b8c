"""Render a deployment plan as a person reads it: timeline, thresholds, criteria -> checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from handoff.contract.quantities import format_seconds
from handoff.plan.model import DeploymentPlan, PlanStep


def _offset(offset: timedelta | None) -> str:
    if offset is None:
        return ""
    if not offset:
        return "T"
    sign = "-" if offset < timedelta(0) else "+"
    seconds = abs(offset.total_seconds())
    amount = f"{seconds / 3600:g}h" if seconds % 3600 == 0 else format_seconds(seconds)
    return f"T{sign}{amount.replace(' ', '')}"


def _time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _step_line(step: PlanStep, dated: bool) -> str:
    when = f"{_time(step.at):<22}" if dated else ""
    return (
        f"  {when}{_offset(step.offset):<8}{step.kind.value:<26}"
        f"{step.basis.render():<20}{step.on_failure.value}"
    ).rstrip()


def _header(plan: DeploymentPlan) -> list[str]:
    contract = plan.contract
    recipients = ", ".join(p.name for p in contract.recipients)
    lines = [
        f"{contract.handoff_id}: {contract.title}",
        f"  from {contract.sender.name} to {recipients}, handed over {_time(contract.timestamp)}",
        f"  contract {contract.source.path} ({contract.source.form.value}, "
        f"sha256 {contract.source.sha256[:12]})",
    ]
    acceptance, environment = plan.acceptance, plan.environment
    if acceptance is None:
        lines.append("  not accepted yet: times below are relative to the deploy time T")
        return lines
    lines.append(f"  accepted by {acceptance.accepted_by} at {_time(acceptance.accepted_at)}")
    service = acceptance.service
    lines.append(
        f"  service {service.name}, release {service.image}, port {service.port}, "
        f"environment {acceptance.environment}"
        + (f" (router {environment.router.container})" if environment else "")
    )
    if plan.deploy_at is None:
        lines.append("  deploy time: when the run is triggered (no deploy_at in the sidecar)")
    else:
        lines.append(f"  deploy time: {_time(plan.deploy_at)}")
    if plan.window_closes_at is not None:
        lines.append(f"  deployment window closes {_time(plan.window_closes_at)}")
    return lines


def render_plan(plan: DeploymentPlan) -> str:
    """Return the plan as text."""
    lines = _header(plan)
    dated = plan.deploy_at is not None
    width = 36 + (22 if dated else 0)
    lines += ["", f"{'Timeline':<{width}}{'from':<20}if it fails"]
    lines += [_step_line(step, dated) for step in plan.steps]
    lines += ["", "Thresholds"]
    for planned in plan.thresholds:
        lines.append(
            f"  {planned.name:<22}{planned.threshold.describe():<22}[{planned.basis.render()}]"
        )
    for target in plan.performance_targets:
        lines.append(f"  {target.name:<22}{target.threshold.describe():<22}[performance target]")
    lines += ["", "Acceptance criteria -> checks"]
    group = None
    for binding in plan.checks:
        criterion = binding.criterion
        if criterion.group != group:
            group = criterion.group
            lines.append(f"  {group}")
        phases = ", ".join(p.value for p in binding.phases) or "-"
        lines.append(f"    {criterion.name:<28}-> {binding.kind.value} [{phases}]")
        if binding.note:
            lines.append(f"    {'':<28}   ! {binding.note}")
    return "\n".join(lines)
