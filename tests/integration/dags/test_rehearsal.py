"""Rehearsals of the seed contract with dag.test() on the real Docker engine and router.

Each test gives the handoff its own service, ports and data volume, makes release 1.0.0 live
on blue first (the state a real handoff starts from), then runs the DAG compressed in time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import load_handoff
from handoff.runtime.engine_factory import engine_config
from tests.support.airflow_env import loader_dagbag
from tests.support.demo import V1, V2, ensure_demo_images, free_port
from tests.support.handoffs import make_handoffs
from tests.support.slack_receiver import Receiver, conn_json, down_url, slack_receiver

pytestmark = pytest.mark.integration

SEED_ID = "REHEARSAL"
# What Slack receives on the success path, in order (the context block's event label).
SUCCESS_EVENTS = [
    "pre-deploy notice",
    "deployment started",
    "status update",  # pre-switch gates passed
    "live traffic switched",
    "all clear",
    "validation period passed",
    "status update",  # monitoring period passed
    "handover complete",
]


@dataclass
class Rehearsal:
    """A handoff folder, its DAG id, and the engine of its service."""

    folder: Path
    dag_id: str
    engine: BlueGreenEngine
    slack: Receiver


@pytest.fixture(scope="module")
def demo_images() -> None:
    ensure_demo_images()


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """The webhook the environment's Slack connection (handoff_slack) points at."""
    with slack_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(receiver.url))
        yield receiver


@pytest.fixture
def rehearsal(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_images: None,
    airflow_db: None,
    slack: Receiver,
) -> Iterator[Rehearsal]:
    """Write a handoff whose release behaves as the test's `service_env` marker says."""
    marker = request.node.get_closest_marker("service_env")
    env: dict[str, str] = marker.args[0] if marker else {}
    service = f"rh-{uuid.uuid4().hex[:6]}"
    env_yaml = "".join(f"    {key}: '{value}'\n" for key, value in env.items())
    folder = make_handoffs(
        tmp_path,
        [SEED_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {service}",
            "ux-portal-data": f"{service}-data",
            "  health_path: /health\n": "  health_path: /health\n"
            + (f"  env:\n{env_yaml}" if env_yaml else ""),
        },
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 20s",
        },
    )
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    handoff = load_handoff(folder / f"{SEED_ID}.md")
    assert handoff.acceptance is not None and handoff.environment is not None
    config = engine_config(handoff.acceptance, handoff.environment)
    # Blue runs the current release, healthy, before the handoff starts.
    baseline = BlueGreenEngine(dataclasses.replace(config, environment=()))
    baseline.deploy(V1)
    baseline.switch(V1)
    engine = BlueGreenEngine(config)
    try:
        yield Rehearsal(folder, "handoff_rehearsal", engine, slack)
    finally:
        engine.teardown(remove_data=True, force=True)


def run_dag(rehearsal: Rehearsal, **conf: Any) -> tuple[str, dict[str, str], list[str]]:
    """Run the DAG with dag.test(); return the run state, task states and start order."""

    bag = loader_dagbag()
    assert bag.import_errors == {}
    dag = bag.dags[rehearsal.dag_id]
    run = dag.test(run_conf={"deploy_at": datetime.now(UTC).isoformat(), **conf})
    instances = run.get_task_instances()
    states = {ti.task_id: str(ti.state) for ti in instances}
    started = sorted((ti for ti in instances if ti.start_date), key=lambda ti: ti.start_date)
    return str(run.state), states, [ti.task_id for ti in started]


def in_order(started: list[str], expected: list[str]) -> bool:
    """Tell whether the expected tasks started in this relative order."""
    positions = [started.index(task) for task in expected]
    return positions == sorted(positions)


def test_good_release_goes_live_and_blue_is_retired(rehearsal: Rehearsal) -> None:
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V2)
    assert state == "success", states
    assert in_order(
        started,
        [
            "preflight",
            "pre_deploy_notice",
            "wait_for_deploy_time",
            "deploy.start_release",
            "pre_switch_gates.health_via_preview",
            "switch.move_live_traffic",
            "post_switch_verification.data_integrity",
            "all_clear.watch",
            "all_clear.announce",
            "validation_period.watch",
            "validation_period.no_user_reported_issues",
            "monitoring_period.watch",
            "handover.sign_off",
            "handover.retire_old_colour",
        ],
    ), started
    assert states["abort"] == "skipped" and states["rollback.roll_back"] == "skipped"
    assert states["finalize"] == "skipped"
    service = rehearsal.engine.status()
    assert service.live is not None and service.live.colour is Colour.GREEN
    assert service.live.release == V2
    assert service.colour(Colour.BLUE) is None  # retired at handover
    assert rehearsal.slack.inbox.events() == SUCCESS_EVENTS


