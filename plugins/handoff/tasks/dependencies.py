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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
    judge_asset,
    judge_capacity,
    judge_engine_version,
    judge_third_party,
)
from handoff.checks.http import exchange
from handoff.contract.model import Criterion
from handoff.evidence import EvidenceStatus
from handoff.plan import CheckKind, StepKind
from handoff.runtime.engine_factory import resolve
from handoff.target import DeploymentTarget, TargetError, ThirdPartyCall
from handoff.tasks.context import handoff_from, include_dir
from handoff.tasks.database import database_findings
from handoff.tasks.evidence_records import fail_on_failed, record_criteria
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


def connection_url(conn_id: str) -> str:
    """Return the URL an Airflow connection names: scheme, host, port and path only.

    Its login, password and extra are never read. Raises LookupError naming what is missing.
    """
    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as e:  # Airflow raises its own not-found type, varying by version
        raise LookupError(f"connection {conn_id} is not defined ({type(e).__name__})") from e
    host = str(connection.host or "")
    if "://" in host:
        parts = urlsplit(host)
        scheme, netloc, path = parts.scheme, parts.netloc.rpartition("@")[2], parts.path
    else:
        conn_type = str(connection.conn_type or "")
        scheme = str(connection.schema or "") if connection.schema in ("http", "https") else ""
        scheme = scheme or ("http" if conn_type == "http" else "https")
        netloc, path = host, ""
    if not netloc:
        raise LookupError(f"connection {conn_id} names no host")
    if connection.port and ":" not in netloc:
        netloc = f"{netloc}:{connection.port}"
    return urlunsplit((scheme, netloc, path or "/", "", ""))


def third_party_findings(handoff: Handoff, target: DeploymentTarget, release: str) -> list[Finding]:
    """GET each listed third party from the release's network; a finding per service."""
    assert handoff.acceptance is not None
    services = handoff.acceptance.checks.dependencies.third_parties
    if not services:
        return [
            Finding(
                EvidenceStatus.NOT_VERIFIED,
                "no third-party service listed (checks.dependencies.third_parties)",
            )
        ]
    findings: list[Finding] = []
    calls, wanted = [], {}
    for service in services:
        try:
            url = service.url or connection_url(str(service.connection))
        except LookupError as e:
            findings.append(
                Finding(
                    EvidenceStatus.FAILED,
                    f"third party {service.name}: {e}",
                    {"name": service.name, "connection": service.connection},
                    {"connection": "exists, with a host"},
                )
            )
            continue
        calls.append(ThirdPartyCall(service.name, url, service.timeout.total_seconds()))
        wanted[service.name] = service
    if not calls:
        return findings
    try:
        network, answers = target.call_third_parties(release, calls)
    except TargetError as e:
        return [
            *findings,
            Finding(EvidenceStatus.FAILED, f"third parties: not asked: {e}", {}, {}),
        ]
    for answer in answers:
        service = wanted[answer.name]
        log.info(
            "third party %s: HTTP %s in %.0f ms from %s%s",
            answer.name,
            answer.status,
            answer.seconds * 1000,
            network,
            f" ({answer.error})" if answer.error else "",
        )
        findings.append(
            judge_third_party(answer, service.expected, network, service.timeout.total_seconds())
        )
    return findings


def _resolve(handoff: Handoff, path: str) -> Path:
    """Resolve a TLS file against the folder holding `environments/` (`include/`)."""
    return resolve(include_dir(handoff), path)


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
    release: str,
) -> list[tuple[Criterion, list[Finding]]]:
    """Measure and judge every dependency preflight proves; return them by the item proven.

    The third parties and the database (with `service.database` only) are judged for
    ``release``, the run's.
    """
    assert handoff.acceptance is not None
    found = [
        (Dependency.CAPACITY, capacity_findings(handoff, target)),
        (Dependency.ACCESS, access_findings(handoff)),
        (Dependency.TLS, tls_findings(handoff, now, deploy_at)),
        (Dependency.THIRD_PARTY, third_party_findings(handoff, target, release)),
    ]
    if handoff.acceptance.service.database is not None:
        found.append((Dependency.DATABASE, database_findings(handoff.acceptance, target, release)))
    return [(criterion_of(handoff, dependency), findings) for dependency, findings in found]


def static_assets_gate(contract_path: str) -> dict[str, Any]:
    """GET each listed static asset through the preview: 200, cache headers, its sha256.

    A pre-switch gate, not preflight: only the release on the preview serves its assets. A
    failure aborts like every pre-switch gate (the new colour is removed, nothing went live).
    """
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None and handoff.environment is not None
    router = handoff.environment.router
    findings = []
    for asset in handoff.acceptance.checks.dependencies.static_assets:
        answer = exchange(router.host, router.preview_port, asset.path)
        log.info(
            "asset %s: HTTP %s, %s bytes, Cache-Control %r, sha256 %s",
            asset.path,
            answer.status,
            answer.size,
            answer.header("Cache-Control"),
            answer.sha256[:12] or "-",
        )
        findings.append(judge_asset(asset, answer))
    item = criterion_of(handoff, Dependency.STATIC_ASSETS)
    record_criteria(handoff, [(item, CheckKind.DEPENDENCIES, findings)], target="preview")
    fail_on_failed(findings, "static assets via preview")
    return {"findings": [f.summary for f in findings]}
