"""Turn a check's findings into evidence records for the criteria bound to it.

One record per criterion and finding (e.g. per endpoint), written as the task's evidence
file; each is also logged as one line starting with ``EVIDENCE`` (the record's
``log_marker``), so a reviewer finds the decision in the task log from the report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException

from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.contract.model import Criterion
from handoff.evidence import Evidence, EvidenceStatus, EvidenceStore, report_dir_of, run_dir
from handoff.plan import CheckKind

log = logging.getLogger(__name__)


def criteria_for(handoff: Handoff, kind: CheckKind) -> list[Criterion]:
    """Return the contract's criteria bound to a kind of check."""
    assert handoff.plan is not None
    return [b.criterion for b in handoff.plan.checks if b.kind is kind]


def marker(criterion: str, status: EvidenceStatus, summary: str) -> str:
    """Return the log line of one record, e.g. 'EVIDENCE "Health Checks": passed — ...'."""
    return f'EVIDENCE "{criterion}": {status.value} — {summary}'


def record(
    handoff: Handoff,
    findings_by_kind: Sequence[tuple[CheckKind, Sequence[Finding]]],
    target: str = "",
) -> list[Evidence]:
    """Log and store findings for every criterion bound to their kind; return the records."""
    return record_criteria(
        handoff,
        [
            (criterion, kind, findings)
            for kind, findings in findings_by_kind
            for criterion in criteria_for(handoff, kind)
        ],
        target,
    )


def record_criteria(
    handoff: Handoff,
    items: Sequence[tuple[Criterion, CheckKind, Sequence[Finding]]],
    target: str = "",
) -> list[Evidence]:
    """Log and store this task's records (replacing an earlier try's); return them."""
    context = get_current_context()
    ti = context["ti"]
    at = datetime.now(UTC).isoformat()
    records = []
    for criterion, kind, findings in items:
        for finding in findings:
            line = marker(criterion.name, finding.status, finding.summary)
            log.info("%s", line)
            records.append(
                Evidence(
                    criterion=criterion.name,
                    group=criterion.group,
                    check=kind.value,
                    status=finding.status,
                    summary=finding.summary,
                    target=target,
                    measured=finding.measured,
                    thresholds=finding.thresholds,
                    at=at,
                    task_id=ti.task_id,
                    try_number=int(ti.try_number or 0),
                    log_marker=line,
                )
            )
    dag_run = context["dag_run"]
    store = EvidenceStore(run_dir(report_dir_of(handoff), dag_run.dag_id, dag_run.run_id))
    store.write(ti.task_id, records)
    return records


def fail_on_failed(findings: Sequence[Finding], what: str) -> None:
    """Fail the task (no retry: a retry measures the same release) when a finding failed."""
    failed = [f.summary for f in findings if f.failed]
    if failed:
        raise AirflowFailException(f"{what} failed: " + "; ".join(failed))
