"""A run's snapshot: frozen at preflight, loaded by later tasks whatever the live files became."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from handoff.catalog import load_handoff
from handoff.runtime import drift
from handoff.runtime.snapshot import (
    Snapshot,
    in_flight_runs,
    live_files,
    mark_done,
    take,
)
from handoff.watch.operator import WatchWindowOperator
from tests.support.handoffs import make_handoffs

ID = "PIN-1"


@pytest.fixture
def snapshot(tmp_path: Path) -> Snapshot:
    folder = make_handoffs(tmp_path, [ID])
    handoff = load_handoff(folder / f"{ID}.md")
    assert handoff.deployable
    run_folder = tmp_path / "reports" / "runs" / "handoff_pin_1" / "manual_1"
    planned_end = datetime.now(UTC) + timedelta(hours=1)
    return take(handoff, run_folder, "handoff_pin_1", "manual__1", {"release": "x:1"}, planned_end)


def test_the_snapshot_loads_the_version_the_run_started_with(snapshot: Snapshot) -> None:
    live = snapshot.contract_path
    sidecar = live.with_name(f"{ID}.deploy.yaml")
    sidecar.write_text(sidecar.read_text().replace("name: ux-portal", "name: renamed-portal"))
    assert load_handoff(live).acceptance.service.name == "renamed-portal"  # type: ignore[union-attr]
    frozen = Snapshot.read(snapshot.folder).handoff()
    assert frozen.deployable
    assert frozen.acceptance is not None and frozen.acceptance.service.name == "ux-portal"
    assert frozen.contract_path == live  # reports, leases and messages keep the live location
    assert (snapshot.folder / "plan.json").is_file()
    assert Snapshot.read(snapshot.folder).settings == {"release": "x:1"}


def test_a_syntax_error_or_a_deletion_does_not_reach_the_snapshot(snapshot: Snapshot) -> None:
    sidecar = snapshot.contract_path.with_name(f"{ID}.deploy.yaml")
    sidecar.write_text("service: [unclosed\n")
    snapshot.contract_path.unlink()
    assert Snapshot.read(snapshot.folder).handoff().deployable


def test_drift_names_both_hashes_and_is_claimed_once_per_version(snapshot: Snapshot) -> None:
    frozen = snapshot.handoff()
    sidecar = frozen.sidecar_path
    sidecar.write_text(sidecar.read_text() + "\n# an edit in progress: [\n")
    [found] = drift.compare(snapshot, live_files(frozen))
    assert found.role == "sidecar"
    assert found.snapshot_sha256 == snapshot.hashes["sidecar"]
    assert found.live_sha256 and found.live_sha256 != found.snapshot_sha256
    assert "this run keeps the version it started with" in found.describe()
    run_folder = snapshot.folder.parent
    assert drift.claim(run_folder, found, "deploy.start_release") is not None
    assert drift.claim(run_folder, found, "health_via_preview") is None  # reported once
    [seen] = drift.recorded(run_folder)
    assert seen.seen_by == "deploy.start_release"
    frozen.contract_path.unlink()
    roles = {d.role: d for d in drift.compare(snapshot, live_files(frozen))}
    assert roles["contract"].deleted and "was deleted" in roles["contract"].describe()


def test_the_registry_knows_the_run_is_in_flight_until_it_is_done(snapshot: Snapshot) -> None:
    handoffs = snapshot.contract_path.parent
    [run] = in_flight_runs(handoffs).values()
    assert (run.dag_id, run.run_id, run.snapshot_dir) == (
        "handoff_pin_1",
        "manual__1",
        snapshot.folder,
    )
    later = snapshot.expires_at + timedelta(seconds=1)
    assert in_flight_runs(handoffs, now=later) == {}  # a run that never reported expires
    mark_done(snapshot)
    assert in_flight_runs(handoffs) == {}


class _Ti:
    def __init__(self, switched: dict[str, Any] | None) -> None:
        self.switched = switched

    def xcom_pull(self, task_ids: str) -> Any:
        assert task_ids == "switch.move_live_traffic"
        return self.switched


def _watch(ends_after_switch: timedelta) -> WatchWindowOperator:
    return WatchWindowOperator(
        task_id="watch",
        window="validation",
        duration=timedelta(hours=23),
        ends_after_switch=ends_after_switch,
        switch_task_id="switch.move_live_traffic",
        base_url="http://127.0.0.1:1",
    )


def test_a_window_ends_from_the_switch_time_not_from_its_own_start() -> None:
    switched_at = datetime.now(UTC) - timedelta(seconds=10)
    context: Any = {"ti": _Ti({"switched_at": switched_at.isoformat()})}
    operator = _watch(timedelta(hours=24))
    end = operator.window_end(context, 3600.0, timedelta(seconds=1))
    assert end == switched_at + timedelta(seconds=24)
    # Re-executed later: the same end, not a new window.
    assert operator.window_end(context, 3600.0, timedelta(seconds=1)) == end


def test_a_window_whose_end_passed_gets_one_probe_round() -> None:
    switched_at = datetime.now(UTC) - timedelta(minutes=5)
    context: Any = {"ti": _Ti({"switched_at": switched_at.isoformat()})}
    before = datetime.now(UTC)
    end = _watch(timedelta(hours=1)).window_end(context, 3600.0, timedelta(seconds=2))
    assert before + timedelta(seconds=2) <= end <= datetime.now(UTC) + timedelta(seconds=2)


def test_without_a_recorded_switch_the_window_lasts_its_duration() -> None:
    context: Any = {"ti": _Ti(None)}
    before = datetime.now(UTC)
    end = _watch(timedelta(hours=24)).window_end(context, 3600.0, timedelta(seconds=1))
    assert before + timedelta(seconds=23) <= end <= datetime.now(UTC) + timedelta(seconds=23)


def test_the_context_shape_the_operator_reads() -> None:
    # `window_end` only needs `ti.xcom_pull`: a SimpleNamespace stands for Airflow's context.
    ti = SimpleNamespace(xcom_pull=lambda task_ids: {"switched_at": "2026-01-01T00:00:00+00:00"})
    end = _watch(timedelta(hours=1)).window_end({"ti": ti}, 1.0, timedelta(seconds=1))  # type: ignore[arg-type]
    assert end >= datetime.now(UTC)
