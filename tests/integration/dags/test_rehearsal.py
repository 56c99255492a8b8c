"""Rehearsals of the seed contract with dag.test() on the real Docker engine and router.

Each test gives the handoff its own service, ports and data volume, makes release 1.0.0 live
on blue first (the state a real handoff starts from), then runs the DAG compressed in time.
The success, abort and rollback rehearsals also read the report their `report` task wrote and
check it against the run's own records (tests/support/run_reports.py); one of them runs with
a report that cannot be written.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import load_handoff
from handoff.console.dora import DeploymentRun, Outcome, dora_figures
from handoff.demo_ca import make_ca, make_server, write_material
from handoff.evidence import Evidence, EvidenceStatus, EvidenceStore, report_dir_of, run_dir
from handoff.report.dora_runs import read_deployment_run, read_deployment_runs
from tests.support.airflow_env import loader_dagbag
from tests.support.demo import V1, V2, V3, ensure_demo_images, free_port, put_v1_live
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.run_reports import (
    check_common,
    metric,
    read_report,
    switch_figures,
    xcom,
)
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

pytestmark = pytest.mark.integration

SEED_ID = "REHEARSAL"
TLS_DOMAIN = "ux-portal.demo.test"
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
    # live_tls: the router serves HTTPS on live from the environment's router.tls (a demo CA
    # and a certificate for the sidecar's domain); every live client trusts that CA alone.
    router_tls = sidecar_tls = ""
    if request.node.get_closest_marker("live_tls"):
        ca = make_ca()
        now = datetime.now(UTC)
        issued = make_server(ca, [TLS_DOMAIN], now - timedelta(hours=1), now + timedelta(days=90))
        paths = write_material(tmp_path / "tls", ca, issued)
        router_tls = (
            f"\n  tls:\n    ca_file: {paths['ca']}\n    cert_file: {paths['cert']}\n"
            f"    key_file: {paths['key']}"
        )
        sidecar_tls = f"    tls:\n      domain: {TLS_DOMAIN}\n"
    folder = make_handoffs(
        tmp_path,
        [SEED_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {service}",
            "ux-portal-data": f"{service}-data",
            "  health_path: /health\n": "  health_path: /health\n"
            + (f"  env:\n{env_yaml}" if env_yaml else ""),
            "    access:\n": sidecar_tls + "    access:\n",
        },
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}{router_tls}",
            "ready_timeout: 2 minutes": "ready_timeout: 20s",
        },
        accepted_now=True,
    )
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    # Blue runs the current release, healthy, before the handoff starts.
    engine = put_v1_live(load_handoff(folder / f"{SEED_ID}.md"))
    try:
        yield Rehearsal(folder, "handoff_rehearsal", engine, slack)
    finally:
        engine.teardown(remove_data=True, force=True)


@dataclass(frozen=True)
class RunSeen:
    """One rehearsal of this module: what Airflow says it did, and what DORA read of it."""

    outcome: Outcome | None  # from Airflow's task states
    accepted_at: datetime  # the sidecar's
    switched_at: datetime | None  # Airflow's end of the switch task
    restore_seconds: float | None  # the rollback's XCom
    dora: DeploymentRun | None  # read from the run folder by handoff.report.dora_runs
    in_report_dir: list[DeploymentRun]


# Every rehearsal of this module in the order it ran; the last test reads their DORA figures.
SEQUENCE: list[RunSeen] = []


def seen(rehearsal: Rehearsal, run: Any) -> RunSeen:
    """Return what Airflow recorded of a run beside what the DORA glue reads of its folder."""
    handoff = load_handoff(contract_of(rehearsal))
    assert handoff.acceptance is not None
    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    states = {task_id: str(ti.state) for task_id, ti in instances.items()}
    outcome = None
    if states["rollback.roll_back"] == "success":
        outcome = Outcome.ROLLED_BACK
    elif states["abort"] == "success":
        outcome = Outcome.ABORTED
    elif str(run.state) == "success":
        outcome = Outcome.LIVE
    switch = instances["switch.move_live_traffic"]
    rolled = xcom(run, "rollback.roll_back") if outcome is Outcome.ROLLED_BACK else None
    report_dir = report_dir_of(handoff)
    return RunSeen(
        outcome=outcome,
        accepted_at=handoff.acceptance.accepted_at,
        switched_at=switch.end_date if states["switch.move_live_traffic"] == "success" else None,
        restore_seconds=rolled["measured_seconds"] if rolled else None,
        dora=read_deployment_run(run_dir(report_dir, run.dag_id, run.run_id)),
        in_report_dir=read_deployment_runs(report_dir),
    )


def dag_run(rehearsal: Rehearsal, **conf: Any) -> Any:
    """Run the DAG with dag.test() and return its dag run.

    The drill gives the contract's notice and answers the gates explicitly (`rehearsal_conf`).
    Each run is added to SEQUENCE, for the DORA figures of the module's rehearsals.
    """
    bag = loader_dagbag()
    assert bag.import_errors == {}
    run = bag.dags[rehearsal.dag_id].test(run_conf=rehearsal_conf(**conf))
    SEQUENCE.append(seen(rehearsal, run))
    return run


def outcome(run: Any) -> tuple[str, dict[str, str], list[str]]:
    """Return the run state, task states and start order of a dag run."""
    instances = run.get_task_instances()
    states = {ti.task_id: str(ti.state) for ti in instances}
    started = sorted((ti for ti in instances if ti.start_date), key=lambda ti: ti.start_date)
    return str(run.state), states, [ti.task_id for ti in started]


def run_dag(rehearsal: Rehearsal, **conf: Any) -> tuple[str, dict[str, str], list[str]]:
    """Run the DAG; return the run state, task states and start order."""
    return outcome(dag_run(rehearsal, **conf))


def contract_of(rehearsal: Rehearsal) -> Path:
    return rehearsal.folder / f"{SEED_ID}.md"


def evidence(rehearsal: Rehearsal) -> list[Evidence]:
    """Return the evidence records of the rehearsal's only run."""
    runs = list((rehearsal.folder.parent / "reports" / "runs" / rehearsal.dag_id).iterdir())
    assert len(runs) == 1, runs
    return EvidenceStore(runs[0]).read_all()


