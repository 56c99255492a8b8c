"""Reports of the success, abort and rollback rehearsals, checked against the run's own records.

Each test runs the seed contract with dag.test() on the real Docker engine and router (the
rehearsal fixtures of tests/integration/dags), then reads the report the `report` task wrote
and compares its figures with the evidence records, the notification ledger, Airflow's task
instances and XComs, and what Slack (the local receiver) was told.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.catalog import load_handoff
from handoff.evidence import EvidenceStore, report_dir_of, run_dir
from handoff.notify.ledger import Ledger
from tests.integration.dags.test_rehearsal import SEED_ID, Rehearsal
from tests.support.airflow_env import loader_dagbag
from tests.support.axe_audit import audit_html
from tests.support.demo import V2
from tests.support.handoffs import rehearsal_conf

pytestmark = pytest.mark.integration


def run_with_report(rehearsal: Rehearsal, **conf: Any) -> tuple[Any, dict[str, Any], Path]:
    """Run the DAG; return the dag run, its JSON report and the run's folder."""
    bag = loader_dagbag()
    assert bag.import_errors == {}
    run = bag.dags[rehearsal.dag_id].test(run_conf=rehearsal_conf(**conf))
    handoff = load_handoff(rehearsal.folder / f"{SEED_ID}.md")
    folder = run_dir(report_dir_of(handoff), rehearsal.dag_id, run.run_id)
    for fmt in ("md", "html", "json"):
        assert (folder / f"report.{fmt}").is_file(), fmt
    return run, json.loads((folder / "report.json").read_text()), folder


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    """Return an XCom of the run, as Airflow stored it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).first()
        return XComModel.deserialize_value(row) if row else None


def check_common(run: Any, report: dict[str, Any], folder: Path, rehearsal: Rehearsal) -> None:
    """Check what every report must show, whatever the outcome."""
    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    assert str(instances["report"].state) == "success"
    # Header: the run and the fingerprints of what it executed.
    header = report["header"]
    assert (header["handoff_id"], header["run_id"]) == (SEED_ID, run.run_id)
    handoff = load_handoff(rehearsal.folder / f"{SEED_ID}.md")
    assert handoff.plan is not None
    assert header["contract_sha256"] == handoff.plan.contract.source.sha256
    assert len(header["sidecar_sha256"]) == len(header["environment_sha256"]) == 64
    # Timeline: every task's state equals Airflow's; recorded starts equal Airflow's own.
    tasks = {t["task_id"]: t for step in report["timeline"] for t in step["tasks"]}
    assert set(tasks) == set(instances) - {"report"}
    for task_id, row in tasks.items():
        ti = instances[task_id]
        assert row["state"] == str(ti.state), task_id
        if row["start"] is not None:
            assert ti.start_date is not None
            recorded = datetime.fromisoformat(row["start"])
            assert abs((recorded - ti.start_date).total_seconds()) < 1.0, task_id
            assert row["end"] is not None, task_id
        assert f"/dags/{run.dag_id}/runs/" in row["log_url"] and task_id in row["log_url"]
    # Criteria: exactly the evidence records of the run, criterion by criterion.
    records = EvidenceStore(folder).read_all()
    shown = [(c["name"], e) for c in report["criteria"] for e in c["evidence"]]
    shown += [("", e) for e in report["unplanned_evidence"]]
    assert sorted((e["task_id"], e["summary"], e["status"]) for _, e in shown) == sorted(
        (r.task_id, r.summary, r.status.value) for r in records
    )
    for criterion in report["criteria"]:
        if not criterion["evidence"]:
            assert criterion["status"] == "not verified", criterion["name"]
    # Notifications: exactly the ledger's entries of this run, in order.
    ledger = Ledger(report_dir_of(handoff) / "notifications.sqlite").entries(run.dag_id, run.run_id)
    assert [(n["event"], n["status"], n["attempts"]) for n in report["notifications"]] == [
        (e.event, e.status, e.attempts) for e in ledger
    ]
    assert len(report["notifications"]) == len(rehearsal.slack.inbox.bodies)
    # The three renderings tell the same outcome.
    outcome = report["outcome"]
    assert f": {outcome.upper()}" in (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    assert "<svg" in html and "http" not in html.split("<body>")[0].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert audit_html(html) == {}  # WCAG 2.1 A/AA and axe's best practice
    markdown = (folder / "report.md").read_text()
    assert not re.search(r"&(#x?[0-9a-f]+|[a-z]+);", markdown, re.IGNORECASE)  # no entity


def metric(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in report["metrics"] if m["name"] == name)


def switch_figures(rehearsal: Rehearsal) -> tuple[int, int]:
    """Return (requests, failed) of the zero-downtime probe as Slack was told."""
    body = next(b for b in rehearsal.slack.inbox.bodies if "requests," in json.dumps(b))
    match = re.search(r"(\d+) requests, (\d+) failed", json.dumps(body))
    assert match is not None
    return int(match[1]), int(match[2])


def test_success_report(rehearsal: Rehearsal) -> None:
    run, report, folder = run_with_report(rehearsal, time_scale=7200, release=V2)
    assert str(run.state) == "success"  # the report task did not change the outcome
    assert report["outcome"] == "succeeded"
    check_common(run, report, folder, rehearsal)
    downtime = metric(report, "downtime")
    probe = xcom(run, "switch.move_live_traffic")["probe"]
    figures = ("failed", "requests", "slowest_during_switch_ms", "steady_p999_ms")
    assert downtime["details"] == {key: probe[key] for key in figures}
    assert downtime["details"]["slowest_during_switch_ms"] > 0
    assert (probe["requests"], probe["failed"]) == switch_figures(rehearsal)
    assert downtime["status"] == "met"
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


@pytest.mark.service_env({"DEMO_MODE": "never_ready"})
def test_abort_report(rehearsal: Rehearsal) -> None:
    run, report, folder = run_with_report(rehearsal, time_scale=7200, release=V2)
    assert str(run.state) == "failed"
    assert report["outcome"] == "aborted"
    assert "deploy.start_release" in report["outcome_detail"]
    check_common(run, report, folder, rehearsal)
    for name in ("deployment time", "downtime", "error rate", "rollback time"):
        assert metric(report, name)["status"] == "not measured", name
    events = [n["event"] for n in report["notifications"]]
    assert events == ["NOTICE", "DEPLOY_STARTED", "ESCALATION", "ABORTED"]


@pytest.mark.service_env(
    {"DEMO_MODE": "erroring", "DEMO_ERROR_RATE": "100", "DEMO_ERROR_AFTER": "35"}
)
def test_rollback_report(rehearsal: Rehearsal) -> None:
    run, report, folder = run_with_report(rehearsal, time_scale=1440, release=V2)
    assert str(run.state) == "failed"
    assert report["outcome"] == "rolled back"
    assert "validation_period.watch" in report["outcome_detail"]
    check_common(run, report, folder, rehearsal)
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


def test_a_report_that_cannot_be_written_is_visible_and_changes_no_outcome(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.tasks import report_step

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    # dag.test() runs tasks in this process: the fault reaches the real report task.
    monkeypatch.setattr(report_step, "write_report", disk_full)
    bag = loader_dagbag()
    run = bag.dags[rehearsal.dag_id].test(run_conf=rehearsal_conf(time_scale=7200, release=V2))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states  # the deployment's outcome is unchanged
    assert states["report"] == "failed"  # red in the grid
    assert states["handover.retire_old_colour"] == "success"
    escalation = rehearsal.slack.inbox.bodies[-1]
    assert "report" in json.dumps(escalation) and "No space left" in json.dumps(escalation)
