"""What DORA needs from one run, read from the run's own folder: timings, evidence, snapshot.

Why the run folder and not the report: the report task can fail to write (a full disk) while
the deployment went live all the same, and such a run must still count. Every figure comes
from a record the run left (nothing is estimated):

- the handoff and its acceptance time: the sidecar preflight froze into ``snapshot/``;
- the outcome: the states the tasks recorded in ``timings/`` (the abort or the rollback ran
  and succeeded, or the switch and the handover both completed); a run that stopped before
  deploying, or is still going, is no deployment attempt and gives no record;
- live: when the switch task ended;
- the restore: from the rollback task's start, for as long as the rollback measured around
  the router's switch back (its evidence record, the figure the report and Slack give).

`deployment_run` is pure; `read_deployment_run(s)` read the files (through safe_paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from handoff.console.dora import DeploymentRun, Outcome
from handoff.evidence import Evidence, EvidenceStore
from handoff.plan import CheckKind
from handoff.plan.graph import ABORT_TASK, HANDOVER_GROUP, ROLLBACK_TASK, SWITCH_TASK
from handoff.report.timings import TryTiming, read_timings
from handoff.safe_paths import list_beneath, read_text_or_none

RETIRE_TASK = f"{HANDOVER_GROUP}.retire_old_colour"  # the handover's last step
_SNAPSHOT_HANDOFFS = ("snapshot", "handoffs")


def _succeeded(timings: Mapping[str, TryTiming], task_id: str) -> bool:
    timing = timings.get(task_id)
    return timing is not None and timing.state == "success"


def _outcome(timings: Mapping[str, TryTiming]) -> Outcome | None:
    if _succeeded(timings, ROLLBACK_TASK):
        return Outcome.ROLLED_BACK
    if _succeeded(timings, ABORT_TASK):
        return Outcome.ABORTED
    if _succeeded(timings, SWITCH_TASK) and _succeeded(timings, RETIRE_TASK):
        return Outcome.LIVE
    return None


def restore_seconds(evidence: Sequence[Evidence]) -> float | None:
    """Return how long the rollback took to restore service, as its evidence record says."""
    for record in evidence:
        seconds = record.measured.get("seconds")
        if (
            record.task_id == ROLLBACK_TASK
            and record.check == CheckKind.ROLLBACK_READINESS.value
            and isinstance(seconds, int | float)
        ):
            return float(seconds)
    return None


def deployment_run(
    handoff_id: str,
    accepted_at: datetime,
    timings: Mapping[str, TryTiming],
    evidence: Sequence[Evidence],
) -> DeploymentRun | None:
    """Return what DORA counts of one run, or None when the run attempted no deployment."""
    outcome = _outcome(timings)
    ends = [t.end for t in timings.values() if t.end is not None]
    if outcome is None or not ends:
        return None
    switch = timings.get(SWITCH_TASK)
    live_at = switch.end if switch is not None and switch.state == "success" else None
    rollback = timings.get(ROLLBACK_TASK)
    started = rollback.start if outcome is Outcome.ROLLED_BACK and rollback else None
    seconds = restore_seconds(evidence) if started is not None else None
    return DeploymentRun(
        handoff_id=handoff_id,
        accepted_at=accepted_at,
        finished_at=max(ends),
        outcome=outcome,
        live_at=live_at,
        rollback_started=started if seconds is not None else None,
        rollback_ended=started + timedelta(seconds=seconds)
        if started is not None and seconds is not None
        else None,
    )


def _accepted(run_folder: Path) -> tuple[str, datetime] | None:
    """Return the handoff id and acceptance time of the sidecar the run froze, if readable."""
    for name in list_beneath(run_folder, _SNAPSHOT_HANDOFFS, ".deploy.yaml"):
        text = read_text_or_none(run_folder, (*_SNAPSHOT_HANDOFFS, name))
        data: Any = yaml.safe_load(text) if text else None
        if not isinstance(data, Mapping):
            continue
        accepted = data.get("accepted_at")
        if isinstance(accepted, str):
            accepted = datetime.fromisoformat(accepted)
        if isinstance(accepted, datetime) and accepted.tzinfo is not None:
            return str(data.get("handoff_id", "")), accepted
    return None


def read_deployment_run(run_folder: Path) -> DeploymentRun | None:
    """Return what DORA counts of the run in a run folder (None: no snapshot or no attempt)."""
    accepted = _accepted(run_folder)
    if accepted is None:
        return None  # preflight never froze the handoff: nothing was deployed
    return deployment_run(*accepted, read_timings(run_folder), EvidenceStore(run_folder).read_all())


def read_deployment_runs(report_dir: Path) -> list[DeploymentRun]:
    """Return the DORA records of every run under a report directory, oldest finish first."""
    runs = []
    root = report_dir / "runs"
    for dag_folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
        for run_folder in sorted(p for p in dag_folder.iterdir() if p.is_dir()):
            if run_folder.is_symlink() or dag_folder.is_symlink():
                continue  # run folders are written by the runs, never links to elsewhere
            found = read_deployment_run(run_folder)
            if found is not None:
                runs.append(found)
    return sorted(runs, key=lambda r: r.finished_at)
