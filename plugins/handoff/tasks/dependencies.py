"""Preflight's proof of the contract's Dependencies: measure, then judge (`checks.dependencies`).

Each finding is recorded under the contract's own Dependencies item it proves (group
"Dependencies"), so the report lists it there. Preflight fails on any failed finding, after
recording, so the run stops with nothing deployed and the failure is escalated like every
preflight failure. Connection passwords and extras are never read into a message: only ids,
types and the address dialled.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.checks.certificate import CertificateFiles, Window, judge_certificate
from handoff.checks.dependencies import (
    GROUP,
    ConnectionCheck,
    Dependency,
    item_for,
    judge_access,
    judge_capacity,
    judge_engine_version,
)
from handoff.contract.model import Criterion
from handoff.evidence import EvidenceStatus
from handoff.plan import StepKind
from handoff.target import DeploymentTarget, TargetError
from handoff.tasks.database import database_findings
from handoff.tasks.notify import slack_conn_id

log = logging.getLogger(__name__)

_DIAL_TIMEOUT_S = 3.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


def criterion_of(handoff: Handoff, dependency: Dependency) -> Criterion:
    """Return the contract's Dependencies item a dependency proves, as a record's criterion."""
    assert handoff.plan is not None
    name, line = item_for(dependency, handoff.plan.contract.dependencies)
    return Criterion(GROUP, name, "", False, line)


def capacity_findings(handoff: Handoff, target: DeploymentTarget) -> list[Finding]:
    """Measure the engine and judge memory, disk and version for a second colour."""
    assert handoff.acceptance is not None
    settings = handoff.acceptance.checks.dependencies.capacity
    try:
        capacity = target.capacity()
    except TargetError as e:
        return [Finding(EvidenceStatus.FAILED, f"capacity: not measurable: {e}", {}, {})]
    return [
        judge_capacity(capacity, settings),
        judge_engine_version(capacity.engine_version, settings.min_engine_version),
    ]


def _address(host: str, port: int | None, conn_type: str) -> tuple[str, int] | None:
    """Return where a connection's host points, or None when it names nothing to dial."""
    if not host:
        return None
    if "://" in host:
        parts = urlsplit(host)
        if not parts.hostname:
            return None
        return parts.hostname, parts.port or port or _DEFAULT_PORTS.get(parts.scheme, 443)
    if port:
        return host, port
    return (host, 443) if "http" in conn_type or "slack" in conn_type else None


def check_connection(conn_id: str) -> ConnectionCheck:
    """Find a connection and dial its host; never touches its password or extra."""
    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as e:  # Airflow raises its own not-found type, varying by version
        return ConnectionCheck(conn_id, False, detail=f"not defined: {type(e).__name__}")
    conn_type = str(connection.conn_type or "")
    address = _address(str(connection.host or ""), connection.port, conn_type)
    if address is None:
        return ConnectionCheck(conn_id, True, conn_type)
    dialled = f"{address[0]}:{address[1]}"
    try:
        with socket.create_connection(address, timeout=_DIAL_TIMEOUT_S):
            pass
    except OSError as e:
        return ConnectionCheck(conn_id, True, conn_type, dialled, False, type(e).__name__)
    return ConnectionCheck(conn_id, True, conn_type, dialled, True)


def access_findings(handoff: Handoff) -> list[Finding]:
    """Check the Slack connection and every connection the sidecar names."""
    assert handoff.acceptance is not None
    slack = slack_conn_id(handoff)
    wanted = [slack, *handoff.acceptance.checks.dependencies.access.connections]
    return [judge_access([check_connection(c) for c in dict.fromkeys(wanted)], notify_only=slack)]


def _resolve(handoff: Handoff, path: str) -> Path:
    """Resolve a TLS file against the folder holding `environments/` (`include/`)."""
    given = Path(path)
    return given if given.is_absolute() else handoff.contract_path.resolve().parent.parent / given


def tls_findings(handoff: Handoff, now: datetime, deploy_at: datetime) -> list[Finding]:
    """Judge the live listener's certificate through deploy time + monitoring + margin."""
    assert handoff.acceptance is not None and handoff.environment is not None
    assert handoff.plan is not None
    settings = handoff.acceptance.checks.dependencies.tls
    if settings is None:
        return [
            Finding(
                EvidenceStatus.NOT_VERIFIED,
                "no domain configured (checks.dependencies.tls): the router serves plain HTTP",
                {},
                {},
            )
        ]
    files = handoff.environment.router.tls
    if files is None:
        return [
            Finding(
                EvidenceStatus.FAILED,
                f"checks.dependencies.tls names {settings.domain} but the environment's "
                "router.tls names no certificate",
                {"domain": settings.domain},
                {},
            )
        ]
    # Real (unscaled) time: a rehearsal compresses the waits, not the certificate's life.
    monitoring = handoff.plan.step(StepKind.MONITORING_PERIOD).offset or timedelta(0)
    window = Window(now, deploy_at, deploy_at + monitoring, settings.margin)
    try:
        key_path = _resolve(handoff, files.key_file)
        material = CertificateFiles(
            ca_pem=_resolve(handoff, files.ca_file).read_bytes(),
            chain_pem=_resolve(handoff, files.cert_file).read_bytes(),
            key_pem=key_path.read_bytes(),
            key_mode=key_path.stat().st_mode,
        )
    except OSError as e:
        return [
            Finding(
                EvidenceStatus.FAILED,
                f"certificate files not readable: {type(e).__name__} on {e.filename}",
                {"domain": settings.domain},
                {},
            )
        ]
    return [judge_certificate(material, settings.domain, window)]


def dependency_records(
    handoff: Handoff,
    target: DeploymentTarget,
    now: datetime,
    deploy_at: datetime,
    release: str | None = None,
) -> list[tuple[Criterion, list[Finding]]]:
    """Measure and judge every dependency; return the findings by the item they prove.

    The database (with `service.database` only) is judged for ``release``, the run's.
    """
    assert handoff.acceptance is not None
    found = [
        (Dependency.CAPACITY, capacity_findings(handoff, target)),
        (Dependency.ACCESS, access_findings(handoff)),
        (Dependency.TLS, tls_findings(handoff, now, deploy_at)),
    ]
    if handoff.acceptance.service.database is not None:
        release = release or handoff.acceptance.service.image
        found.append((Dependency.DATABASE, database_findings(handoff.acceptance, target, release)))
    return [(criterion_of(handoff, dependency), findings) for dependency, findings in found]
