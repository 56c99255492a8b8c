"""The report builder and its renderers, from records made by the test (no Airflow, no Docker)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.catalog import Handoff, load_handoff
from handoff.evidence import Evidence, EvidenceStatus
from handoff.notify.ledger import Entry
from handoff.plan import StepKind
from handoff.report.build import ROLLBACK_SCHEMA, RunRecords, build_report, planned_window
from handoff.report.files import read_report_json, write_report
from handoff.report.html_page import render_html
from handoff.report.markdown import render_markdown
from handoff.report.model import MetricStatus, RunOutcome
from handoff.report.timings import TryTiming, read_timings, record_end, record_start
from handoff.runtime.settings import Answers, RunSettings
from tests.support.handoffs import make_handoffs

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
INJECTED = '<script>alert("x")</script> | <img src=x onerror=alert(1)>'


@pytest.fixture
def handoff(tmp_path: Path) -> Handoff:
    folder = make_handoffs(tmp_path, ["REPORT-1"])
    contract = folder / "REPORT-1.md"
    text = contract.read_text()
    contract.write_text(text.replace("Execute production deployment", f"Execute {INJECTED}", 1))
    loaded = load_handoff(contract)
    assert loaded.deployable, [d.render() for d in loaded.diagnostics]
    return loaded


def timing(task_id: str, start_s: float, end_s: float, state: str = "success") -> TryTiming:
    return TryTiming(
        task_id, 1, T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s), state
    )


def evidence(criterion: str, status: EvidenceStatus, task_id: str) -> Evidence:
    return Evidence(
        criterion=criterion,
        group="Deployment Success Criteria",
        check="health probe",
        status=status,
        summary=f"{criterion}: {status.value}",
        measured={"healthy": 5},
        thresholds={"healthy": 5},
        at=T0.isoformat(),
        task_id=task_id,
        try_number=1,
    )


def records(handoff: Handoff, **changes: object) -> RunRecords:
    assert handoff.plan is not None
    settings = RunSettings(
        deploy_at=T0,
        release="demo:2",
        time_scale=3600.0,
        emergency_reason="",
        answers=Answers(),
        window_closes_at=T0 + timedelta(hours=48),
        notice_lead=timedelta(hours=24),
    )
    base = RunRecords(
        plan=handoff.plan,
        service="ux-portal",
        environment="demo",
        dag_id="handoff_report_1",
        run_id="manual__2026-11-28T09:00:00+00:00",
        base_url="http://af:8080",
        hashes={"contract": "a" * 64, "sidecar": "b" * 64, "environment": "c" * 64},
        settings=settings,
        scaled_deploy_at=T0,
        task_ids=[
            "preflight",
            "deploy.start_release",
            "switch.move_live_traffic",
            "validation_period.watch",
            "abort",
            "rollback.roll_back",
            "finalize",
        ],
        states={
            "preflight": "success",
            "deploy.start_release": "success",
            "switch.move_live_traffic": "success",
            "validation_period.watch": "failed",
            "abort": "skipped",
            "rollback.roll_back": "success",
            "finalize": "failed",
        },
        timings={
            "preflight": timing("preflight", 0, 1),
            "deploy.start_release": timing("deploy.start_release", 2, 12),
            "switch.move_live_traffic": timing("switch.move_live_traffic", 13, 15.5),
            "validation_period.watch": timing("validation_period.watch", 16, 40, "failed"),
            "rollback.roll_back": timing("rollback.roll_back", 41, 42),
        },
        evidence=[
            evidence("Health Checks", EvidenceStatus.PASSED, "pre_switch_gates.health"),
            evidence("Health Checks", EvidenceStatus.FAILED, "post_switch_verification.health"),
            evidence("Data Integrity", EvidenceStatus.PASSED, "post_switch_verification.data"),
            evidence("Not In The Contract", EvidenceStatus.PASSED, "extra"),
        ],
        notifications=[
            Entry("k1", "d", "r", "NOTICE", "pre_deploy_notice", "sent", 1, "", "t1"),
            Entry("k2", "d", "r", "ROLLBACK_FINISHED", "rollback", "failed", 3, INJECTED, "t2"),
        ],
        generated_at=T0 + timedelta(minutes=1),
        results={
            "switch.move_live_traffic": {"probe": {"requests": 412, "failed": 0}},
            "rollback.roll_back": {"measured_seconds": 0.812},
        },
        verdicts={
            "all_clear.watch": {
                "status": "completed",
                "summary": {
                    "window": "all-clear",
                    "samples": 40,
                    "errors": 0,
                    "error_rate_pct": 0.0,
                },
            },
            "validation_period.watch": {
                "status": "breach",
                "summary": {
                    "window": "validation",
                    "samples": 60,
                    "errors": 20,
                    "error_rate_pct": 33.33,
                },
            },
        },
    )
    return base if not changes else RunRecords(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_a_rolled_back_run_reports_each_figure_from_its_record(handoff: Handoff) -> None:
    report = build_report(records(handoff))
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.outcome_detail.endswith("failed: validation_period.watch")  # not finalize
    downtime = report.metric("downtime")
    assert downtime.details == {"failed": 0, "requests": 412}
    assert downtime.status is MetricStatus.MET
    errors = report.metric("error rate")
    assert errors.details["samples"] == 100 and errors.details["errors"] == 20
    assert errors.value == 20.0 and errors.status is MetricStatus.MISSED
    assert report.metric("rollback time").value == 0.812
    assert report.metric("rollback time").status is MetricStatus.MET
    deploy = report.metric("deployment time")
    assert deploy.value == 13.5 and deploy.status is MetricStatus.MET
    assert report.metric("performance").status is MetricStatus.NOT_MEASURED


def test_the_downtime_figure_names_the_slowest_request_during_the_switch(
    handoff: Handoff,
) -> None:
    probe = {"requests": 412, "failed": 0, "slowest_during_switch_ms": 38.4, "steady_p999_ms": 21.0}
    run = records(handoff, results={"switch.move_live_traffic": {"probe": probe}})
    downtime = build_report(run).metric("downtime")
    assert downtime.measured == (
        "0 failed of 412 probe requests during the switch; slowest 38 ms (steady p99.9 21 ms)"
    )
    assert downtime.details["slowest_during_switch_ms"] == 38.4
    assert downtime.status is MetricStatus.MET


def test_criteria_follow_their_evidence_and_never_pass_without_it(handoff: Handoff) -> None:
    report = build_report(records(handoff))
    by_name = {c.name: c for c in report.criteria}
    assert by_name["Health Checks"].status == "failed"  # one failed record is enough
    assert len(by_name["Health Checks"].evidence) == 2
    assert by_name["Data Integrity"].status == "passed"
    assert by_name["Accessibility Compliance"].status == "not verified"
    assert by_name["Accessibility Compliance"].evidence == ()
    assert [e.task_id for e in report.unplanned_evidence] == ["extra"]
    log_url = by_name["Data Integrity"].evidence[0].log_url
    assert log_url.endswith("/tasks/post_switch_verification.data?try_number=1")


def test_outcomes(handoff: Handoff) -> None:
    success = {t: "success" for t in records(handoff).task_ids}
    success.update({"abort": "skipped", "rollback.roll_back": "skipped", "finalize": "skipped"})
    assert build_report(records(handoff, states=success)).outcome is RunOutcome.SUCCEEDED
    aborted = {**success, "deploy.start_release": "failed", "abort": "success"}
    report = build_report(records(handoff, states=aborted))
    assert report.outcome is RunOutcome.ABORTED and "deploy.start_release" in report.outcome_detail


def test_the_timeline_is_planned_against_actual_and_scaled(handoff: Handoff) -> None:
    assert handoff.plan is not None
    report = build_report(records(handoff))
    rows = {r.step: r for r in report.timeline}
    validation = rows[StepKind.VALIDATION_PERIOD.value]
    # Validation runs from the all-clear (1 h) to 24 h; in a 3600x rehearsal 1 s to 24 s.
    assert validation.planned_start == T0 + timedelta(seconds=1)
    assert validation.planned_end == T0 + timedelta(seconds=24)
    assert validation.actual_start == T0 + timedelta(seconds=16)
    assert validation.state == "failed"
    notice_start, notice_end = planned_window(handoff.plan, StepKind.NOTICE, T0, 1.0)
    assert notice_start == notice_end == T0 - timedelta(hours=24)
    tasks = {t.task_id: t for r in report.timeline for t in r.tasks}
    assert tasks["finalize"].state == "failed" and tasks["finalize"].start is None
    assert tasks["preflight"].log_url == (
        "http://af:8080/dags/handoff_report_1/runs/manual__2026-11-28T09%3A00%3A00%2B00%3A00"
        "/tasks/preflight?try_number=1"
    )


def test_html_is_self_contained_and_escapes_everything(handoff: Handoff) -> None:
    page = render_html(build_report(records(handoff)))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!af:8080)""", page)
    assert "<link" not in page and "@import" not in page
    assert page.count("<svg") == 1 and "planned" in page
    assert "412" in page and "20.00 %" in page


