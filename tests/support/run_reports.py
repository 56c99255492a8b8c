"""What a rehearsal's report must show, checked against the run's own records.

The rehearsals of tests/integration/dags read the report their `report` task wrote and
compare its figures with the evidence records, the notification ledger, Airflow's task
instances and XComs, and what Slack (the local receiver) was told.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.catalog import load_handoff
from handoff.evidence import EvidenceStore, report_dir_of, run_dir
from handoff.notify.ledger import Ledger
from tests.support.axe_audit import audit_html


@dataclass(frozen=True)
class RunReport:
    """The JSON report of one run and the run's folder (which holds all three renderings)."""

    report: dict[str, Any]
    folder: Path


def read_report(run: Any, contract: Path) -> RunReport:
    """Return the report the run wrote, after checking its three renderings exist."""
    folder = run_dir(report_dir_of(load_handoff(contract)), run.dag_id, run.run_id)
    for fmt in ("md", "html", "json"):
        assert (folder / f"report.{fmt}").is_file(), fmt
    return RunReport(json.loads((folder / "report.json").read_text()), folder)


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


def check_common(run: Any, written: RunReport, contract: Path, slack_bodies: list[Any]) -> None:
    """Check what every report must show, whatever the outcome."""
    report, folder = written.report, written.folder
    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    assert str(instances["report"].state) == "success"
    # Header: the run and the fingerprints of what it executed.
    header = report["header"]
    handoff = load_handoff(contract)
    assert handoff.plan is not None and handoff.contract is not None
    assert (header["handoff_id"], header["run_id"]) == (handoff.contract.handoff_id, run.run_id)
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
    # Criteria and dependencies: exactly the evidence records of the run, item by item.
    records = EvidenceStore(folder).read_all()
    shown = [(c["name"], e) for c in report["criteria"] for e in c["evidence"]]
    shown += [("", e) for e in report["unplanned_evidence"]]
    # The contract's Dependencies items, proven at preflight, have a section of their own.
    shown += [(d["name"], e) for d in report["dependencies"] for e in d["evidence"]]
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
    assert len(report["notifications"]) == len(slack_bodies)
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
    """Return one of the report's success metrics by name."""
    return next(m for m in report["metrics"] if m["name"] == name)


def switch_figures(slack_bodies: list[Any]) -> tuple[int, int]:
    """Return (requests, failed) of the zero-downtime probe as Slack was told."""
    body = next(b for b in slack_bodies if "requests," in json.dumps(b))
    match = re.search(r"(\d+) requests, (\d+) failed", json.dumps(body))
    assert match is not None
    return int(match[1]), int(match[2])
