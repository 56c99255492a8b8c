"""The handoff page's view of one run, assembled from what Airflow and the run's folder hold.

Pure: the app reads task instances, human-in-the-loop details and the preflight result from
Airflow's database, and the run's own records (timings, watch status, drift, reports) from
its folder, and passes them in. Airflow's state of a task wins over the run's recorded
timing; the timing fills in what the database lacks (a task's recorded start and end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from handoff.plan import DeploymentPlan
from handoff.plan.graph import (
    ABORT_TASK,
    GO_NO_GO_TASK,
    HANDOVER_GROUP,
    ROLLBACK_TASK,
    SWITCH_TASK,
    WAIT_TASK,
    WATCH_TASKS,
    step_of,
)
from handoff.report.build import planned_window
from handoff.report.model import StepRow
from handoff.report.timings import TryTiming
from handoff.svg_chart import Band, Marker

#: The tasks that wait for a person (Airflow's human-in-the-loop operators).
HUMAN_GATES = (GO_NO_GO_TASK, "validation_period.no_user_reported_issues", "handover.sign_off")
WAITING = {"deferred", "awaiting_input", "running", "up_for_reschedule"}
ENDED = {"success", "failed", "skipped", "upstream_failed", "removed"}


@dataclass(frozen=True)
class RunInfo:
    """A DAG run as Airflow knows it."""

    run_id: str
    state: str
    start: datetime | None
    end: datetime | None
    conf: Mapping[str, object]


@dataclass(frozen=True)
class TaskRun:
    """One task of the run: its state and times (Airflow's, else the task's own record)."""

    task_id: str
    state: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Gate:
    """A human gate waiting for an answer."""

    task_id: str
    subject: str
    body: str
    options: tuple[str, ...]
    since: datetime | None


def merge_tasks(
    task_ids: Sequence[str],
    airflow: Mapping[str, TaskRun],
    recorded: Mapping[str, TryTiming],
) -> dict[str, TaskRun]:
    """Return every task's state and times: Airflow's when it has them, else the record's."""
    merged: dict[str, TaskRun] = {}
    for task_id in task_ids:
        ti, timing = airflow.get(task_id), recorded.get(task_id)
        state = ti.state if ti and ti.state not in ("", "none", "None") else ""
        if not state and timing is not None:
            state = timing.state or "running"
        merged[task_id] = TaskRun(
            task_id,
            state or "not started",
            (ti.start if ti else None) or (timing.start if timing else None),
            (ti.end if ti else None) or (timing.end if timing else None),
        )
    return merged


def _step_state(states: list[str]) -> str:
    ran = [s for s in states if s != "not started"]  # abort and rollback share a step
    for wanted in ("failed", "awaiting_input", "deferred", "running", "up_for_reschedule"):
        if wanted in ran:
            return wanted
    if ran and all(s in ("success", "skipped") for s in ran):
        return "success" if "success" in ran else "skipped"
    return "upstream_failed" if "upstream_failed" in ran else "not started"


def timeline(
    plan: DeploymentPlan, tasks: Mapping[str, TaskRun], anchor: datetime | None, scale: float
) -> list[StepRow]:
    """Return the plan's steps with their planned and actual times (the report's arithmetic)."""
    lines: list[StepRow] = []
    for step in plan.steps:
        mine = [t for t in tasks.values() if step_of(t.task_id) is step.kind]
        if not mine:
            continue
        starts = [t.start for t in mine if t.start]
        ran = [t for t in mine if t.state != "not started"]
        ends = [t.end for t in ran if t.end and t.state in ENDED]
        planned_start, planned_end = planned_window(plan, step.kind, anchor, scale)
        lines.append(
            StepRow(
                step=step.kind.value,
                planned_start=planned_start,
                planned_end=planned_end,
                actual_start=min(starts) if starts else None,
                actual_end=max(ends) if ends and len(ends) == len(ran) else None,
                state=_step_state([t.state for t in mine]),
                tasks=(),  # the page shows steps; the report lists their tasks
            )
        )
    return lines


