"""Post-switch records of what is known about rollback readiness, monitoring and communication.

Rollback readiness is judged from the engine: the previous colour still runs, warm, and the
router's persisted state matches the running one, so a rollback is a router switch. The
monitoring criteria are judged by the watch windows later in the run; what is known right
after the switch is recorded here: whether live serves metrics, and what the watches hold
the release to. The communication plan's record comes from the notification ledger. A
criterion no check matches is recorded "not verified" here, so every criterion of a run that
gets this far has a record. None of these records ever fails the task: notifications and
observations never cause a rollback.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException

from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.checks.http import exchange
from handoff.evidence import EvidenceStatus
from handoff.plan import CheckKind
from handoff.plan.graph import SWITCH_TASK
from handoff.tasks import monitoring
from handoff.tasks.context import engine_of, handoff_from, live_client
from handoff.tasks.evidence_records import criteria_for, record, record_criteria
from handoff.tasks.notify import ledger_of

log = logging.getLogger(__name__)


def rollback_readiness(contract_path: str) -> dict[str, Any]:
    """Check that the previous colour is warm and the router would survive a restart."""
    handoff = handoff_from(contract_path)
    state = engine_of(handoff).status()
    live, previous = state.live, state.previous
    target = handoff.plan.threshold("rollback time").threshold if handoff.plan else None
    thresholds = {"previous_colour": "running", "router": "persisted == running"}
    if target is not None:
        thresholds["rollback_s"] = f"{target.value:g}"
    if previous is None or live is None or previous.colour is live.colour:
        finding = Finding(
            EvidenceStatus.NOT_VERIFIED,
            "no previous colour to roll back to (first deployment)",
            {"colours": [c.colour.value for c in state.colours]},
            thresholds,
        )
    else:
        ready = previous.running and state.router.in_sync
        finding = Finding(
            EvidenceStatus.PASSED if ready else EvidenceStatus.FAILED,
            f"previous colour {previous.colour.value} ({previous.release}) "
            f"{'running, warm' if previous.running else previous.status}; router state "
            f"{'persisted' if state.router.in_sync else 'NOT persisted'}: a rollback is a "
            f"router switch (target {target.describe() if target else 'none'})",
            {
                "previous": previous.colour.value,
                "previous_release": previous.release,
                "previous_running": previous.running,
                "router_in_sync": state.router.in_sync,
                "live": live.colour.value,
            },
            thresholds,
        )
    record(handoff, [(CheckKind.ROLLBACK_READINESS, [finding])], target="live")
    if finding.failed:
        raise AirflowFailException(f"rollback readiness failed: {finding.summary}")
    return {"status": finding.status.value, "summary": finding.summary}


def _metrics_finding(handoff: Handoff) -> Finding:
    assert handoff.acceptance is not None and handoff.environment is not None
    path = handoff.acceptance.checks.monitoring.metrics_path
    if path is None:
        return Finding(
            EvidenceStatus.NOT_VERIFIED, "no metrics_path in the sidecar: metrics not checked"
        )
    router = handoff.environment.router
    answer = exchange(router.host, router.live_port, path, tls=live_client(handoff))
    series = [
        line for line in answer.text.splitlines() if line.strip() and not line.startswith("#")
    ]
    ok = answer.status == 200 and bool(series)
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        f"{path} on live: HTTP {answer.status}, {len(series)} metric series",
        {"status": answer.status, "series": len(series)},
        {"status": 200, "series": ">= 1"},
    )


def _watch_finding(handoff: Handoff) -> Finding:
    assert handoff.acceptance is not None and handoff.plan is not None
    error_rate = [t for t in handoff.plan.thresholds if t.name == "error rate"]
    budgets = {e.path: e.p95_ms for e in handoff.acceptance.checks.endpoints}
    limit = error_rate[0].threshold.describe() if error_rate else "the default"
    # A sentence, not a dict repr: the report shows this text as it is.
    described = ", ".join(f"{path} {ms:g} ms" for path, ms in budgets.items()) or "none"
    return Finding(
        EvidenceStatus.NOT_VERIFIED,
        f"judged by the validation and monitoring watches (error rate {limit}, "
        f"p95 budgets {described}); a breach rolls back; the service's own tooling is not "
        f"verified",
        {},
        {"error_rate": limit, "p95_budgets_ms": budgets},
    )


def _communication_finding(handoff: Handoff) -> Finding:
    dag_run = get_current_context()["dag_run"]
    entries = ledger_of(handoff).entries(dag_run.dag_id, dag_run.run_id)
    failed = [e.event for e in entries if e.status != "sent"]
    sent = [e.event for e in entries if e.status == "sent"]
    status = EvidenceStatus.FAILED if failed or not entries else EvidenceStatus.PASSED
    return Finding(
        status,
        f"{len(sent)} of {len(entries)} planned messages sent so far"
        + (f"; not delivered: {', '.join(failed)}" if failed else ""),
        {"sent": sent, "failed": failed},
        {"undelivered": 0},
    )


def observability(contract_path: str) -> dict[str, Any]:
    """Record monitoring, communication and unmatched criteria; never fails the deployment."""
    handoff = handoff_from(contract_path)
    metrics = _metrics_finding(handoff)
    watched = _watch_finding(handoff)
    verified = monitoring.verify(handoff, live_colour=_live_colour())
    # Each monitoring criterion by what it names, from Prometheus when it watches the service;
    # else the metrics endpoint answers "application monitoring" and the others are judged
    # by the watches later in the run (not verified here).
    items = []
    for c in criteria_for(handoff, CheckKind.MONITORING):
        found = verified.finding_for(c.name) if verified else None
        fallback = metrics if "application" in c.name.lower() else watched
        items.append((c, CheckKind.MONITORING, [found or fallback]))
    items += [
        (c, CheckKind.COMMUNICATION, [_communication_finding(handoff)])
        for c in criteria_for(handoff, CheckKind.COMMUNICATION)
    ]
    unmatched = Finding(EvidenceStatus.NOT_VERIFIED, "no automatic check matches this criterion")
    items += [
        (c, CheckKind.NOT_VERIFIED, [unmatched])
        for c in criteria_for(handoff, CheckKind.NOT_VERIFIED)
    ]
    records = record_criteria(handoff, items, target="live")
    result: dict[str, Any] = {"records": [r.log_marker for r in records]}
    if verified:
        result["coverage"] = verified.coverage
        result["rules"] = verified.rules
    return result


def _live_colour() -> str | None:
    switched = get_current_context()["ti"].xcom_pull(task_ids=SWITCH_TASK)
    colour = switched.get("to_colour") if isinstance(switched, dict) else None
    return str(colour) if colour else None
