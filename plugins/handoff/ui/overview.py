"""What the Handoffs page shows about each contract: lint, acceptance, schedule, latest run,
open watch windows and reports. Pure: the app passes in what it read from Airflow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from handoff.catalog import Catalog, Handoff
from handoff.errors import Severity
from handoff.evidence.store import report_dir_of, run_dir
from handoff.plan import StepKind
from handoff.plan.naming import dag_id_for
from handoff.report.files import report_name
from handoff.safe_paths import UnsafePath, is_file_beneath, list_beneath, read_text_or_none

log = logging.getLogger(__name__)
PAGE_FORMATS = ("html", "md", "json")  # the order of the page's report links


@dataclass(frozen=True)
class LatestRun:
    """The latest run of a handoff's DAG, as Airflow knows it."""

    run_id: str
    state: str
    started: datetime | None


@dataclass(frozen=True)
class WatchFigures:
    """An open watch window: time left and the current figures against the thresholds."""

    window: str
    state: str
    seconds_left: float
    samples: int
    error_rate_pct: float
    error_rate_limit_pct: float | None
    latency: tuple[tuple[str, float | None, float | None], ...]  # path, p95 ms, budget ms
    updated_at: str


@dataclass(frozen=True)
class HandoffRow:
    """One contract on the page."""

    handoff_id: str
    contract_file: str
    dag_id: str | None
    errors: tuple[str, ...]
    warnings: int
    acceptance: str
    schedule: str
    latest: LatestRun | None
    reports: tuple[str, ...]  # formats present for the latest run
    watches: tuple[WatchFigures, ...]


def _schedule(handoff: Handoff) -> str:
    acceptance, plan = handoff.acceptance, handoff.plan
    if acceptance is None or plan is None:
        return "-"
    if acceptance.deploy_at is None:
        return "when triggered"
    lead = -(plan.step(StepKind.NOTICE).offset or timedelta(0))
    notice = acceptance.deploy_at - lead
    return f"notice {notice:%Y-%m-%d %H:%M} UTC, deploy {acceptance.deploy_at:%Y-%m-%d %H:%M} UTC"


def _acceptance(handoff: Handoff) -> str:
    acceptance = handoff.acceptance
    if acceptance is None:
        return "not accepted (no sidecar)"
    return f"accepted by {acceptance.accepted_by} at {acceptance.accepted_at:%Y-%m-%d %H:%M} UTC"


def read_watch_figures(run_directory: Path, now: datetime) -> tuple[WatchFigures, ...]:
    """Return the windows of a run whose watch is open, from the files their triggers write."""
    figures: list[WatchFigures] = []
    for name in list_beneath(run_directory, ("watch",), ".json"):
        try:
            status = json.loads(read_text_or_none(run_directory, ("watch", name)) or "{}")
            if status.get("state") != "open":
                continue
            summary, thresholds = status["summary"], status.get("thresholds", {})
            budgets = {b["path"]: b.get("p95_ms") for b in thresholds.get("latency", [])}
            end = datetime.fromisoformat(status["end_at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        figures.append(
            WatchFigures(
                window=str(status.get("window", name.removesuffix(".json"))),
                state="open",
                seconds_left=max((end - now).total_seconds(), 0.0),
                samples=int(summary["samples"]),
                error_rate_pct=float(summary["error_rate_pct"]),
                error_rate_limit_pct=thresholds.get("error_rate_limit_pct"),
                latency=tuple(
                    (p["path"], p.get("p95_ms"), budgets.get(p["path"]))
                    for p in summary.get("paths", [])
                ),
                updated_at=str(status.get("updated_at", "")),
            )
        )
    return tuple(figures)


def _reports(run_directory: Path) -> tuple[str, ...]:
    """Return the formats of the run's report that are plain files (a symlink is none)."""
    return tuple(f for f in PAGE_FORMATS if is_file_beneath(run_directory, (report_name(f),)))


def handoff_rows(
    catalog: Catalog,
    visible_dag_ids: set[str],
    latest_runs: Mapping[str, LatestRun],
    now: datetime,
    *,
    show_undeployed: bool,
) -> list[HandoffRow]:
    """Return a row per contract; a handoff whose DAG the user may not see is left out.

    A contract without a DAG (lint errors, not accepted) has no DAG to authorize against:
    its row is shown only with ``show_undeployed`` (a user who may read DAGs in general).
    """
    problems: dict[Path, list[Any]] = {}
    for diagnostic in catalog.problems:
        problems.setdefault(diagnostic.path, []).append(diagnostic)
    rows = []
    for handoff in catalog.handoffs:
        handoff_id = handoff.contract.handoff_id if handoff.contract else handoff.contract_path.stem
        dag_id = dag_id_for(handoff_id) if handoff.deployable else None
        if dag_id is None and not show_undeployed:
            continue
        if dag_id is not None and dag_id not in visible_dag_ids:
            continue
        diagnostics: Sequence[Any] = [
            *handoff.diagnostics,
            *problems.get(handoff.contract_path, []),
        ]
        latest = latest_runs.get(dag_id) if dag_id else None
        reports: tuple[str, ...] = ()
        watches: tuple[WatchFigures, ...] = ()
        if latest is not None and dag_id is not None and handoff.environment is not None:
            try:
                folder = run_dir(report_dir_of(handoff), dag_id, latest.run_id)
            except UnsafePath as exc:  # a run id outside the alphabet has no folder
                log.warning("no report folder for run %r of %s: %s", latest.run_id, dag_id, exc)
            else:
                reports = _reports(folder)
                if latest.state == "running":
                    watches = read_watch_figures(folder, now)
        rows.append(
            HandoffRow(
                handoff_id=handoff_id,
                contract_file=handoff.contract_path.name,
                dag_id=dag_id,
                errors=tuple(d.render() for d in diagnostics if d.is_error),
                warnings=sum(1 for d in diagnostics if d.severity is Severity.WARNING),
                acceptance=_acceptance(handoff),
                schedule=_schedule(handoff),
                latest=latest,
                reports=reports,
                watches=watches,
            )
        )
    return sorted(rows, key=lambda r: r.handoff_id)