def test_markdown_escapes_contract_text_in_tables(handoff: Handoff) -> None:
    text = render_markdown(build_report(records(handoff)))
    assert "\\<script>" in text and "&lt;" not in text  # backslash-escaped, no entity
    objective_row = next(line for line in text.splitlines() if line.startswith("| Objective"))
    assert objective_row.count(" | ") == 1  # the injected pipe is escaped, not a new column
    assert "# Deployment report: REPORT-1: ROLLED BACK" in text


def test_files_round_trip_as_json(handoff: Handoff, tmp_path: Path) -> None:
    report = build_report(records(handoff))
    paths = write_report(report, tmp_path / "run")
    assert sorted(p.name for p in paths) == ["report.html", "report.json", "report.md"]
    data = read_report_json(tmp_path / "run")
    assert data is not None and data == json.loads(json.dumps(report.to_json()))
    assert data["outcome"] == "rolled back"
    assert data["metrics"][1]["status"] == "met"


def test_timings_record_the_first_start_and_the_last_end_of_the_latest_try(
    tmp_path: Path,
) -> None:
    record_start(tmp_path, "group.task", 1, T0)
    record_start(tmp_path, "group.task", 1, T0 + timedelta(seconds=5))  # resumed after defer
    record_end(tmp_path, "group.task", 1, T0 + timedelta(seconds=9), "failed")
    record_start(tmp_path, "group.task", 2, T0 + timedelta(seconds=10))
    timings = read_timings(tmp_path)
    assert timings["group.task"] == TryTiming(
        "group.task", 2, T0 + timedelta(seconds=10), None, None
    )
    record_end(tmp_path, "group.task", 2, T0 + timedelta(seconds=12), "success")
    assert read_timings(tmp_path)["group.task"].seconds == 2.0