@pytest.mark.service_env({"DEMO_MODE": "never_ready"})
def test_never_ready_release_aborts_and_blue_is_untouched(rehearsal: Rehearsal) -> None:
    before = rehearsal.engine.status().live
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V2)
    assert state == "failed"
    assert states["deploy.start_release"] == "failed"
    assert states["switch.move_live_traffic"] == "upstream_failed"
    assert states["abort"] == "success" and states["finalize"] == "failed"
    assert states["rollback.roll_back"] == "skipped"  # the switch never happened
    assert in_order(started, ["preflight", "deploy.start_release", "abort", "finalize"]), started
    after = rehearsal.engine.status()
    assert before is not None and after.live is not None
    assert (after.live.colour, after.live.container_id) == (before.colour, before.container_id)
    assert after.colour(Colour.GREEN) is None
    assert rehearsal.slack.inbox.events() == [
        "pre-deploy notice",
        "deployment started",
        "escalation",
        "deployment aborted",
    ]
    assert "deploy.start_release" in rehearsal.slack.inbox.bodies[2]["text"]


@pytest.mark.service_env(
    {"DEMO_MODE": "erroring", "DEMO_ERROR_RATE": "100", "DEMO_ERROR_AFTER": "35"}
)
def test_release_erroring_in_the_validation_window_rolls_back(rehearsal: Rehearsal) -> None:
    state, states, started = run_dag(rehearsal, time_scale=1440, release=V2)
    assert state == "failed"
    assert states["switch.move_live_traffic"] == "success"
    assert states["all_clear.watch"] == "success"
    assert states["validation_period.watch"] == "failed"
    assert states["rollback.roll_back"] == "success" and states["finalize"] == "failed"
    assert states["abort"] == "skipped"
    assert in_order(
        started,
        [
            "switch.move_live_traffic",
            "all_clear.watch",
            "validation_period.watch",
            "rollback.roll_back",
            "finalize",
        ],
    ), started
    service = rehearsal.engine.status()
    assert service.live is not None and service.live.colour is Colour.BLUE
    assert service.live.release == V1
    assert rehearsal.slack.inbox.events() == [
        "pre-deploy notice",
        "deployment started",
        "status update",  # pre-switch gates passed
        "live traffic switched",
        "all clear",
        "escalation",
        "rollback started",
        "rollback finished",
    ]
    assert "validation_period.watch" in rehearsal.slack.inbox.bodies[5]["text"]
    assert "service restored in" in rehearsal.slack.inbox.bodies[7]["text"]


def ledger_rows(rehearsal: Rehearsal) -> list[tuple[str, str, int]]:
    """Return (event, status, attempts) of every recorded notification, in order."""
    path = rehearsal.folder.parent / "reports" / "notifications.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT event, status, attempts FROM notifications ORDER BY seq")
        return [(str(e), str(s), int(a)) for e, s, a in rows.fetchall()]


def test_slack_failing_twice_then_recovering_loses_and_duplicates_nothing(
    rehearsal: Rehearsal,
) -> None:
    rehearsal.slack.inbox.fail_next = 2
    state, states, _ = run_dag(
        rehearsal, time_scale=7200, release=V2, emergency_reason="CVE-2026-0001 hotfix"
    )
    assert state == "success", states
    expected = [SUCCESS_EVENTS[0], "emergency override of the notice period", *SUCCESS_EVENTS[1:]]
    assert rehearsal.slack.inbox.events() == expected
    assert "CVE-2026-0001 hotfix" in rehearsal.slack.inbox.bodies[1]["text"]
    assert rehearsal.slack.inbox.requests == len(expected) + 2
    rows = ledger_rows(rehearsal)
    assert [status for _, status, _ in rows] == ["sent"] * len(expected)
    assert rows[0] == ("NOTICE", "sent", 3)


def test_slack_down_for_the_whole_run_changes_nothing_and_is_recorded(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(down_url()))
    state, states, _ = run_dag(rehearsal, time_scale=7200, release=V2)
    assert state == "success", states
    assert states["rollback.roll_back"] == "skipped" and states["abort"] == "skipped"
    rows = ledger_rows(rehearsal)
    assert [event for event, _, _ in rows] == [
        "NOTICE",
        "DEPLOY_STARTED",
        "PHASE",
        "SWITCH_DONE",
        "ALL_CLEAR",
        "VALIDATION_PASSED",
        "PHASE",
        "HANDOVER_COMPLETE",
    ]
    assert all(status == "failed" and attempts == 3 for _, status, attempts in rows), rows
    assert rehearsal.slack.inbox.requests == 0
