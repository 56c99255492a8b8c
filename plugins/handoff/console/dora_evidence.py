"""One DORA record per run, read from the report the run's `report` task wrote (report.json).

The report is the run's evidence as a whole: its outcome (succeeded, rolled back, aborted,
failed) and every task's recorded start and end. A run that failed before deploying anything
(preflight refused it, outcome "failed" with no abort or rollback) is no deployment attempt
and gives no record. Reads are cached by the file's size and modification time, so the
overview reads each report once however often it is shown.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.console.dora import DeploymentRun, Outcome
from handoff.plan.graph import ROLLBACK_TASK, SWITCH_TASK
from handoff.safe_paths import read_text_or_none

OUTCOMES = {
    "succeeded": Outcome.LIVE,
    "rolled back": Outcome.ROLLED_BACK,
    "aborted": Outcome.ABORTED,
}


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _tasks(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        str(t.get("task_id")): t
        for step in report.get("timeline") or []
        if isinstance(step, Mapping)
        for t in step.get("tasks") or []
        if isinstance(t, Mapping)
    }


def deployment_run(
    report: Mapping[str, Any], handoff_id: str, accepted_at: datetime
) -> DeploymentRun | None:
    """Return the run's DORA record, or None when it attempted no deployment."""
    outcome = OUTCOMES.get(str(report.get("outcome")))
    finished = _time(report.get("generated_at"))
    if outcome is None or finished is None:
        return None
    tasks = _tasks(report)
    switch, rollback = tasks.get(SWITCH_TASK, {}), tasks.get(ROLLBACK_TASK, {})
    switched = switch.get("state") == "success"
    rolled_back = rollback.get("state") == "success"
    return DeploymentRun(
        handoff_id=handoff_id,
        accepted_at=accepted_at,
        finished_at=finished,
        outcome=outcome,
        # Lead time ends when users first got the release: the switch, if it happened.
        live_at=_time(switch.get("end")) if switched else None,
        rollback_started=_time(rollback.get("start")) if rolled_back else None,
        rollback_ended=_time(rollback.get("end")) if rolled_back else None,
    )


REPORT = "report.json"


@functools.lru_cache(maxsize=1024)
def _read(folder: Path, size: int, mtime_ns: int) -> dict[str, Any] | None:
    del size, mtime_ns  # part of the cache key only
    try:
        data = json.loads(read_text_or_none(folder, (REPORT,)) or "null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def read_report(run_folder: Path) -> dict[str, Any] | None:
    """Return a run's report.json as data (None when missing, a symlink or not JSON)."""
    try:
        stat = (run_folder / REPORT).lstat()
    except OSError:
        return None
    return _read(run_folder, stat.st_size, stat.st_mtime_ns)
