"""Gather one handoff's live view (Airflow's database, the run's folder, Prometheus) and the
overview's DORA figures (the records the runs left in their folders).

The only module of the page that reads: `run_view` and `handoff_page` stay pure. A missing
or unreadable record shows as "not yet" or "unknown", never as an error page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from handoff.analysis.prometheus import PrometheusSettings
from handoff.catalog import Handoff
from handoff.console.dora import DeploymentRun, dora_figures, weekly_trend
from handoff.console.run_metrics import RunMetrics, run_metrics
from handoff.console.window import WindowStatus, read_window_status
from handoff.evidence.store import report_dir_of, run_dir
from handoff.plan.graph import build_graph
from handoff.report.dora_runs import read_deployment_run
from handoff.report.files import report_name
from handoff.report.timings import read_timings
from handoff.safe_paths import UnsafePath, is_file_beneath, list_beneath
from handoff.ui import airflow_reads
from handoff.ui.dora_table import dora_html
from handoff.ui.handoff_page import LiveView
from handoff.ui.live_drift import run_drift
from handoff.ui.run_view import (
    anchor_of,
    chart_marks,
    merge_tasks,
    phase,
    scale_of,
    timeline,
    waiting_gates,
)

log = logging.getLogger(__name__)
REFRESH_DEFAULT_S = 30
PAGE_FORMATS = ("html", "md", "json")
DORA_WEEKS = 4


def _run_folder(handoff: Handoff, dag_id: str, run_id: str) -> Path | None:
    try:
        return run_dir(report_dir_of(handoff), dag_id, run_id)
    except UnsafePath as exc:  # a run id outside the alphabet has no folder
        log.warning("no run folder for %r of %s: %s", run_id, dag_id, exc)
        return None


def _window(folder: Path) -> WindowStatus | None:
    """Return the open window's status, else the latest window's (its verdict stays shown)."""
    found = [
        s
        for name in list_beneath(folder, ("watch",), ".json")
        if (s := read_window_status(folder / "watch" / name)) is not None
    ]
    open_ = [s for s in found if s.state == "open"]
    ranked = sorted(open_ or found, key=lambda s: s.updated_at)
    return ranked[-1] if ranked else None


def _metrics(handoff: Handoff, start: datetime, end: datetime) -> RunMetrics | None:
    assert handoff.environment is not None and handoff.acceptance is not None
    assert handoff.contract is not None
    if handoff.environment.observability is None:
        return None
    try:
        settings = PrometheusSettings.from_env()
    except ValueError as exc:
        return RunMetrics(problem=f"Prometheus is not configured: {exc}")
    return run_metrics(
        settings,
        handoff.acceptance.service.name,
        handoff.contract.handoff_id,
        start.timestamp(),
        max(end.timestamp(), start.timestamp() + 1),
    )


def live_view(dag_id: str, handoff: Handoff, base_url: str, now: datetime) -> LiveView:
    """Return what the handoff's page shows now about its latest run."""
    assert handoff.plan is not None and handoff.contract is not None
    run = airflow_reads.latest_run(dag_id)
    empty = LiveView(
        dag_id, handoff.contract.handoff_id, base_url, run, "no run yet",
        (), None, (), None, (), (), (), (), now,
    )  # fmt: skip
    if run is None:
        return empty
    folder = _run_folder(handoff, dag_id, run.run_id)
    recorded = read_timings(folder) if folder else {}
    task_ids = [t.id for t in build_graph(handoff.plan).tasks]
    tasks = merge_tasks(task_ids, airflow_reads.task_runs(dag_id, run.run_id), recorded)
    gates = waiting_gates(tasks, airflow_reads.open_questions(dag_id, run.run_id))
    preflight = airflow_reads.preflight_result(dag_id, run.run_id)
    bands, markers = chart_marks(tasks, now)
    started = run.start or min((t.start for t in tasks.values() if t.start), default=now)
    return LiveView(
        dag_id=dag_id,
        handoff_id=handoff.contract.handoff_id,
        base_url=base_url,
        run=run,
        phase=phase(run, tasks, gates),
        steps=timeline(handoff.plan, tasks, anchor_of(preflight, tasks), scale_of(preflight, run)),
        window=_window(folder) if folder else None,
        gates=gates,
        metrics=_metrics(handoff, started, run.end or now),
        bands=bands,
        markers=markers,
        drift=run_drift(folder) if folder else [],
        reports=[f for f in PAGE_FORMATS if folder and is_file_beneath(folder, (report_name(f),))],
        now=now,
    )


@functools.lru_cache(maxsize=4096)
def _ended_run_record(folder: Path) -> DeploymentRun | None:
    # Only ended runs come here, and an ended run's records no longer change: read once.
    return read_deployment_run(folder)


def dora_section(handoffs: Mapping[str, Handoff], visible: set[str], now: datetime) -> str:
    """Return the overview's DORA section over the visible handoffs' last weeks of runs."""
    by_dag = {d: h for d, h in handoffs.items() if d in visible}
    since = now - timedelta(weeks=DORA_WEEKS)
    runs = []
    for dag_id, run_id in airflow_reads.ended_runs(set(by_dag), since):
        handoff = by_dag[dag_id]
        folder = _run_folder(handoff, dag_id, run_id)
        record = _ended_run_record(folder) if folder else None
        if record is not None:
            runs.append(record)
    table = dora_html(
        dora_figures(runs, timedelta(weeks=DORA_WEEKS)), weekly_trend(runs, now, DORA_WEEKS)
    )
    return (
        '<section aria-labelledby="dora-h"><h2 id="dora-h">DORA figures, last '
        f'{DORA_WEEKS} weeks</h2><p class="muted">From the records of {len(runs)} '
        f"deployment run(s) of the handoffs you may read.</p>{table}</section>"
    )
