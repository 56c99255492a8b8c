"""The report at the end of every run, and the timing callbacks that feed its timeline.

The `report` task is a teardown task downstream of every other leaf: it runs once everything
else is done, on success, abort and rollback alike, and Airflow leaves teardown tasks out
when it decides a run's state, so the report never changes the deployment's outcome. A
failure to write it fails the report task itself (red in the grid, escalated like any
failed step), which is how it stays visible.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context

from handoff.catalog import Handoff
from handoff.evidence import EvidenceStore, report_dir_of, run_dir
from handoff.plan.graph import (
    ABORT_TASK,
    CONTRACT_TASK,
    EXPAND_TASK,
    OBSERVABILITY_TASK,
    PREFLIGHT_TASK,
    REPORT_TASK,
    ROLLBACK_TASK,
    SWITCH_TASK,
    WATCH_TASKS,
)
from handoff.report.build import ROLLBACK_SCHEMA, RunRecords, build_report
from handoff.report.files import write_report
from handoff.report.model import ChartRow, DriftRow
from handoff.report.timings import TryTiming, read_timings, record_end, record_start
from handoff.report.window_series import window_charts
from handoff.runtime import drift as drifts
from handoff.runtime.airflow_urls import airflow_base_url
from handoff.runtime.settings import RunSettings
from handoff.runtime.snapshot import mark_done
from handoff.tasks.context import handoff_from, snapshot_of_run
from handoff.tasks.migrations import ROLLBACK_SCHEMA_KEY
from handoff.tasks.notify import ledger_of
from handoff.watch.operator import VERDICT_KEY

log = logging.getLogger(__name__)

Callback = Callable[[Mapping[str, Any]], None]


def run_directory_of(handoff: Handoff, dag_id: str, run_id: str) -> Path:
    """Return the folder of a run's evidence, timings and reports."""
    return run_dir(report_dir_of(handoff), dag_id, run_id)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def environment_path(handoff: Handoff) -> Path:
    """Return the environment file a handoff uses (the catalog's default location)."""
    assert handoff.acceptance is not None
    return (
        handoff.contract_path.parent.parent
        / "environments"
        / f"{handoff.acceptance.environment}.yaml"
    )


def timing_callbacks(contract_path: str) -> tuple[Callback, Callback, Callback, Callback]:
    """Return task-level callbacks recording a try's start and its end (success/failed/skipped)."""

    def folder(context: Mapping[str, Any]) -> Path:
        ti = context["ti"]
        return run_directory_of(handoff_from(contract_path, context), ti.dag_id, ti.run_id)

    def started(context: Mapping[str, Any]) -> None:
        try:
            ti = context["ti"]
            at = getattr(ti, "start_date", None) or datetime.now(UTC)
            record_start(folder(context), ti.task_id, int(ti.try_number or 1), at)
        except Exception:  # the timeline is a record; it never fails a step
            log.exception("could not record the start of this step for the report")

    def ended(state: str) -> Callback:
        def callback(context: Mapping[str, Any]) -> None:
            try:
                ti = context["ti"]
                record_end(
                    folder(context), ti.task_id, int(ti.try_number or 1), datetime.now(UTC), state
                )
            except Exception:
                log.exception("could not record the end of this step for the report")

        return callback

    return started, ended("success"), ended("failed"), ended("skipped")


def _task_states(ti: Any, dag_id: str, run_id: str) -> dict[str, str]:
    """Return the state of every task of the run through the task SDK (empty if unavailable)."""
    try:
        states = ti.get_task_states(dag_id=dag_id, run_ids=[run_id])
    except Exception:
        log.exception("task states unavailable; the report falls back to recorded timings")
        return {}
    by_task = states.get(run_id, {}) if isinstance(states, Mapping) else {}
    return {str(k): str(v) for k, v in by_task.items() if v is not None}