def records_of(records: list[Evidence], criterion: str, task_id: str) -> list[Evidence]:
    """Return the records of one criterion written by one task."""
    return [r for r in records if r.criterion == criterion and r.task_id == task_id]


# The seed contract's acceptance criteria, each of which must leave a record in every run.
SEED_CRITERIA = {
    "Zero-Downtime Deployment",
    "Health Checks",
    "Performance Validation",
    "Security Verification",
    "Accessibility Compliance",
    "User Acceptance",
    "Application Monitoring",
    "Error Tracking",
    "Performance Monitoring",
    "User Analytics",
    "Security Monitoring",
    "Rollback Procedures",
    "Data Integrity",
    "Configuration Management",
    "Communication Plan",
}
# The seed's Dependencies items preflight proves (capacity, access; no domain configured, no
# third party listed) and the static asset the pre-switch gate fetches through the preview.
SEED_DEPENDENCIES = {
    "Infrastructure": "passed",
    "Access Control": "passed",
    "Domain/SSL": "not verified",
    "Third-party Services": "not verified",
    "CDN/Storage": "passed",
}


def in_order(started: list[str], expected: list[str]) -> bool:
    """Tell whether the expected tasks started in this relative order."""
    positions = [started.index(task) for task in expected]
    return positions == sorted(positions)


def assert_aborted(
    rehearsal: Rehearsal, states: dict[str, str], started: list[str], failed_gates: list[str]
) -> None:
    """Pre-switch gates failed, the abort ran next, the switch never did, and blue is live."""
    assert {g: states[g] for g in failed_gates} == dict.fromkeys(failed_gates, "failed")
    assert states["switch.move_live_traffic"] == "upstream_failed"
    assert states["abort"] == "success" and states["rollback.roll_back"] == "skipped"
    assert in_order(started, ["deploy.start_release", failed_gates[0], "abort"]), started
    live = rehearsal.engine.status().live
    assert live is not None and (live.colour, live.release) == (Colour.BLUE, V1)


