"""The validation gates as task callables: measure, decide, record evidence, fail on failure.

Pre-switch gates measure the release through the router's preview listener (and the live
colour through the live one for a baseline); post-switch ones measure live. A failure before
the switch leads to the abort path, after it to the rollback group (wired in render.dag).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from handoff.acceptance.sidecar import Acceptance, JourneyStep
from handoff.catalog import Handoff
from handoff.checks import Finding, accessibility, performance, security, smoke
from handoff.checks.http import Exchange, exchange
from handoff.checks.registry import spec_of
from handoff.evidence import EvidenceStatus
from handoff.plan import CheckKind
from handoff.plan.graph import DEPLOY_TASK
from handoff.target import Colour, ColourPosture
from handoff.tasks.context import engine_of, handoff_from, live_client, pulled, run_settings
from handoff.tasks.data_integrity import finding_on_release
from handoff.tasks.evidence_records import fail_on_failed, record

log = logging.getLogger(__name__)

# The contract's tolerances when a contract states none.
_DEFAULT_TOLERANCE_PCT = 10.0
_DEFAULT_ERROR_RATE_PCT = 1.0


def _listener_port(handoff: Handoff, listener: str) -> int:
    assert handoff.environment is not None
    router = handoff.environment.router
    return router.preview_port if listener == "preview" else router.live_port


def _threshold_value(handoff: Handoff, name: str, default: float) -> float:
    assert handoff.plan is not None
    found = [t for t in handoff.plan.thresholds if t.name == name]
    return found[0].threshold.value if found else default


def _live_is_old_colour(handoff: Handoff) -> bool:
    """Tell whether something other than the release is live (a baseline exists)."""
    state = engine_of(handoff).status()
    deployed = (pulled(DEPLOY_TASK) or {}).get("colour")
    return state.live is not None and state.live.colour.value != deployed


def performance_gate(contract_path: str) -> dict[str, Any]:
    """Load each endpoint on live (baseline) then on preview; judge p95 and error rate."""
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None and handoff.environment is not None
    settings = handoff.acceptance.checks.performance
    requests = settings.requests or handoff.environment.probes.latency_samples
    host = handoff.environment.router.host
    has_baseline = _live_is_old_colour(handoff)
    findings = []
    preview, live = _listener_port(handoff, "preview"), _listener_port(handoff, "live")
    connections = settings.connections
    live_tls = live_client(handoff)
    for endpoint in handoff.acceptance.checks.endpoints:

        def measure_once(path: str = endpoint.path) -> performance.Measurement:
            if not has_baseline:
                return performance.measure(host, preview, path, requests, connections), None
            return performance.measure_against_baseline(
                host, preview, live, path, requests, connections, live_tls=live_tls
            )

        budget = performance.Budget(
            p95_ms=endpoint.p95_ms,
            tolerance_pct=_threshold_value(handoff, "performance", _DEFAULT_TOLERANCE_PCT),
            noise_floor_ms=settings.noise_floor_ms,
            error_rate_pct=_threshold_value(handoff, "error rate", _DEFAULT_ERROR_RATE_PCT),
        )
        findings.append(
            performance.confirmed(endpoint.path, measure_once, budget, settings.attempts)
        )
    log.info(
        "performance: %s requests per endpoint and listener over %s connections",
        requests,
        settings.connections,
    )
    record(handoff, [(CheckKind.PERFORMANCE, findings)], target="preview")
    fail_on_failed(findings, "performance")
    return {"findings": [f.summary for f in findings]}


def _colour_postures(handoff: Handoff) -> tuple[str, ColourPosture, ColourPosture | None]:
    """Return the release's image tag id and the postures of the new and old colours."""
    deployed = pulled(DEPLOY_TASK) or {}
    colour = Colour(deployed.get("colour", "blue"))
    target = engine_of(handoff)
    new = target.posture(colour)
    if new is None:
        raise AirflowFailException(f"the release's colour {colour.value} has no container")
    old = target.posture(colour.other)
    release = str(deployed.get("release") or "")
    if not release:
        state = target.status().colour(colour)
        release = state.release if state else ""
    # The running image id is what counts; a tag that names nothing now is no finding.
    tag_id = (target.image_id(release) if release else None) or ""
    return tag_id, new, old


def security_gate(contract_path: str) -> dict[str, Any]:
    """Check headers on preview, the container versus the old colour, and image pinning."""
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None and handoff.environment is not None
    checks = handoff.acceptance.checks
    paths = list(
        dict.fromkeys(
            ["/", handoff.acceptance.service.health_path]
            + [e.path for e in checks.endpoints]
            + [p.path for p in checks.pages]
        )
    )
    host, port = handoff.environment.router.host, _listener_port(handoff, "preview")
    answers = {path: exchange(host, port, path) for path in paths}
    tag_id, new, old = _colour_postures(handoff)
    release = run_settings().release
    findings = [
        security.judge_headers(answers, checks.security.required_headers),
        security.judge_posture(new, old),
        security.judge_pinning(release, new.image_id, tag_id or None),
    ]
    record(handoff, [(CheckKind.SECURITY, findings)], target="preview")
    fail_on_failed(findings, "security")
    return {"image_id": new.image_id, "findings": [f.summary for f in findings]}