def gather(handoff: Handoff, context: Mapping[str, Any]) -> RunRecords:
    """Collect a run's records as the report task sees them."""
    assert handoff.plan is not None and handoff.acceptance is not None
    assert handoff.environment is not None
    ti = context["ti"]
    dag_id, run_id = ti.dag_id, ti.run_id
    folder = run_directory_of(handoff, dag_id, run_id)
    preflight = ti.xcom_pull(task_ids=PREFLIGHT_TASK) or {}
    settings = RunSettings.from_xcom(preflight["settings"]) if preflight else None
    wait_until = preflight.get("wait_until")
    task_ids = [t for t in context["dag"].task_ids if t != REPORT_TASK]
    timings = read_timings(folder)
    generated_at = datetime.now(UTC)
    return RunRecords(
        plan=handoff.plan,
        service=handoff.acceptance.service.name,
        environment=handoff.environment.name,
        dag_id=dag_id,
        run_id=run_id,
        base_url=airflow_base_url(),
        # The versions the run worked on: its snapshot's (live files may have drifted since).
        hashes=preflight.get("hashes")
        or {
            "contract": handoff.plan.contract.source.sha256,
            "sidecar": _sha256(handoff.sidecar_path),
            "environment": _sha256(environment_path(handoff)),
        },
        settings=settings,
        scaled_deploy_at=datetime.fromisoformat(wait_until) if wait_until else None,
        task_ids=task_ids,
        states=_task_states(ti, dag_id, run_id),
        timings=timings,
        evidence=EvidenceStore(folder).read_all(),
        notifications=ledger_of(handoff).entries(dag_id, run_id),
        generated_at=generated_at,
        results={
            **{
                t: ti.xcom_pull(task_ids=t)
                for t in (SWITCH_TASK, ROLLBACK_TASK, ABORT_TASK, OBSERVABILITY_TASK)
            },
            # With migrations only (the tasks exist): the schema's phases and the rollback's
            # decision, which a refused rollback pushes before it fails.
            **(
                {t: ti.xcom_pull(task_ids=t) for t in (EXPAND_TASK, CONTRACT_TASK) if t in task_ids}
                | {ROLLBACK_SCHEMA: ti.xcom_pull(task_ids=ROLLBACK_TASK, key=ROLLBACK_SCHEMA_KEY)}
                if EXPAND_TASK in task_ids
                else {}
            ),
        },
        verdicts={
            t: v
            for t in WATCH_TASKS
            if t in task_ids and (v := ti.xcom_pull(task_ids=t, key=VERDICT_KEY))
        },
        drift=[DriftRow(**asdict(d)) for d in drifts.recorded(folder)],
        charts=_charts(handoff, timings, generated_at),
    )


def _charts(
    handoff: Handoff, timings: Mapping[str, TryTiming], end: datetime
) -> tuple[ChartRow, ...]:
    """Return the windows' charts from Prometheus, where it observes the service (else none)."""
    assert handoff.acceptance is not None and handoff.environment is not None
    starts = [t.start for t in timings.values() if t.start is not None]
    if handoff.environment.observability is None or not starts:
        return ()
    paths = list(dict.fromkeys(e.path for e in handoff.acceptance.checks.endpoints))
    return window_charts(
        handoff.acceptance.service.name, paths, min(starts).timestamp(), end.timestamp()
    )


def write_run_report(contract_path: str) -> dict[str, Any]:
    """Write the run's report as Markdown, HTML and JSON into the run's folder."""
    context = get_current_context()
    try:
        handoff = handoff_from(contract_path, context)
        return _write_report(handoff, context)
    finally:
        # The run's last task: from now on its DAG may follow the live files again (or retire).
        snapshot = snapshot_of_run(context)
        if snapshot is not None:
            mark_done(snapshot)


def _write_report(handoff: Handoff, context: Mapping[str, Any]) -> dict[str, Any]:
    records = gather(handoff, context)
    report = build_report(records)
    folder = run_directory_of(handoff, records.dag_id, records.run_id)
    paths = write_report(report, folder)
    for metric in report.metrics:
        log.info(
            "metric %s: target %s, measured %s -> %s",
            metric.name,
            metric.target,
            metric.measured,
            metric.status.value,
        )
    counts: dict[str, int] = {}
    for criterion in report.criteria:
        counts[criterion.status] = counts.get(criterion.status, 0) + 1
    log.info("acceptance criteria: %s", counts)
    log.info(
        "report of a run that %s (%s): %s",
        report.outcome.value,
        report.outcome_detail,
        ", ".join(str(p) for p in paths),
    )
    return {"outcome": report.outcome.value, "paths": [str(p) for p in paths]}