def assert_rolled_back(
    rehearsal: Rehearsal, states: dict[str, str], started: list[str], failed_check: str
) -> None:
    """A check on live failed after the switch, the rollback ran next, and blue is live again."""
    assert states[failed_check] == "failed"
    assert states["rollback.roll_back"] == "success" and states["abort"] == "skipped"
    assert in_order(
        started, ["switch.move_live_traffic", failed_check, "rollback.roll_back", "finalize"]
    ), started
    live = rehearsal.engine.status().live
    assert live is not None and (live.colour, live.release) == (Colour.BLUE, V1)


@pytest.mark.live_tls
def test_good_release_goes_live_and_blue_is_retired(rehearsal: Rehearsal) -> None:
    # Over HTTPS on live: the switch, the checks on live and the three watches all verify
    # the certificate against the demo CA; the Domain/SSL dependency is proven at preflight.
    assert rehearsal.engine.config.live_tls is not None
    run = dag_run(rehearsal, time_scale=7200, release=V2)
    state, states, started = outcome(run)
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
    records = evidence(rehearsal)
    assert {r.criterion for r in records} == SEED_CRITERIA | set(SEED_DEPENDENCIES)
    dependencies = {
        r.criterion: r.status.value for r in records if r.criterion in SEED_DEPENDENCIES
    }
    assert dependencies == {**SEED_DEPENDENCIES, "Domain/SSL": "passed"}, dependencies
    (certificate,) = [r for r in records if r.criterion == "Domain/SSL"]
    assert certificate.measured["domain"] == TLS_DOMAIN and "chains to the trusted CA" in (
        certificate.summary
    )
    assert all(r.status in EvidenceStatus and r.log_marker.startswith("EVIDENCE") for r in records)
    assert not [r for r in records if r.status is EvidenceStatus.FAILED], records
    status = {r.criterion: r.status for r in records}
    for criterion in ("User Analytics", "Security Monitoring", "Error Tracking"):
        assert status[criterion] is EvidenceStatus.NOT_VERIFIED  # watched, never "passed"
    perf = records_of(records, "Performance Validation", "pre_switch_gates.performance")
    assert sorted(r.measured["path"] for r in perf) == ["/", "/api/optimize"]
    assert all(r.measured["requests"] == 50 and r.measured["errors"] == 0 for r in perf)
    assert all(r.thresholds["tolerance_pct"] == 10.0 for r in perf)
    health = [r for r in records if r.criterion == "Health Checks"]
    assert {r.target for r in health} == {"preview", "live"}
    assert all(r.measured["healthy"] >= 5 for r in health)
    (downtime,) = [r for r in records if r.criterion == "Zero-Downtime Deployment"]
    assert downtime.measured["failed"] == 0 and downtime.measured["requests"] > 0
    security = [r for r in records if r.criterion == "Security Verification"]
    assert {r.task_id for r in security} == {
        "pre_switch_gates.security",
        "pre_switch_gates.security_scan",
    }
    (readiness,) = records_of(
        records, "Rollback Procedures", "post_switch_verification.rollback_readiness"
    )
    assert readiness.status is EvidenceStatus.PASSED and readiness.measured["previous"] == "blue"
    (config,) = [r for r in records if r.criterion == "Configuration Management"]
    assert set(config.measured["hashes"]) == {"contract", "sidecar", "environment"}
    log_lines = [r.log_marker for r in records]
    assert any(
        line.startswith('EVIDENCE "Performance Validation": passed — /api/optimize p95 ')
        for line in log_lines
    ), log_lines
    # The report: the report task did not change the outcome, and its figures are the run's.
    written = read_report(run, contract_of(rehearsal))
    report = written.report
    assert report["outcome"] == "succeeded"
    check_common(run, written, contract_of(rehearsal), rehearsal.slack.inbox.bodies)
    # The report's Dependencies section: a row per contract item, with what proved it.
    shown = {row["name"]: row["status"] for row in report["dependencies"]}
    # Database: the migrations issue; nothing checks it here, so it is never "passed".
    assert shown == {**dependencies, "Database": "not verified"}, shown
    downtime_row = metric(report, "downtime")
    probe = xcom(run, "switch.move_live_traffic")["probe"]
    figures = ("failed", "requests", "slowest_during_switch_ms", "steady_p999_ms")
    assert downtime_row["details"] == {key: probe[key] for key in figures}
    assert downtime_row["details"]["slowest_during_switch_ms"] > 0
    assert (probe["requests"], probe["failed"]) == switch_figures(rehearsal.slack.inbox.bodies)
    assert downtime_row["status"] == "met"
    errors = metric(report, "error rate")
    verdicts = [
        xcom(run, f"{w}.watch", "verdict")["summary"]
        for w in ("all_clear", "validation_period", "monitoring_period")
    ]
    assert errors["details"]["samples"] == sum(v["samples"] for v in verdicts)
    assert errors["details"]["errors"] == sum(v["errors"] for v in verdicts) == 0
    assert errors["status"] == "met"
    deploy = metric(report, "deployment time")
    assert deploy["status"] == "met" and 0 < deploy["value"] < 3600
    assert metric(report, "rollback time")["status"] == "not measured"