def test_the_schema_section_shows_both_phases_and_the_rollbacks_decision(
    handoff: Handoff,
) -> None:
    expand, contract = "deploy.expand_schema", "handover.contract_schema"
    base = records(handoff)
    colours = {"blue": {"release": "demo:1.0.0", "ships_up_to": 1, "schema_version": 2}}
    with_schema = records(
        handoff,
        task_ids=[*base.task_ids, expand, contract],
        states={**base.states, expand: "success", contract: "upstream_failed"},
        results={
            **base.results,
            expand: {"applied": ["0002_origin.sql"], "schema_version": 2, "colours": colours},
            ROLLBACK_SCHEMA: {
                "decision": "refused",
                "reason": "the database ran 0003, which demo:1.0.0 does not ship",
                "old_colour_schema": {"schema_version": 3},
            },
        },
    )
    rows = {row.phase: row for row in build_report(with_schema).schema}
    assert (rows["expand"].state, rows["expand"].steps) == ("success", ("0002_origin.sql",))
    assert rows["expand"].detail == "blue: demo:1.0.0 ships up to 1"
    assert rows["contract"].state == "upstream_failed" and rows["contract"].schema_version is None
    assert (rows["rollback"].state, rows["rollback"].schema_version) == ("refused", 3)
    markdown = render_markdown(build_report(with_schema))
    assert "## Schema migrations" in markdown and "**refused**" in markdown
    # Without the migration tasks (every DAG without service.database.migrations): no section.
    assert build_report(base).schema == ()
    assert "Schema migrations" not in render_markdown(build_report(base))
