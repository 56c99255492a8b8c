"""A report with every section filled, and a record of every kind of evidence the checks make.

The measured values have the shapes the checks really record (handoff.checks.*, the
rollback and the readiness records of handoff.tasks); tests/fixtures/reports keeps older
real ones. Used by the unit tests of the renderers and by the axe audit of the HTML report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handoff.checks.dependencies import GROUP as DEPENDENCIES
from handoff.evidence import Evidence, EvidenceStatus
from handoff.plan import CheckKind
from handoff.report.model import ChartRow, DriftRow

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).isoformat()
POSTURE = {
    "image_id": "sha256:" + "4" * 64,
    "exposed_ports": ["8000/tcp"],
    "published_ports": [],
    "privileged": False,
    "added_capabilities": [],
}
# (check, measured) of every kind of record, as the checks write them.
EVERY_KIND: list[tuple[CheckKind, dict[str, Any]]] = [
    (
        CheckKind.ZERO_DOWNTIME,
        {
            "acknowledged_writes": 28,
            "failed": 0,
            "requests": 122,
            "slowest_during_switch_ms": 122.1,
            "steady_p999_ms": 49.6,
            "switch_s": 0.625,
        },
    ),
    (CheckKind.HEALTH, {"colour": "green", "healthy": 5, "requests": 5}),
    (
        CheckKind.PERFORMANCE,
        {
            "attempt_p95_ms": [9.8],
            "attempts": 1,
            "baseline_p95_ms": 8.7,
            "change_pct": 12.6,
            "error_rate_pct": 0.0,
            "errors": 0,
            "p50_ms": 3.8,
            "p95_ms": 9.8,
            "path": "/",
            "requests": 50,
        },
    ),
    (CheckKind.SECURITY, {"exit_code": 0, "scanner": "handoff-scanner:latest", "summary": "ok"}),
    (CheckKind.SECURITY, {"paths": ["/", "/health"], "problems": {"/": "Server names a version"}}),
    (
        CheckKind.SECURITY,
        {"release": POSTURE, "old": {**POSTURE, "image_id": "sha256:" + "6" * 64}},
    ),
    (CheckKind.SECURITY, {"image_id": POSTURE["image_id"], "release": "demo:1.1.0"}),
    (
        CheckKind.ACCESSIBILITY,
        {"path": "/", "violations": 1, "rules": {"image-alt": 1}, "old_violations": 0},
    ),
    (
        CheckKind.SMOKE,
        {
            "journey": "save a preference",
            "steps": [
                {"step": 1, "method": "GET", "path": "/", "status": 200, "ms": 7.0},
                {"step": 2, "method": "POST", "path": "/api/records", "status": 201, "ms": 2.4},
            ],
        },
    ),
    (CheckKind.MONITORING, {"series": 12, "status": 200}),
    (CheckKind.MONITORING, {"jobs_up": ["haproxy", "service"], "series_names": ["up", "x"]}),
    (
        CheckKind.MONITORING,
        {"rules": ["HighErrorRate"], "load_ms": 812, "test_alert_delivered": True},
    ),
    (
        CheckKind.MONITORING,
        {
            "p95_s": {"/": 0.0098, "/api/optimize": 0.0059},
            "latency_series": ["/", "/api/optimize"],
            "resources": {"green": {"cpu_cores": 0.012, "resident_bytes": 41_943_040}},
        },
    ),
    (CheckKind.MONITORING, {"uses": {"optimize": 12.0, "save": 3.0}}),
    (CheckKind.MONITORING, {"rules": ["AuthFailures"], "auth_failures": 0, "refused_requests": 2}),
    (
        CheckKind.ROLLBACK_READINESS,
        {
            "live": "green",
            "previous": "blue",
            "previous_release": "demo:1.0.0",
            "previous_running": True,
            "router_in_sync": True,
        },
    ),
    (CheckKind.ROLLBACK_READINESS, {"restored": "demo:1.0.0", "seconds": 0.4}),
    (
        CheckKind.DATA_INTEGRITY,
        {
            "acknowledged": 28,
            "missing": 0,
            "missing_examples": [],
            "stored_after": 29,
            "stored_before": 1,
        },
    ),
    (
        CheckKind.DATA_INTEGRITY,
        {
            "exit_code": 1,
            "timed_out": False,
            "seconds": 0.84,
            "colour": "green",
            "release": "demo:1.2.0",
            "output": ["record 7 does not match its body"],
        },
    ),
    (
        CheckKind.CONFIGURATION,
        {
            "hashes": {"contract": "0" * 64, "sidecar": "7" * 64, "environment": "1" * 64},
            "live_before": {"colour": "blue", "container_id": "3" * 64, "release": "demo:1.0.0"},
        },
    ),
    (CheckKind.COMMUNICATION, {"failed": [], "sent": ["NOTICE", "DEPLOY_STARTED"]}),
]
# The contract's Dependencies items, as preflight proves them.
DEPENDENCY_KINDS: list[tuple[str, dict[str, Any]]] = [
    (
        "Infrastructure",
        {
            "engine_version": "26.1.5",
            "total_memory": 16_624_349_184,
            "available_memory": 9_126_805_504,
            "free_disk": 43_150_770_176,
            "colour_limit": 536_870_912,
            "live_limit": 536_870_912,
            "live_usage": 41_943_040,
        },
    ),
    (
        "Access Control",
        {
            "connections": {
                "handoff_slack": {"exists": True, "type": "slackwebhook", "answered": None},
                "prometheus": {"exists": True, "type": "http", "answered": True},
            }
        },
    ),
    (
        "Domain/SSL",
        {
            "domain": "portal.example",
            "names": ["portal.example"],
            "subject": "CN=portal.example",
            "issuer": "CN=Handoff Demo CA",
            "not_before": "2026-11-01T00:00:00+00:00",
            "not_after": "2027-02-01T00:00:00+00:00",
            "chain_expires": "2027-02-01T00:00:00+00:00",
            "serial": "1f2e",
        },
    ),
]


def every_kind_of_evidence(hostile: str) -> list[Evidence]:
    """Return a record of every kind, one of them summarised with hostile text."""
    records = [
        Evidence(
            criterion="Health Checks" if index else f"Health Checks {hostile}",
            group="Deployment Success Criteria",
            check=kind.value,
            status=EvidenceStatus.PASSED if index % 3 else EvidenceStatus.FAILED,
            summary=f"{kind.value}: what was measured" if index else hostile,
            measured=measured,
            at=AT,
            task_id=f"gates.{kind.name.lower()}",
            try_number=1,
        )
        for index, (kind, measured) in enumerate(EVERY_KIND)
    ]
    records += [
        Evidence(
            criterion=name,
            group=DEPENDENCIES,
            check=CheckKind.DEPENDENCIES.value,
            status=EvidenceStatus.PASSED,
            summary=f"{name}: proven at preflight",
            measured=measured,
            at=AT,
            task_id="preflight",
            try_number=1,
        )
        for name, measured in DEPENDENCY_KINDS
    ]
    return records


def drift(hostile: str) -> list[DriftRow]:
    """Return drift rows: an edited sidecar and a deleted contract, one with hostile text."""
    return [
        DriftRow("sidecar", f"handoffs/{hostile}.deploy.yaml", "a" * 64, "b" * 64, AT, "deploy"),
        DriftRow("contract", "handoffs/REPORT-1.md", "c" * 64, "", AT, hostile),
    ]


def charts(hostile: str) -> list[ChartRow]:
    """Return the windows' charts of a run around AT: error rate and p95 per colour."""
    start = datetime.fromisoformat(AT).timestamp()
    ramp = tuple((start + 5 * i, 0.0 if i < 6 else 33.0) for i in range(10))
    flat = tuple((start + 5 * i, 9.5 + i % 3) for i in range(10))
    return [
        ChartRow("error rate through live", "%", (("blue", ()), ("green", ramp))),
        ChartRow(f"p95 latency of {hostile}", "ms", (("blue", flat),)),
    ]