@pytest.mark.service_env(
    {"DEMO_MODE": "erroring", "DEMO_ERROR_RATE": "100", "DEMO_ERROR_AFTER": "35"}
)
def test_release_erroring_in_the_validation_window_rolls_back(rehearsal: Rehearsal) -> None:
    run = dag_run(rehearsal, time_scale=1440, release=V2)
    state, states, started = outcome(run)
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
    # The release answers 500 to everything but /health by then: the rollback still measures.
    records = evidence(rehearsal)
    (rolled,) = records_of(records, "Rollback Procedures", "rollback.roll_back")
    assert rolled.status is EvidenceStatus.PASSED and rolled.measured["restored"] == V1
    (kept,) = records_of(records, "Data Integrity", "rollback.roll_back")
    assert kept.status is EvidenceStatus.PASSED and kept.measured["missing"] == 0
    written = read_report(run, contract_of(rehearsal))
    report = written.report
    assert report["outcome"] == "rolled back"
    assert "validation_period.watch" in report["outcome_detail"]
    check_common(run, written, contract_of(rehearsal), rehearsal.slack.inbox.bodies)
    rollback = metric(report, "rollback time")
    measured = xcom(run, "rollback.roll_back")["measured_seconds"]
    assert rollback["value"] == measured and rollback["status"] == "met"
    told = re.search(r"service restored in ([\d.]+) s", json.dumps(rehearsal.slack.inbox.bodies))
    assert told is not None and abs(float(told[1]) - measured) <= 0.01
    errors = metric(report, "error rate")
    breach = xcom(run, "validation_period.watch", "verdict")
    assert breach["status"] == "breach"
    assert errors["status"] == "missed"
    assert errors["details"]["windows"]["validation"]["errors"] == breach["summary"]["errors"]
    assert (metric(report, "downtime")["details"]["failed"]) == 0


@pytest.mark.service_env({"DEMO_MODE": "never_ready"})
def test_never_ready_release_aborts_and_blue_is_untouched(rehearsal: Rehearsal) -> None:
    before = rehearsal.engine.status().live
    run = dag_run(rehearsal, time_scale=7200, release=V2)
    state, states, started = outcome(run)
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
    written = read_report(run, contract_of(rehearsal))
    report = written.report
    assert report["outcome"] == "aborted"
    assert "deploy.start_release" in report["outcome_detail"]
    check_common(run, written, contract_of(rehearsal), rehearsal.slack.inbox.bodies)
    for name in ("deployment time", "downtime", "error rate", "rollback time"):
        assert metric(report, name)["status"] == "not measured", name
    events = [n["event"] for n in report["notifications"]]
    assert events == ["NOTICE", "DEPLOY_STARTED", "ESCALATION", "ABORTED"]