def accessibility_gate(contract_path: str) -> dict[str, Any]:
    """Audit the configured pages on preview and, for comparison, on live (the old colour)."""
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None and handoff.environment is not None
    checks = handoff.acceptance.checks
    host = handoff.environment.router.host
    paths = [p.path for p in checks.pages]
    # Chromium trusts its own store, not the environment's CA: with TLS on live the old
    # colour's baseline is not fetched (verification is never turned off to get it).
    with_old = _live_is_old_colour(handoff) and live_client(handoff) is None
    preview = [f"http://{host}:{_listener_port(handoff, 'preview')}{p}" for p in paths]
    live = (
        [f"http://{host}:{_listener_port(handoff, 'live')}{p}" for p in paths] if with_old else []
    )
    results = accessibility.audit(preview + live)
    new_results, old_results = results[: len(paths)], results[len(paths) :]
    findings = [
        accessibility.judge(
            path,
            new_results[i],
            old_results[i] if old_results else None,
            checks.accessibility.max_violations,
        )
        for i, path in enumerate(paths)
    ]
    record(handoff, [(CheckKind.ACCESSIBILITY, findings)], target="preview")
    fail_on_failed(findings, "accessibility")
    return {"findings": [f.summary for f in findings]}


def _step(step: JourneyStep) -> smoke.Step:
    expected = step.expect_status if isinstance(step.expect_status, list) else [step.expect_status]
    return smoke.Step(step.method, step.path, tuple(expected), step.expect_text, step.json_body)


def smoke_findings(handoff: Handoff, listener: str) -> list[Finding]:
    """Run the sidecar's smoke journeys through a listener; return a finding per journey."""
    assert handoff.acceptance is not None and handoff.environment is not None
    host, port = handoff.environment.router.host, _listener_port(handoff, listener)
    tls = live_client(handoff) if listener == "live" else None

    def send(step: smoke.Step) -> Any:
        return exchange(host, port, step.path, step.method, step.json_body, tls=tls)

    return [
        smoke.run_journey(j.name, [_step(s) for s in j.steps], send, listener)
        for j in handoff.acceptance.checks.journeys
    ]


def smoke_gate(contract_path: str, listener: str) -> dict[str, Any]:
    """Run the sidecar's smoke journeys through a listener."""
    handoff = handoff_from(contract_path)
    findings = smoke_findings(handoff, listener)
    record(handoff, [(CheckKind.SMOKE, findings)], target=listener)
    fail_on_failed(findings, f"smoke journeys via {listener}")
    return {"findings": [f.summary for f in findings]}


def integrity_gate(contract_path: str) -> dict[str, Any]:
    """Run the sidecar's integrity command beside the release, before the switch."""
    handoff = handoff_from(contract_path)
    finding = finding_on_release(handoff, engine_of(handoff))
    record(handoff, [(CheckKind.DATA_INTEGRITY, [finding])], target="preview")
    fail_on_failed([finding], "data integrity on the release")
    return {"findings": [finding.summary]}


def not_verified(contract_path: str, kind: str, reason: str) -> dict[str, Any]:
    """Record the criteria of a check that has nothing to measure: never reported passed."""
    handoff = handoff_from(contract_path)
    finding = Finding(EvidenceStatus.NOT_VERIFIED, reason)
    record(handoff, [(CheckKind(kind), [finding])])
    return {"status": EvidenceStatus.NOT_VERIFIED.value, "reason": reason}


@dataclass(frozen=True)
class _ListenerProbe:
    """What a registered kind's `measure` is given (handoff.checks.spec.Probe)."""

    acceptance: Acceptance
    listener: str
    host: str
    port: int

    def get(self, path: str) -> Exchange:
        """Send one GET through the listener; never raise for network errors."""
        return exchange(self.host, self.port, path)


def measured_gate(contract_path: str, kind: str, listener: str) -> dict[str, Any]:
    """Run a registered kind's `measure` through a listener, record it, fail on a failure."""
    handoff = handoff_from(contract_path)
    assert handoff.acceptance is not None and handoff.environment is not None
    check = CheckKind(kind)
    spec = spec_of(check)
    if spec is None or spec.measure is None:
        raise AirflowFailException(f"the check {kind!r} declares nothing to measure")
    probe = _ListenerProbe(
        handoff.acceptance,
        listener,
        handoff.environment.router.host,
        _listener_port(handoff, listener),
    )
    findings = list(spec.measure(probe))
    record(handoff, [(check, findings)], target=listener)
    fail_on_failed(findings, f"{kind} via {listener}")
    return {"findings": [f.summary for f in findings]}


def task_callable(ref: str) -> Callable[..., Any]:
    """Return the task callable a registered gate names as "module:function" in handoff.tasks."""
    module, _, name = ref.partition(":")
    if not module.startswith("handoff.tasks.") or not name:
        raise ValueError(f"a gate's task must be 'handoff.tasks.<module>:<function>', not {ref!r}")
    found: object = getattr(importlib.import_module(module), name, None)
    if not callable(found):
        raise ValueError(f"{ref!r} names no function")
    return found
