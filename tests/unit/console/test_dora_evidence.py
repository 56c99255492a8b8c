"""A DORA record per run from its report.json: outcome, switch, rollback times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handoff.console.dora import Outcome
from handoff.console.dora_evidence import deployment_run, read_report

ACCEPTED = datetime(2026, 12, 1, tzinfo=UTC)
T = datetime(2026, 12, 3, 6, tzinfo=UTC)


def report(outcome: str, rollback: bool = False) -> dict[str, object]:
    tasks = [
        {"task_id": "switch.move_live_traffic", "state": "success",
         "start": T.isoformat(), "end": (T + timedelta(seconds=2)).isoformat()},
        {"task_id": "rollback.roll_back", "state": "success" if rollback else "skipped",
         "start": (T + timedelta(seconds=30)).isoformat(),
         "end": (T + timedelta(seconds=33)).isoformat()},
    ]  # fmt: skip
    return {
        "outcome": outcome,
        "generated_at": (T + timedelta(minutes=1)).isoformat(),
        "timeline": [{"step": "switch", "tasks": tasks}],
    }


def test_a_rollback_has_its_restore_time_and_a_refused_run_is_no_attempt() -> None:
    live = deployment_run(report("succeeded"), "H", ACCEPTED)
    assert live is not None and live.outcome is Outcome.LIVE
    assert live.live_at == T + timedelta(seconds=2) and live.rollback_started is None
    back = deployment_run(report("rolled back", rollback=True), "H", ACCEPTED)
    assert back is not None and back.outcome is Outcome.ROLLED_BACK
    assert back.rollback_ended - back.rollback_started == timedelta(seconds=3)  # type: ignore[operator]
    assert deployment_run(report("failed"), "H", ACCEPTED) is None
    assert deployment_run({"outcome": "succeeded"}, "H", ACCEPTED) is None


def test_reports_are_read_without_following_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "report.json").write_text(json.dumps(report("aborted")))
    assert read_report(tmp_path / "real") == report("aborted")
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "report.json").symlink_to(tmp_path / "real" / "report.json")
    assert read_report(tmp_path / "link") is None
    assert read_report(tmp_path / "missing") is None