@pytest.mark.service_env(
    {
        "DEMO_MODE": "slow",
        "DEMO_LATENCY_MS": "300",
        "DEMO_FAULTS": "img_without_alt,missing_text,leak_version,stale_asset",
    }
)
def test_release_failing_every_pre_switch_gate_aborts_with_evidence(
    rehearsal: Rehearsal,
) -> None:
    # The debug-port variant of 1.2.0, slow, with an image without alt text, without the
    # journey's expected text, naming its versions and serving a stylesheet other than the
    # one the sidecar pins: every pre-switch gate must catch it.
    state, states, started = run_dag(rehearsal, time_scale=7200, release=f"{V3}-debug-port")
    assert state == "failed"
    gates = ["performance", "security", "security_scan", "accessibility", "smoke", "static_assets"]
    assert_aborted(rehearsal, states, started, [f"pre_switch_gates.{g}" for g in gates])
    assert states["pre_switch_gates.health_via_preview"] == "success"
    records = evidence(rehearsal)
    failed = {r.criterion for r in records if r.status is EvidenceStatus.FAILED}
    assert failed == {
        "Performance Validation",
        "Security Verification",
        "Accessibility Compliance",
        "User Acceptance",
        "CDN/Storage",  # the contract's Dependencies item the static asset proves
    }
    (asset,) = records_of(records, "CDN/Storage", "pre_switch_gates.static_assets")
    assert asset.group == "Dependencies" and asset.target == "preview"
    assert (
        asset.measured["status"] == 200 and asset.measured["sha256"] != asset.thresholds["sha256"]
    )
    assert "content changed" in asset.summary
    # The abort removed the release's colour: nothing of it is left, blue alone serves.
    assert rehearsal.engine.status().colour(Colour.GREEN) is None
    for perf in records_of(records, "Performance Validation", "pre_switch_gates.performance"):
        assert perf.status is EvidenceStatus.FAILED and perf.target == "preview"
        assert perf.measured["p95_ms"] >= 300 > perf.measured["baseline_p95_ms"]
        assert perf.measured["change_pct"] > perf.thresholds["tolerance_pct"] == 10.0
        assert "slower than the live colour" in perf.log_marker
        assert perf.measured["attempts"] == perf.thresholds["attempts"] == 3  # confirmed
    security = records_of(records, "Security Verification", "pre_switch_gates.security")
    headers, posture, pinning = security
    assert headers.status is EvidenceStatus.FAILED and "Server names a version" in headers.summary
    assert posture.status is EvidenceStatus.FAILED
    assert posture.measured["release"]["exposed_ports"] == ["8000/tcp", "9229/tcp"]
    assert posture.measured["old"]["exposed_ports"] == ["8000/tcp"]
    assert pinning.status is EvidenceStatus.PASSED
    assert pinning.measured["image_id"].startswith("sha256:")
    (scan,) = records_of(records, "Security Verification", "pre_switch_gates.security_scan")
    assert scan.status is EvidenceStatus.FAILED and scan.measured["exit_code"] == 1
    (a11y,) = records_of(records, "Accessibility Compliance", "pre_switch_gates.accessibility")
    assert a11y.status is EvidenceStatus.FAILED
    assert a11y.measured["rules"] == {"image-alt": 1} and a11y.measured["old_violations"] == 0
    (journey,) = records_of(records, "User Acceptance", "pre_switch_gates.smoke")
    assert journey.status is EvidenceStatus.FAILED
    assert "step 1 GET /: text 'dashboard' not found" in journey.summary
    events = rehearsal.slack.inbox.events()
    assert events[-1] == "deployment aborted" and events.count("escalation") == len(gates)