def waiting_gates(tasks: Mapping[str, TaskRun], answered_by_airflow: Sequence[Gate]) -> list[Gate]:
    """Return the human gates that wait: Airflow's open questions, else gates parked unanswered."""
    gates = {g.task_id: g for g in answered_by_airflow}
    for task_id in HUMAN_GATES:
        task = tasks.get(task_id)
        if task is not None and task.state in WAITING and task_id not in gates:
            gates[task_id] = Gate(task_id, f"{task_id} waits for a person", "", (), task.start)
    return [gates[t] for t in sorted(gates)]


def _ended_phase(tasks: Mapping[str, TaskRun]) -> str | None:
    """Name how the run left the timeline (rollback, abort), if it did."""

    def state(task_id: str) -> str:
        task = tasks.get(task_id)
        return task.state if task else ""

    breached = [t for t in WATCH_TASKS if state(t) == "failed"]
    if state(ROLLBACK_TASK) == "success":
        cause = f"breach in {_group(breached[0])}, " if breached else ""
        return f"{cause}rolled back"
    if state(ROLLBACK_TASK) in WAITING:
        return "rolling back"
    if state(ABORT_TASK) == "success":
        return "aborted before the switch; live untouched"
    return None


def _group(task_id: str) -> str:
    return task_id.split(".")[0].replace("_", " ")


def phase(run: RunInfo | None, tasks: Mapping[str, TaskRun], gates: Sequence[Gate]) -> str:
    """Return the run's state in words: the page's headline."""
    if run is None:
        return "no run yet"
    ended = _ended_phase(tasks)
    if ended:
        return ended
    if gates:
        return "waiting for a person"
    if tasks.get(WAIT_TASK, TaskRun(WAIT_TASK, "", None, None)).state in WAITING:
        return "waiting for the deploy time"
    for task_id in WATCH_TASKS:
        if tasks.get(task_id, TaskRun(task_id, "", None, None)).state in WAITING:
            return f"window open: {_group(task_id)}"
    handover = [t for t in tasks.values() if t.task_id.startswith(f"{HANDOVER_GROUP}.")]
    if handover and all(t.state == "success" for t in handover):
        return "handed over"
    if run.state in ("success", "failed"):
        return f"run {run.state}"
    return f"run {run.state}: {next_step(tasks)}"


def next_step(tasks: Mapping[str, TaskRun]) -> str:
    """Name the step that is working now (the first one not ended)."""
    for task in tasks.values():
        if task.state in WAITING:
            kind = step_of(task.task_id)
            return kind.value if kind else task.task_id
    return "between steps"


def chart_marks(tasks: Mapping[str, TaskRun], now: datetime) -> tuple[list[Band], list[Marker]]:
    """Return the watch windows (as they ran) and the switch, for the charts."""
    bands = []
    for task_id in WATCH_TASKS:
        task = tasks.get(task_id)
        if task is not None and task.start is not None:
            end = task.end or now
            bands.append(Band(_group(task_id), task.start.timestamp(), end.timestamp()))
    markers = []
    switch = tasks.get(SWITCH_TASK)
    if switch is not None and switch.end is not None and switch.state == "success":
        markers.append(Marker("switch", switch.end.timestamp()))
    rollback = tasks.get(ROLLBACK_TASK)
    if rollback is not None and rollback.end is not None and rollback.state == "success":
        markers.append(Marker("rollback", rollback.end.timestamp()))
    return bands, markers


def anchor_of(preflight: Mapping[str, object], tasks: Mapping[str, TaskRun]) -> datetime | None:
    """Return when the run was to deploy (scaled): preflight's wait, else the wait's end."""
    wait_until = preflight.get("wait_until")
    if isinstance(wait_until, str):
        try:
            return datetime.fromisoformat(wait_until)
        except ValueError:
            pass
    wait = tasks.get(WAIT_TASK)
    return wait.end if wait else None


def scale_of(preflight: Mapping[str, object], run: RunInfo) -> float:
    """Return the run's rehearsal time scale (preflight's, else the run's conf, else 1)."""
    settings = preflight.get("settings")
    raw = (
        settings.get("time_scale") if isinstance(settings, Mapping) else run.conf.get("time_scale")
    )
    try:
        scale = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return scale if scale >= 1 else 1.0
