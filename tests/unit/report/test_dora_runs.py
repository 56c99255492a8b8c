"""DORA's record of a run, read from what the run left in its folder (no report needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.console.dora import Outcome, dora_figures
from handoff.evidence import Evidence, EvidenceStatus, EvidenceStore
from handoff.plan import CheckKind
from handoff.report.dora_runs import RETIRE_TASK, read_deployment_run, read_deployment_runs
from handoff.report.timings import record_end, record_start

ACCEPTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def run_folder(
    report_dir: Path, run_id: str, tasks: dict[str, str], restore_s: float | None = None
) -> Path:
    """Write a run folder: a frozen sidecar, a timing per task (a minute each), evidence."""
    folder = report_dir / "runs" / "handoff_x" / run_id
    sidecar = folder / "snapshot" / "handoffs" / "X-1.deploy.yaml"
    sidecar.parent.mkdir(parents=True)
    sidecar.write_text(f"handoff_id: X-1\naccepted_at: {ACCEPTED:%Y-%m-%dT%H:%M:%SZ}\n")
    for index, (task_id, state) in enumerate(tasks.items()):
        start = T0 + timedelta(minutes=index)
        record_start(folder, task_id, 1, start)
        record_end(folder, task_id, 1, start + timedelta(seconds=30), state)
    if restore_s is not None:
        rolled = Evidence(
            "Rollback Procedures",
            "Rollback Readiness",
            CheckKind.ROLLBACK_READINESS.value,
            EvidenceStatus.PASSED,
            f"rollback green -> blue in {restore_s} s",
            measured={"seconds": restore_s, "restored": "app:1.0.0"},
            task_id="rollback.roll_back",
        )
        EvidenceStore(folder).write("rollback.roll_back", [rolled])
    return folder


LIVE = {
    "preflight": "success",
    "switch.move_live_traffic": "success",
    RETIRE_TASK: "success",
    "abort": "skipped",
    "rollback.roll_back": "skipped",
}


def test_a_run_that_went_live_was_live_when_its_switch_ended(tmp_path: Path) -> None:
    run = read_deployment_run(run_folder(tmp_path, "r1", LIVE))
    assert run is not None and run.outcome is Outcome.LIVE
    assert (run.handoff_id, run.accepted_at) == ("X-1", ACCEPTED)
    assert run.live_at == T0 + timedelta(minutes=1, seconds=30)
    assert run.finished_at == T0 + timedelta(minutes=4, seconds=30)
    assert run.rollback_started is None and run.rollback_ended is None


def test_a_rollback_restores_for_as_long_as_it_measured(tmp_path: Path) -> None:
    tasks = {**LIVE, RETIRE_TASK: "skipped", "rollback.roll_back": "success"}
    run = read_deployment_run(run_folder(tmp_path, "r2", tasks, restore_s=0.42))
    assert run is not None and run.outcome is Outcome.ROLLED_BACK
    assert run.live_at is not None  # it went live before it rolled back
    assert run.rollback_started == T0 + timedelta(minutes=4)
    assert run.rollback_ended == run.rollback_started + timedelta(seconds=0.42)


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ({"preflight": "success", "switch.move_live_traffic": "failed", "abort": "success"}, 1),
        ({"preflight": "failed", "switch.move_live_traffic": "upstream_failed"}, 0),
        ({"preflight": "success", "switch.move_live_traffic": "success"}, 0),  # still going
    ],
)
def test_an_abort_counts_a_run_that_never_deployed_does_not(
    tmp_path: Path, tasks: dict[str, str], expected: int
) -> None:
    runs = read_deployment_runs(run_folder(tmp_path, "r3", tasks).parents[1].parent)
    assert len(runs) == expected
    if runs:
        assert runs[0].outcome is Outcome.ABORTED and runs[0].live_at is None


def test_a_folder_without_a_snapshot_is_no_run(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, "r4", LIVE)
    (folder / "snapshot" / "handoffs" / "X-1.deploy.yaml").unlink()
    assert read_deployment_run(folder) is None
    assert read_deployment_runs(tmp_path / "nowhere") == []


def test_the_figures_of_a_sequence(tmp_path: Path) -> None:
    run_folder(tmp_path, "a", LIVE)
    rolled = {**LIVE, RETIRE_TASK: "skipped", "rollback.roll_back": "success"}
    run_folder(tmp_path, "b", rolled, restore_s=0.5)
    run_folder(tmp_path, "c", {"preflight": "success", "abort": "success"})
    run_folder(tmp_path, "d", LIVE)
    runs = read_deployment_runs(tmp_path)
    figures = dora_figures(runs, timedelta(weeks=1))
    assert figures.runs == 4 and figures.deployments_per_week == 2
    assert figures.change_failure_rate == 0.5
    assert figures.time_to_restore_median == timedelta(seconds=0.5)
    assert figures.lead_time_median == T0 + timedelta(minutes=1, seconds=30) - ACCEPTED