@pytest.mark.service_env({"DEMO_DB": "/tmp/records.db"})
def test_release_losing_acknowledged_writes_rolls_back_with_evidence(
    rehearsal: Rehearsal,
) -> None:
    # The release keeps its store outside the shared volume: writes blue acknowledged during
    # the switch are not where the release reads. Only the check on live can see it.
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V3)
    assert state == "failed"
    assert states["pre_switch_gates.smoke"] == "success"
    assert states["switch.move_live_traffic"] == "success"
    assert_rolled_back(rehearsal, states, started, "post_switch_verification.data_integrity")
    records = evidence(rehearsal)
    (lost,) = records_of(records, "Data Integrity", "post_switch_verification.data_integrity")
    assert lost.status is EvidenceStatus.FAILED and lost.target == "live"
    assert lost.measured["missing"] > 0 and lost.thresholds["missing"] == 0
    assert lost.measured["acknowledged"] >= lost.measured["missing"]
    (rolled,) = records_of(records, "Rollback Procedures", "rollback.roll_back")
    assert rolled.status is EvidenceStatus.PASSED
    assert 0 < rolled.measured["seconds"] < rolled.thresholds["rollback_s"] == 1800
    (after,) = records_of(records, "Data Integrity", "rollback.roll_back")
    assert after.measured["stored_after"] >= after.measured["stored_before"]
    (switch,) = [r for r in records if r.criterion == "Zero-Downtime Deployment"]
    assert switch.status is EvidenceStatus.PASSED and switch.measured["failed"] == 0


CHECK_COMMAND = "/opt/demo/integrity_check.py"


def use_integrity_command(rehearsal: Rehearsal, write_probe: str) -> None:
    """Make the rehearsal's sidecar run the demo image's integrity command (30 s bound)."""
    sidecar = rehearsal.folder / f"{SEED_ID}.deploy.yaml"
    sidecar.write_text(
        sidecar.read_text()
        .replace("write_probe: store_api", f"write_probe: {write_probe}")
        .replace("command: null", f"command: [{CHECK_COMMAND}]")
        .replace("timeout: 2 minutes", "timeout: 30s")
    )


@pytest.mark.service_env({"DEMO_FAULTS": "corrupt_store"})
def test_integrity_command_failing_on_the_release_aborts_before_the_switch(
    rehearsal: Rehearsal,
) -> None:
    # A real service's way: no store probe, only the command shipped in the release image.
    # The release's broken migration corrupts a record at start: the command beside the
    # release (on the preview) finds it, so users never reach it.
    use_integrity_command(rehearsal, write_probe="none")
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V3)
    assert state == "failed"
    assert_aborted(rehearsal, states, started, ["pre_switch_gates.data_integrity"])
    (found,) = records_of(evidence(rehearsal), "Data Integrity", "pre_switch_gates.data_integrity")
    assert found.status is EvidenceStatus.FAILED and found.target == "preview"
    assert found.log_marker.startswith(
        'EVIDENCE "Data Integrity": failed — integrity command after the deploy '
        f"({CHECK_COMMAND}) in green ({V3}): exit 1 in "
    )
    assert found.measured["exit_code"] == 1
    assert found.thresholds == {"exit_code": 0, "timeout_s": 30.0}
    assert f"stored as 'migrated-{V3}-green' but its body names None" in found.measured["output"][0]


