"""Build a run's report from its records: plan, timings, task states, evidence, ledger, results.

Pure: no Airflow import, no I/O. `handoff.tasks.report_step` gathers the records of a run and
calls `build_report`; tests call it with records they made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handoff.checks.dependencies import GROUP as DEPENDENCIES_GROUP
from handoff.contract.model import MetricKind
from handoff.contract.quantities import Threshold, format_seconds
from handoff.evidence import Evidence, EvidenceStatus
from handoff.notify.ledger import Entry
from handoff.notify.messages import RunRef
from handoff.plan import CheckKind, DeploymentPlan, StepKind
from handoff.plan.graph import (
    ABORT_TASK,
    CONTRACT_TASK,
    DEPLOY_TASK,
    EXPAND_TASK,
    OBSERVABILITY_TASK,
    ROLLBACK_TASK,
    SWITCH_TASK,
    step_of,
)
from handoff.report.model import (
    ChartRow,
    CriterionRow,
    DriftRow,
    EvidenceRow,
    Header,
    MetricRow,
    MetricStatus,
    NotificationRow,
    Report,
    RunOutcome,
    SchemaRow,
    StepRow,
    TaskRow,
)
from handoff.report.timings import TryTiming
from handoff.runtime.settings import RunSettings

# Windows run from the end of the window before them to their own offset.
_WINDOWS = (StepKind.ALL_CLEAR, StepKind.VALIDATION_PERIOD, StepKind.MONITORING_PERIOD)
_FAILED = {"failed", "upstream_failed"}


@dataclass(frozen=True)
class RunRecords:
    """Everything a run left behind that the report reads."""

    plan: DeploymentPlan
    service: str
    environment: str
    dag_id: str
    run_id: str
    base_url: str
    hashes: Mapping[str, str]
    settings: RunSettings | None
    scaled_deploy_at: datetime | None
    task_ids: Sequence[str]
    states: Mapping[str, str]
    timings: Mapping[str, TryTiming]
    evidence: Sequence[Evidence]
    notifications: Sequence[Entry]
    generated_at: datetime
    results: Mapping[str, Any] = field(default_factory=dict)
    verdicts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    drift: Sequence[DriftRow] = ()
    charts: Sequence[ChartRow] = ()


def build_report(records: RunRecords) -> Report:
    """Return the report of a run."""
    ref = RunRef(records.plan.handoff_id, records.dag_id, records.run_id, records.base_url)
    outcome, detail = _outcome(records)
    return Report(
        header=_header(records, ref),
        outcome=outcome,
        outcome_detail=detail,
        generated_at=records.generated_at,
        timeline=_timeline(records, ref),
        criteria=_criteria(records, ref),
        metrics=_metrics(records),
        notifications=tuple(
            NotificationRow(e.event, e.step, e.status, e.attempts, e.error, e.at)
            for e in records.notifications
        ),
        unplanned_evidence=tuple(
            _evidence_row(e, ref)
            for e in records.evidence
            if e.criterion not in {b.criterion.name for b in records.plan.checks}
            and e.group != DEPENDENCIES_GROUP
        ),
        drift=tuple(records.drift),
        dependencies=_dependencies(records, ref),
        charts=tuple(records.charts),
        schema=_schema(records),
    )


#: Where `results` keeps the rollback's schema decision (its XCom key ``schema``).
ROLLBACK_SCHEMA = f"{ROLLBACK_TASK}:schema"


def _colours(found: Mapping[str, Any]) -> str:
    views = found.get("colours") or {}
    return "; ".join(
        f"{name}: {view.get('release')} ships up to {view.get('ships_up_to')}"
        for name, view in views.items()
        if isinstance(view, Mapping)
    )


def _schema(records: RunRecords) -> tuple[SchemaRow, ...]:
    """Return the schema's two phases and the rollback's decision (none without migrations)."""
    if EXPAND_TASK not in records.task_ids:
        return ()
    rows = []
    for phase, task_id in (("expand", EXPAND_TASK), ("contract", CONTRACT_TASK)):
        found = records.results.get(task_id) or {}
        rows.append(
            SchemaRow(
                phase,
                records.states.get(task_id, "not run"),
                tuple(found.get("applied") or ()),
                found.get("schema_version"),
                _colours(found) or ("-" if found else "no result recorded"),
            )
        )
    decision = records.results.get(ROLLBACK_SCHEMA)
    if decision:
        view = decision.get("old_colour_schema") or {}
        rows.append(
            SchemaRow(
                "rollback",
                str(decision.get("decision")),
                (),
                view.get("schema_version"),
                str(decision.get("reason", "")),
            )
        )
    return tuple(rows)


def _header(records: RunRecords, ref: RunRef) -> Header:
    contract = records.plan.contract
    settings = records.settings
    return Header(
        handoff_id=contract.handoff_id,
        title=contract.title,
        sender=contract.sender.name,
        recipients=tuple(r.name for r in contract.recipients),
        objective=contract.objective,
        service=records.service,
        release=settings.release if settings else "unknown (preflight did not complete)",
        environment=records.environment,
        dag_id=records.dag_id,
        run_id=records.run_id,
        run_url=ref.run_url,
        contract_sha256=records.hashes.get("contract", ""),
        sidecar_sha256=records.hashes.get("sidecar", ""),
        environment_sha256=records.hashes.get("environment", ""),
        rehearsal_time_scale=settings.time_scale if settings else 1.0,
    )


def _outcome(records: RunRecords) -> tuple[RunOutcome, str]:
    states = records.states
    # finalize fails on purpose after an abort or a rollback: it is not a cause.
    failed = [
        t
        for t in records.task_ids
        if states.get(t) == "failed" and step_of(t) not in (None, StepKind.FINALIZE)
    ]
    cause = f"; failed: {', '.join(failed)}" if failed else ""
    if states.get(ROLLBACK_TASK) == "success":
        return RunOutcome.ROLLED_BACK, f"the release was rolled back{cause}"
    if states.get(ABORT_TASK) == "success":
        return RunOutcome.ABORTED, f"the release never went live; live was untouched{cause}"
    if any(states.get(t) in _FAILED for t in records.task_ids if step_of(t) is not None):
        return RunOutcome.FAILED, f"the run did not complete{cause}"
    return RunOutcome.SUCCEEDED, "the release is live and handed over"


def _task_row(records: RunRecords, ref: RunRef, task_id: str) -> TaskRow:
    timing = records.timings.get(task_id)
    state = records.states.get(task_id) or (timing.state if timing else None) or "not run"
    try_number = timing.try_number if timing else None
    return TaskRow(
        task_id=task_id,
        state=state,
        try_number=try_number,
        start=timing.start if timing else None,
        end=timing.end if timing else None,
        log_url=ref.task_url(task_id, try_number),
    )


def planned_window(
    plan: DeploymentPlan, kind: StepKind, anchor: datetime | None, scale: float
) -> tuple[datetime | None, datetime | None]:
    """Return when a step was planned to start and end (scaled like the run's waits)."""
    if anchor is None:
        return None, None
    offset = plan.step(kind).offset
    if kind in (StepKind.PREFLIGHT, StepKind.ROLLBACK, StepKind.FINALIZE) or offset is None:
        return None, None
    end = anchor + offset / scale
    if kind in _WINDOWS:
        index = _WINDOWS.index(kind)
        previous = plan.step(_WINDOWS[index - 1]).offset if index else timedelta(0)
        return anchor + (previous or timedelta(0)) / scale, end
    if kind is StepKind.WAIT_FOR_WINDOW:
        return None, anchor
    return end, end


def _timeline(records: RunRecords, ref: RunRef) -> tuple[StepRow, ...]:
    scale = records.settings.time_scale if records.settings else 1.0
    rows: list[StepRow] = []
    for step in records.plan.steps:
        tasks = [_task_row(records, ref, t) for t in records.task_ids if step_of(t) is step.kind]
        if not tasks:
            continue
        starts = [t.start for t in tasks if t.start]
        ends = [t.end for t in tasks if t.end]
        planned_start, planned_end = planned_window(
            records.plan, step.kind, records.scaled_deploy_at, scale
        )
        rows.append(
            StepRow(
                step=step.kind.value,
                planned_start=planned_start,
                planned_end=planned_end,
                actual_start=min(starts) if starts else None,
                actual_end=max(ends) if ends else None,
                state=_step_state([t.state for t in tasks]),
                tasks=tuple(tasks),
            )
        )
    return tuple(rows)


def _step_state(states: list[str]) -> str:
    for worst in ("failed", "upstream_failed", "running", "success", "skipped"):
        if worst in states:
            return worst
    return states[0] if states else "not run"


def _evidence_row(record: Evidence, ref: RunRef) -> EvidenceRow:
    return EvidenceRow(
        status=record.status.value,
        summary=record.summary,
        target=record.target,
        measured=dict(record.measured),
        thresholds=dict(record.thresholds),
        at=record.at,
        task_id=record.task_id,
        try_number=record.try_number,
        log_marker=record.log_marker,
        log_url=ref.task_url(record.task_id, record.try_number or None) if record.task_id else "",
        criterion=record.criterion,
    )


def criterion_status(records: Sequence[Evidence]) -> str:
    """Return a criterion's status: failed if any record failed, passed only if all passed."""
    statuses = {r.status for r in records}
    if EvidenceStatus.FAILED in statuses:
        return EvidenceStatus.FAILED.value
    if statuses == {EvidenceStatus.PASSED}:
        return EvidenceStatus.PASSED.value
    return EvidenceStatus.NOT_VERIFIED.value


def _criteria(records: RunRecords, ref: RunRef) -> tuple[CriterionRow, ...]:
    rows = []
    for binding in records.plan.checks:
        found = [e for e in records.evidence if e.criterion == binding.criterion.name]
        rows.append(
            CriterionRow(
                group=binding.criterion.group,
                name=binding.criterion.name,
                check=binding.kind.value,
                status=criterion_status(found),
                evidence=tuple(_evidence_row(e, ref) for e in found),
            )
        )
    return tuple(rows)


def _dependencies(records: RunRecords, ref: RunRef) -> tuple[CriterionRow, ...]:
    """Return a row per contract Dependencies item (then any item preflight named itself)."""
    proven = [e for e in records.evidence if e.group == DEPENDENCIES_GROUP]
    names = [item.name for item in records.plan.contract.dependencies]
    names += [e.criterion for e in proven if e.criterion not in names]
    rows = []
    for name in dict.fromkeys(names):
        found = [e for e in proven if e.criterion == name]
        rows.append(
            CriterionRow(
                group=DEPENDENCIES_GROUP,
                name=name,
                check=found[0].check if found else "no automatic check",
                status=criterion_status(found),
                evidence=tuple(_evidence_row(e, ref) for e in found),
            )
        )
    return tuple(rows)


def _threshold(plan: DeploymentPlan, name: str) -> Threshold | None:
    try:
        return plan.threshold(name).threshold
    except StopIteration:
        return None


def _judge(threshold: Threshold | None, value: float | None) -> MetricStatus:
    if value is None or threshold is None:
        return MetricStatus.NOT_MEASURED
    return MetricStatus.MET if threshold.allows(value) else MetricStatus.MISSED


def _metrics(records: RunRecords) -> tuple[MetricRow, ...]:
    return (
        _deploy_time(records),
        _downtime(records),
        _error_rate(records),
        _performance(records),
        _rollback_time(records),
        _monitoring_coverage(records),
    )


def _monitoring_coverage(records: RunRecords) -> MetricRow:
    threshold, target = _target(records, MetricKind.MONITORING_COVERAGE.value)
    figure = (records.results.get(OBSERVABILITY_TASK) or {}).get("coverage")
    if not figure:
        return MetricRow(
            "monitoring coverage",
            target,
            "not measured: Prometheus did not watch the service on live",
            None,
            MetricStatus.NOT_MEASURED,
            OBSERVABILITY_TASK,
        )
    value = float(figure["percent"])
    missing = figure.get("missing") or []
    configured = figure.get("configured") or []
    return MetricRow(
        name="monitoring coverage",
        target=target,
        measured=f"{value:g} % ({len(configured) - len(missing)} of {len(configured)} critical "
        "metrics scraped)" + (f"; missing: {', '.join(missing)}" if missing else ""),
        value=value,
        status=_judge(threshold, value),
        source=f"{OBSERVABILITY_TASK}: critical metrics configured against those in Prometheus",
        details={"configured": configured, "missing": missing},
    )


def _target(records: RunRecords, name: str) -> tuple[Threshold | None, str]:
    threshold = _threshold(records.plan, name)
    return threshold, threshold.describe() if threshold else "none stated"


def _deploy_time(records: RunRecords) -> MetricRow:
    threshold, target = _target(records, MetricKind.DEPLOYMENT_TIME.value)
    deploy, switch = records.timings.get(DEPLOY_TASK), records.timings.get(SWITCH_TASK)
    value = None
    if deploy and switch and deploy.start and switch.end and switch.state == "success":
        value = (switch.end - deploy.start).total_seconds()
    return MetricRow(
        name="deployment time",
        target=target,
        measured=f"{value:.1f} s"
        if value is not None
        else "not measured: the switch never completed",
        value=value,
        status=_judge(threshold, value),
        source=f"timings of {DEPLOY_TASK} (start) and {SWITCH_TASK} (end)",
    )


def _downtime(records: RunRecords) -> MetricRow:
    _, target = _target(records, MetricKind.DOWNTIME.value)
    probe = (records.results.get(SWITCH_TASK) or {}).get("probe")
    if not probe:
        return MetricRow(
            "downtime",
            target,
            "not measured: no switch",
            None,
            MetricStatus.NOT_MEASURED,
            f"zero-downtime probe of {SWITCH_TASK}",
        )
    failed, requests = int(probe["failed"]), int(probe["requests"])
    measured = f"{failed} failed of {requests} probe requests during the switch"
    details: dict[str, object] = {"failed": failed, "requests": requests}
    if "slowest_during_switch_ms" in probe:  # runs recorded before it carry no latency
        slowest, steady = probe["slowest_during_switch_ms"], probe.get("steady_p999_ms")
        measured += f"; slowest {slowest:.0f} ms (steady p99.9 {steady or 0:.0f} ms)"
        details.update(slowest_during_switch_ms=slowest, steady_p999_ms=steady)
    return MetricRow(
        name="downtime",
        target=f"{target} (0 failed probes during the switch)",
        measured=measured,
        value=float(failed),
        status=MetricStatus.MET if failed == 0 else MetricStatus.MISSED,
        source=f"zero-downtime probe of {SWITCH_TASK}",
        details=details,
    )


def _error_rate(records: RunRecords) -> MetricRow:
    threshold, target = _target(records, MetricKind.ERROR_RATE.value)
    windows = {task: verdict["summary"] for task, verdict in records.verdicts.items() if verdict}
    samples = sum(int(s["samples"]) for s in windows.values())
    errors = sum(int(s["errors"]) for s in windows.values())
    if not samples:
        return MetricRow(
            "error rate",
            target,
            "not measured: no watch window ran",
            None,
            MetricStatus.NOT_MEASURED,
            "watch windows",
        )
    rate = 100.0 * errors / samples
    per_window = {
        s["window"]: {
            "samples": s["samples"],
            "errors": s["errors"],
            "error_rate_pct": s["error_rate_pct"],
        }
        for s in windows.values()
    }
    breached = [
        task for task, verdict in records.verdicts.items() if verdict.get("status") == "breach"
    ]
    status = _judge(threshold, rate)
    if breached and status is MetricStatus.MET:
        # A window judges a sliding rate and breaks early: its breach is the verdict.
        status = MetricStatus.MISSED
    return MetricRow(
        name="error rate",
        target=target,
        measured=f"{rate:.2f} % ({errors} errors of {samples} probes in "
        f"{len(windows)} window{'s' if len(windows) != 1 else ''})"
        + (f"; breach in {', '.join(breached)}" if breached else ""),
        value=round(rate, 4),
        status=status,
        source="watch windows: " + ", ".join(windows),
        details={"samples": samples, "errors": errors, "windows": per_window},
    )


def _performance(records: RunRecords) -> MetricRow:
    _, target = _target(records, MetricKind.PERFORMANCE.value)
    bound = {b.criterion.name for b in records.plan.checks if b.kind is CheckKind.PERFORMANCE}
    found = [
        e
        for e in records.evidence
        if e.check == CheckKind.PERFORMANCE.value or e.criterion in bound
    ]
    if not found:
        return MetricRow(
            "performance",
            target,
            "not measured: no performance evidence recorded",
            None,
            MetricStatus.NOT_MEASURED,
            "evidence records of the performance check",
        )
    status = criterion_status(found)
    return MetricRow(
        name="performance",
        target=f"{target} of the live colour's baseline",
        measured="; ".join(e.summary for e in found),
        value=None,
        status={"passed": MetricStatus.MET, "failed": MetricStatus.MISSED}.get(
            status, MetricStatus.NOT_MEASURED
        ),
        source="evidence records: " + ", ".join(sorted({e.task_id for e in found})),
        details={"records": [dict(e.measured) for e in found]},
    )


def _rollback_time(records: RunRecords) -> MetricRow:
    threshold, target = _target(records, "rollback time")
    result = records.results.get(ROLLBACK_TASK) or {}
    seconds = result.get("measured_seconds")
    if seconds is None:
        return MetricRow(
            "rollback time",
            target,
            "not exercised: no rollback ran",
            None,
            MetricStatus.NOT_MEASURED,
            ROLLBACK_TASK,
        )
    value = float(seconds)
    return MetricRow(
        name="rollback time",
        target=target,
        measured=f"{value:.2f} s ({format_seconds(round(value))} to restore service)",
        value=value,
        status=_judge(threshold, value),
        source=f"{ROLLBACK_TASK} (measured around the router switch back)",
    )