@pytest.mark.service_env({"DEMO_FAULTS": "corrupt_store", "DEMO_FAULTS_AFTER_WRITES": "3"})
def test_integrity_command_failing_after_the_switch_rolls_back_with_evidence(
    rehearsal: Rehearsal,
) -> None:
    # The migration runs once the release acknowledged 3 writes: the preview's journey makes
    # one (the command beside the release passes), the switch's probe makes dozens.
    use_integrity_command(rehearsal, write_probe="store_api")
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V3)
    assert state == "failed"
    assert states["pre_switch_gates.data_integrity"] == "success"
    assert_rolled_back(rehearsal, states, started, "post_switch_verification.data_integrity")
    records = evidence(rehearsal)
    (before,) = records_of(records, "Data Integrity", "pre_switch_gates.data_integrity")
    assert before.status is EvidenceStatus.PASSED and before.measured["exit_code"] == 0
    after_switch = records_of(records, "Data Integrity", "post_switch_verification.data_integrity")
    command = [r for r in after_switch if "exit_code" in r.measured]
    store = [r for r in after_switch if "missing" in r.measured]
    assert [r.status for r in store] == [EvidenceStatus.PASSED]  # no acknowledged write lost
    (failed,) = command
    assert failed.status is EvidenceStatus.FAILED and failed.target == "live"
    assert failed.log_marker.startswith(
        'EVIDENCE "Data Integrity": failed — integrity command after the switch '
        f"({CHECK_COMMAND}) in green ({V3}): exit 1 in "
    )
    assert any(f"'migrated-{V3}-green'" in line for line in failed.measured["output"])
    # The rollback restores the code, not the data: the check beside blue still fails.
    after_rollback = records_of(records, "Data Integrity", "rollback.roll_back")
    (blue,) = [r for r in after_rollback if "exit_code" in r.measured]
    assert blue.status is EvidenceStatus.FAILED
    assert (blue.measured["colour"], blue.measured["release"]) == ("blue", V1)
    (rolled,) = records_of(records, "Rollback Procedures", "rollback.roll_back")
    assert rolled.status is EvidenceStatus.PASSED


@pytest.mark.service_env({"DEMO_FAULTS": "missing_text", "DEMO_FAULTS_AFTER_WRITES": "3"})
def test_release_breaking_under_live_traffic_fails_smoke_on_live_and_rolls_back(
    rehearsal: Rehearsal,
) -> None:
    # The journey's text disappears once the release acknowledged 3 writes: the preview's
    # journey (one write) passes, the switch's probe writes more, the journey on live fails.
    state, states, started = run_dag(rehearsal, time_scale=7200, release=V3)
    assert state == "failed"
    assert states["pre_switch_gates.smoke"] == "success"
    assert in_order(started, ["pre_switch_gates.smoke", "switch.move_live_traffic"]), started
    assert_rolled_back(rehearsal, states, started, "post_switch_verification.smoke_via_live")
    records = evidence(rehearsal)
    (before,) = records_of(records, "User Acceptance", "pre_switch_gates.smoke")
    assert before.status is EvidenceStatus.PASSED and before.target == "preview"
    assert [step["status"] for step in before.measured["steps"]] == [200, 201, 200]
    (after,) = records_of(records, "User Acceptance", "post_switch_verification.smoke_via_live")
    assert after.status is EvidenceStatus.FAILED and after.target == "live"
    assert "step 1 GET /: text 'dashboard' not found" in after.log_marker
    assert after.thresholds["steps"][0]["expect_text"] == "dashboard"


def test_missing_scanner_image_fails_the_scan_by_name_and_aborts(rehearsal: Rehearsal) -> None:
    environment = rehearsal.folder.parent / "environments" / "demo.yaml"
    environment.write_text(
        environment.read_text().replace("handoff-scanner:latest", "handoff-scanner:absent")
    )
    state, states, _ = run_dag(rehearsal, time_scale=7200, release=V3)
    assert state == "failed"
    assert states["pre_switch_gates.security_scan"] == "failed"
    assert states["pre_switch_gates.security"] == "success"
    assert states["abort"] == "success"
    (scan,) = records_of(
        evidence(rehearsal), "Security Verification", "pre_switch_gates.security_scan"
    )
    assert scan.status is EvidenceStatus.FAILED and scan.measured["exit_code"] == -1
    assert "'handoff-scanner:absent' is not present on the Docker engine" in scan.summary


def ledger_rows(rehearsal: Rehearsal) -> list[tuple[str, str, int]]:
    """Return (event, status, attempts) of every recorded notification, in order."""
    path = rehearsal.folder.parent / "reports" / "notifications.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT event, status, attempts FROM notifications ORDER BY seq")
        return [(str(e), str(s), int(a)) for e, s, a in rows.fetchall()]


def test_slack_failing_twice_and_a_report_that_cannot_be_written_lose_and_change_nothing(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.tasks import report_step

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    # dag.test() runs tasks in this process: the fault reaches the real report task.
    monkeypatch.setattr(report_step, "write_report", disk_full)
    rehearsal.slack.inbox.fail_next = 2
    state, states, _ = run_dag(
        rehearsal,
        time_scale=7200,
        release=V2,
        deploy_at=datetime.now(UTC).isoformat(),  # no notice: the emergency is what allows it
        emergency_reason="CVE-2026-0001 hotfix",
    )
    assert state == "success", states  # the deployment's outcome is unchanged
    assert states["report"] == "failed"  # red in the grid
    assert states["handover.retire_old_colour"] == "success"
    expected = [
        SUCCESS_EVENTS[0],
        "emergency override of the notice period",
        *SUCCESS_EVENTS[1:],
        "escalation",  # the report that could not be written
    ]
    assert rehearsal.slack.inbox.events() == expected
    assert "CVE-2026-0001 hotfix" in rehearsal.slack.inbox.bodies[1]["text"]
    escalation = json.dumps(rehearsal.slack.inbox.bodies[-1])
    assert "report" in escalation and "No space left" in escalation
    assert rehearsal.slack.inbox.requests == len(expected) + 2
    rows = ledger_rows(rehearsal)
    assert [status for _, status, _ in rows] == ["sent"] * len(expected)
    assert rows[0] == ("NOTICE", "sent", 3)


def test_dora_figures_of_the_rehearsals_equal_what_the_runs_did() -> None:
    # No new run: the rehearsals above (success, abort, rollbacks, aborts, and a last success
    # whose report could not be written) are the sequence; each was read as it ended.
    outcomes = [s.outcome for s in SEQUENCE]
    wanted = [Outcome.LIVE, Outcome.ROLLED_BACK, Outcome.ABORTED, Outcome.LIVE]
    if not all(o in outcomes for o in wanted):
        pytest.skip("needs the success, abort and rollback rehearsals of this module first")
    rest = iter(outcomes)
    assert all(o in rest for o in wanted), outcomes  # success, rollback, abort, success
    for run in SEQUENCE:
        dora = run.dora
        assert dora is not None and run.in_report_dir == [dora]
        assert (dora.outcome, dora.accepted_at) == (run.outcome, run.accepted_at)
        if run.switched_at is None:
            assert dora.live_at is None
        else:
            assert dora.live_at is not None
            assert abs((dora.live_at - run.switched_at).total_seconds()) < 1.0
        if run.restore_seconds is None:
            assert dora.rollback_started is dora.rollback_ended is None
        else:
            assert dora.rollback_started is not None and dora.rollback_ended is not None
            restored = (dora.rollback_ended - dora.rollback_started).total_seconds()
            assert abs(restored - run.restore_seconds) < 1e-6
    runs = [r.dora for r in SEQUENCE if r.dora is not None]
    figures = dora_figures(runs, timedelta(weeks=1))
    live = outcomes.count(Outcome.LIVE)
    assert figures.runs == len(SEQUENCE)
    assert figures.deployments_per_week == live
    assert figures.change_failure_rate == (len(SEQUENCE) - live) / len(SEQUENCE)
    lead = [(r.switched_at - r.accepted_at).total_seconds() for r in SEQUENCE if r.switched_at]
    assert figures.lead_time_median is not None
    assert abs(figures.lead_time_median.total_seconds() - statistics.median(lead)) < 1.0
    restores = [r.restore_seconds for r in SEQUENCE if r.restore_seconds is not None]
    assert figures.time_to_restore_median is not None
    assert abs(figures.time_to_restore_median.total_seconds() - statistics.median(restores)) < 1e-6
