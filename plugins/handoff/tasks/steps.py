"""The steps of a handoff's timeline, as task callables: each logs the story of its step.

Every step finds the state on the deployment target (`handoff.target`; for Docker + HAProxy
in container labels and the router), never in memory, so a retried task converges. Failures
before the switch lead to the abort path, failures after it to the rollback group (both wired
in `handoff.render.dag`). Steps announce their progress in Slack through
`handoff.tasks.notify`; a notification never fails a step.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from handoff.bluegreen.loadgen import LoadGenerator
from handoff.bluegreen.probe import get as probe_get
from handoff.bluegreen.probe import until_streak
from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.contract.quantities import format_seconds
from handoff.evidence import EvidenceStatus, report_dir_of, run_dir
from handoff.jsonable import to_jsonable
from handoff.notify import messages
from handoff.plan import CheckKind, StepKind
from handoff.plan.graph import DEPLOY_TASK, EXPAND_TASK, PREFLIGHT_TASK, SWITCH_TASK
from handoff.runtime.settings import RunSettingsError, resolve_run_settings
from handoff.runtime.snapshot import environment_file_of
from handoff.runtime.snapshot import take as take_snapshot
from handoff.target import Colour, DeploymentTarget, InvalidState, RetireResult, TargetError
from handoff.tasks import data_integrity as integrity
from handoff.tasks import dependencies, migrations, monitoring, scrape_registration, service_lease
from handoff.tasks.context import (
    SNAPSHOT_KEY,
    engine_of,
    handoff_from,
    live_client,
    live_handoff,
    pulled,
    run_settings,
)
from handoff.tasks.evidence_records import criteria_for, fail_on_failed, record, record_criteria
from handoff.tasks.notify import announce, check_slack_connection

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def preflight(contract_path: str) -> dict[str, Any]:
    """Check contract, sidecar, run settings, engine and router; resolve the run's settings."""
    context = get_current_context()
    handoff = live_handoff(contract_path)  # the only task that reads the live files
    assert handoff.plan is not None and handoff.acceptance is not None
    now = _now()
    try:
        settings = resolve_run_settings(
            handoff.plan, dict(context["params"]), now, environment_file_of(handoff)
        )
    except RunSettingsError as e:
        raise AirflowFailException(f"run settings rejected: {e}") from e
    check_slack_connection(handoff)
    log.info(
        "handoff %s: release %s, deploy at %s, window closes %s",
        handoff.plan.handoff_id,
        settings.release,
        settings.deploy_at.isoformat(),
        settings.window_closes_at.isoformat(),
    )
    if settings.rehearsal:
        log.info("rehearsal: every wait and window is divided by %g", settings.time_scale)
    if settings.emergency_reason:
        log.warning(
            "EMERGENCY deploy with %s of notice (contract asks %s): %s",
            format_seconds(max((settings.deploy_at - now).total_seconds(), 0)),
            format_seconds(settings.notice_lead.total_seconds()),
            settings.emergency_reason,
        )
    target = engine_of(handoff)
    try:
        state = target.status()
    except TargetError as e:
        raise AirflowFailException(f"engine or router not usable: {e}") from e
    live = state.live
    if live is None:
        log.info("first deployment of %s: nothing is live yet", state.service)
    else:
        log.info("live: %s runs %s", live.colour.value, live.release)
        _check_live_health(handoff)
    proven = dependencies.dependency_records(
        handoff, target, now, settings.deploy_at, settings.release
    )
    # In a rehearsal the wait for the deploy time is compressed like every other wait.
    real_wait = max(settings.deploy_at - now, timedelta(0))
    wait = real_wait / settings.time_scale
    log.info(
        "waiting for the deploy time: %s real%s, until %s",
        format_seconds(real_wait.total_seconds()) if real_wait else "no wait",
        f", {format_seconds(wait.total_seconds())} scaled" if settings.rehearsal else "",
        (now + wait).isoformat(),
    )
    # The run's snapshot: every later task works on these bytes, never on the live files.
    ti = context["ti"]
    monitoring_end = handoff.plan.step(StepKind.MONITORING_PERIOD).offset or timedelta(0)
    snapshot = take_snapshot(
        handoff,
        run_dir(report_dir_of(handoff), ti.dag_id, ti.run_id),
        ti.dag_id,
        ti.run_id,
        settings.to_xcom(),
        now + wait + settings.scaled(monitoring_end),
    )
    hashes = dict(snapshot.hashes)
    live_before = (
        {
            "colour": live.colour.value,
            "release": live.release,
            "fingerprint": live.fingerprint,
            "container_id": live.container_id,
        }
        if live
        else None
    )
    configuration = [_configuration_finding(hashes, live_before)]
    config_criteria = criteria_for(handoff, CheckKind.CONFIGURATION)
    dependency_findings = [f for _, found in proven for f in found]
    deps = CheckKind.DEPENDENCIES
    record_criteria(
        handoff,
        [(c, CheckKind.CONFIGURATION, configuration) for c in config_criteria]
        + [(item, deps, found) for item, found in proven]
        # A criterion a sidecar binds to `dependencies` gets every dependency's finding.
        + [(c, deps, dependency_findings) for c in criteria_for(handoff, deps)],
    )
    fail_on_failed(dependency_findings, "dependencies (nothing was deployed)")
    return {
        "settings": settings.to_xcom(),
        "wait_until": (now + wait).isoformat(),
        "hashes": hashes,
        "live_before": live_before,
        SNAPSHOT_KEY: str(snapshot.folder),
    }


def _configuration_finding(hashes: dict[str, str], live: dict[str, str] | None) -> Finding:
    """Record the versions of contract, sidecar and environment and the config to revert to."""
    versions = ", ".join(f"{name} sha256 {digest[:12]}" for name, digest in hashes.items())
    revert = (
        f"revert target: {live['colour']} runs {live['release']} "
        f"(config fingerprint {live['fingerprint']}), kept warm until handover"
        if live
        else "nothing live to revert to (first deployment)"
    )
    return Finding(
        EvidenceStatus.PASSED if all(hashes.values()) else EvidenceStatus.FAILED,
        f"{versions}; {revert}",
        {"hashes": hashes, "live_before": live},
        {"recorded": ["contract", "sidecar", "environment", "live colour config"]},
    )


def _check_live_health(handoff: Handoff) -> None:
    assert handoff.environment is not None and handoff.acceptance is not None
    router = handoff.environment.router
    path, tls = handoff.acceptance.service.health_path, live_client(handoff)
    answer = probe_get(router.host, router.live_port, path, 5.0, tls)
    log.info(
        "live health: HTTP %s from %s in %.0f ms",
        answer.status,
        answer.server,
        answer.seconds * 1000,
    )
    if not 200 <= answer.status < 300:
        raise AirflowFailException(
            f"the live colour is not healthy before the deployment (HTTP {answer.status}, "
            f"{answer.error or 'no error'}); nothing was deployed"
        )


def pre_deploy_notice(contract_path: str) -> dict[str, Any]:
    """Send the pre-deploy notice (and any emergency override); it never blocks the deployment."""
    handoff = handoff_from(contract_path)
    settings = run_settings()
    lead = format_seconds(settings.notice_lead.total_seconds())
    message = (
        f"{handoff.plan.handoff_id if handoff.plan else ''}: release {settings.release} deploys at "
        f"{settings.deploy_at:%Y-%m-%d %H:%M} UTC ({lead} notice per the contract)"
    )
    if settings.emergency_reason:
        message += f"; EMERGENCY: {settings.emergency_reason}"
    log.info("pre-deploy notice: %s", message)
    contract = handoff.plan.contract if handoff.plan else None
    assert contract is not None and handoff.acceptance is not None
    announce(
        handoff,
        lambda ref: messages.notice(
            ref,
            service=handoff.acceptance.service.name if handoff.acceptance else "",
            release=settings.release,
            deploy_at=settings.deploy_at,
            lead=lead,
            sender=contract.sender.name,
            owners=[r.name for r in contract.recipients],
            objective=contract.objective[:500],
        ),
    )
    if settings.emergency_reason:
        given = format_seconds(max((settings.deploy_at - _now()).total_seconds(), 0))
        announce(
            handoff,
            lambda ref: messages.emergency_override(
                ref,
                release=settings.release,
                deploy_at=settings.deploy_at,
                reason=settings.emergency_reason,
                given=given,
                lead=lead,
            ),
        )
    return {"message": message, "sent_at": _now().isoformat()}


def deploy_release(contract_path: str) -> dict[str, Any]:
    """Lease the service for this run, start the release in the idle colour, wait until ready.

    While another handoff holds the service the task reschedules itself (see
    `handoff.tasks.service_lease`) and deploys nothing.
    """
    handoff = handoff_from(contract_path)
    assert handoff.environment is not None
    settings = run_settings()
    engine = engine_of(handoff)
    service_lease.hold_for_deploy(engine, settings.release, handoff.environment.lease)
    log.info("deploying %s into the idle colour of %s", settings.release, engine.service)
    announce(
        handoff,
        lambda ref: messages.deploy_started(ref, service=engine.service, release=settings.release),
    )
    try:
        result = engine.deploy(settings.release)
    except TargetError as e:
        raise AirflowFailException(f"deploy failed: {e}") from e
    log.info(
        "ready: %s runs %s (%s), %s/%s healthy answers via preview in %.1f s",
        result.colour.value,
        result.release,
        result.outcome.value,
        result.ready.healthy,
        result.ready.requests,
        result.seconds,
    )
    scrape = scrape_registration.register(handoff, engine)
    return {**to_jsonable(asdict(result)), "scrape": scrape}


def health_gate(contract_path: str, listener: str) -> dict[str, Any]:
    """Require N consecutive healthy answers from the new colour through a listener."""
    handoff = handoff_from(contract_path)
    assert handoff.environment is not None and handoff.acceptance is not None
    deployed = pulled(DEPLOY_TASK) or {}
    colour = Colour(deployed.get("colour", "blue"))
    router = handoff.environment.router
    port = router.preview_port if listener == "preview" else router.live_port
    tls = live_client(handoff) if listener == "live" else None
    probes = handoff.environment.probes
    path = handoff.acceptance.service.health_path
    result = until_streak(
        lambda: probe_get(router.host, port, path, 5.0, tls),
        lambda answer: answer.healthy_from(colour),
        probes.healthy_answers,
        probes.ready_timeout.total_seconds(),
        0.2,
    )
    log.info(
        "health via %s: %s healthy of %s answers from %s, threshold %s consecutive -> %s",
        listener,
        result.healthy,
        result.requests,
        colour.value,
        probes.healthy_answers,
        "passed" if result.reached else "FAILED",
    )
    finding = Finding(
        EvidenceStatus.PASSED if result.reached else EvidenceStatus.FAILED,
        f"{path} via {listener}: {result.healthy} healthy of {result.requests} answers from "
        f"{colour.value}, {probes.healthy_answers} consecutive required"
        + ("" if result.reached else f"; last answer {result.last}"),
        {"healthy": result.healthy, "requests": result.requests, "colour": colour.value},
        {
            "consecutive_healthy": probes.healthy_answers,
            "within_s": probes.ready_timeout.total_seconds(),
        },
    )
    record(handoff, [(CheckKind.HEALTH, [finding])], target=listener)
    if not result.reached:
        raise AirflowFailException(f"health via {listener} failed: last answer {result.last}")
    return {
        "status": "passed",
        "listener": listener,
        "healthy": result.healthy,
        "requests": result.requests,
    }


def switch_traffic(contract_path: str) -> dict[str, Any]:
    """Move live traffic to the new colour under a zero-downtime probe."""
    handoff = handoff_from(contract_path)
    assert handoff.environment is not None
    settings = run_settings()
    engine = engine_of(handoff)
    router = handoff.environment.router
    spec = integrity.live_probe(handoff, router.host, router.live_port)
    announce(
        handoff,
        lambda ref: messages.phase(
            ref,
            step="pre_switch_gates",
            title=f"pre-switch gates passed for {settings.release}",
            detail="Every pre-switch gate passed on the preview listener; "
            "switching live traffic now.",
        ),
    )
    invariants = integrity.store_invariants(handoff, router.host, router.live_port)
    stored_before = None if invariants is None else invariants["count"]
    with LoadGenerator(spec) as load:
        switch_started = time.monotonic()
        try:
            switched_at = _now()  # the windows count from here (watch.operator)
            result = engine.switch(settings.release)
        except TargetError as e:
            raise AirflowFailException(f"switch failed: {e}") from e
        switch_done = time.monotonic()
        time.sleep(0.5)  # let the probe see answers from the new colour after the switch
    report = load.report
    assert report is not None
    failures = len(report.failures)
    # A stall is downtime too, even when the request answers in the end: the slowest request
    # that started while the switch ran, against the steady p99.9 of the same probe.
    slowest_ms = round(report.slowest_between(switch_started, switch_done) * 1000, 1)
    steady_ms = round(report.steady_quantile(switch_started, switch_done) * 1000, 1)
    downtime = Finding(
        EvidenceStatus.FAILED if failures else EvidenceStatus.PASSED,
        f"{failures} of {report.requests} requests failed through live during the switch "
        f"{result.from_colour.value if result.from_colour else 'none'} -> "
        f"{result.to_colour.value} ({result.seconds:.2f} s); threshold 0; slowest request "
        f"during the switch {slowest_ms:.0f} ms (steady p99.9 {steady_ms:.0f} ms)",
        {
            "requests": report.requests,
            "failed": failures,
            "switch_s": round(result.seconds, 3),
            "acknowledged_writes": len(report.acknowledged_writes),
            "slowest_during_switch_ms": slowest_ms,
            "steady_p999_ms": steady_ms,
        },
        {"failed_requests": 0},
    )
    record(handoff, [(CheckKind.ZERO_DOWNTIME, [downtime])], target="live")
    log.info(
        "switch %s -> %s in %.2f s; zero-downtime probe: %s requests, %s failed (threshold 0), "
        "%s writes acknowledged; slowest request during the switch %.0f ms, steady p99.9 %.0f ms",
        result.from_colour.value if result.from_colour else "none",
        result.to_colour.value,
        result.seconds,
        report.requests,
        failures,
        len(report.acknowledged_writes),
        slowest_ms,
        steady_ms,
    )
    if failures:
        raise AirflowFailException(f"downtime during the switch: {report.describe_failures()}")
    announce(
        handoff,
        lambda ref: messages.switch_done(
            ref,
            release=settings.release,
            from_colour=result.from_colour.value if result.from_colour else "none",
            to_colour=result.to_colour.value,
            seconds=result.seconds,
            requests=report.requests,
            failed=failures,
        ),
    )
    return {
        **to_jsonable(asdict(result)),
        "probe": {
            "requests": report.requests,
            "failed": failures,
            "slowest_during_switch_ms": slowest_ms,
            "steady_p999_ms": steady_ms,
        },
        "acknowledged_writes": list(report.acknowledged_writes),
        "stored_before": stored_before,
        "invariants_before": invariants,
        "switched_at": switched_at.isoformat(),
    }


def data_integrity(contract_path: str) -> dict[str, Any]:
    """Check data integrity on live after the switch, as the sidecar's checks choose."""
    handoff = handoff_from(contract_path)
    switched = pulled(SWITCH_TASK) or {}
    acknowledged = set(switched.get("acknowledged_writes", []))
    findings = integrity.findings_after(
        handoff,
        engine_of(handoff),
        "switch",
        acknowledged,
        switched.get("stored_before"),
        switched.get("invariants_before"),
    )
    record(handoff, [(CheckKind.DATA_INTEGRITY, findings)], target="live")
    fail_on_failed(findings, "data integrity")
    verified = any(f.status is EvidenceStatus.PASSED for f in findings)
    return {
        "status": "passed" if verified else EvidenceStatus.NOT_VERIFIED.value,
        "acknowledged": len(acknowledged),
        "missing": 0,
        "findings": [f.summary for f in findings],
    }


def all_clear(contract_path: str) -> dict[str, Any]:
    """Announce the all-clear after the first watch window passed."""
    handoff = handoff_from(contract_path)
    settings = run_settings()
    message = f"{handoff.plan.handoff_id if handoff.plan else ''}: all clear for {settings.release}"
    log.info("all-clear: %s", message)
    watched = handoff.plan.step(StepKind.ALL_CLEAR).offset if handoff.plan else None
    announce(
        handoff,
        lambda ref: messages.all_clear(
            ref,
            release=settings.release,
            watched=format_seconds(watched.total_seconds()) if watched else "the all-clear window",
        ),
    )
    return {"message": message, "sent_at": _now().isoformat()}


def _removed(step: str, result: RetireResult) -> dict[str, Any]:
    """Log which colour a step removed and which stays live; return the result for XCom."""
    log.info(
        "%s: removed %s (%s); %s stays live, untouched",
        step,
        result.retired_colour.value if result.retired_colour else "nothing",
        result.retired_release,
        result.live_colour.value,
    )
    return to_jsonable(asdict(result))  # type: ignore[no-any-return]


def retire_old_colour(contract_path: str) -> dict[str, Any]:
    """Retire the colour that is no longer live: the handover is complete; free the service."""
    handoff = handoff_from(contract_path)
    engine = engine_of(handoff)
    result = engine.retire_old()
    monitoring.remove(handoff, "handover")
    service_lease.release(engine, "handover")
    settings = run_settings()
    retired = (
        f"{result.retired_colour.value} ({result.retired_release})"
        if result.retired_colour
        else "nothing"
    )
    announce(
        handoff,
        lambda ref: messages.handover_complete(ref, release=settings.release, retired=retired),
    )
    return _removed("handover", result)


def abort_release(contract_path: str) -> dict[str, Any]:
    """Remove the new colour that never went live; touch nothing else; announce the abort.

    The abort holds the service's lease while it works (taking it if this run never got that
    far, so no other handoff deploys meanwhile) and gives it back at the end. When another
    handoff holds it, this run deployed nothing (it waited, or failed before its deploy) and
    the idle colour is that handoff's: nothing is touched.
    """
    handoff = handoff_from(contract_path)
    engine = engine_of(handoff)
    release = _release_or_unknown()
    lease = service_lease.take(engine, "abort")
    if not lease.acquired:
        log.info(
            "abort: the service is leased by another handoff, %s; this run deployed nothing, "
            "so nothing is removed or touched",
            lease.holder.describe(),
        )
        announce(handoff, lambda ref: messages.aborted(ref, release=release, live="untouched"))
        return {"status": "not the lease holder", "aborted": None, "holder": lease.holder.owner}
    try:
        try:
            result = engine.abort()
        except InvalidState as e:
            state = engine.status()
            if state.live is not None:
                raise
            log.info("abort on a first deployment (nothing live): %s", e)
            announce(handoff, lambda ref: messages.aborted(ref, release=release, live="nothing"))
            return {"status": "nothing live", "aborted": None}
    finally:
        # The abort is this run's last touch of the service, whether it worked or not.
        service_lease.release(engine, "abort")
    live = f"{result.live_colour.value}"
    announce(handoff, lambda ref: messages.aborted(ref, release=release, live=live))
    return _removed("abort", result)


def _release_or_unknown() -> str:
    """Return the run's release; 'the release' when preflight did not resolve it."""
    try:
        return run_settings().release
    except AirflowFailException:
        return "the release"


def rollback_release(contract_path: str) -> dict[str, Any]:
    """Switch back to the previous colour if the switch happened; measure against the target."""
    handoff = handoff_from(contract_path)
    engine = engine_of(handoff)
    if not pulled(SWITCH_TASK):
        if _switch_task_failed():
            # Live never moved and no abort follows a failed switch: this run is done with the
            # service. When the deploy or a gate failed instead, the abort path runs (perhaps
            # right now) and gives the lease back itself once the new colour is removed.
            service_lease.release(engine, "rollback (the switch failed before moving traffic)")
        raise AirflowSkipException("the switch never happened: nothing to roll back")
    release = _release_or_unknown()
    before = pulled(PREFLIGHT_TASK) or {}
    previous = (before.get("live_before") or {}).get("release", "the previous release")
    schema = _rollback_schema(handoff, engine)
    announce(
        handoff, lambda ref: messages.rollback_started(ref, release=release, to_release=previous)
    )
    router = handoff.environment.router if handoff.environment else None
    assert router is not None
    # The release being rolled back may not even list its store: never let that stop a rollback.
    invariants = integrity.store_invariants(handoff, router.host, router.live_port)
    stored_before = None if invariants is None else invariants["count"]
    spec = integrity.live_probe(handoff, router.host, router.live_port)
    started = time.monotonic()
    with LoadGenerator(spec) as load:
        try:
            result = engine.rollback()
        finally:
            # Done or failed, the rollback is this run's last touch of the service.
            service_lease.release(engine, "rollback")
        seconds = time.monotonic() - started
        time.sleep(0.5)  # writes answered by the restored colour count too
    report = load.report
    assert report is not None
    target = handoff.plan.threshold("rollback time").threshold if handoff.plan else None
    announce(
        handoff,
        lambda ref: messages.rollback_finished(
            ref,
            restored=result.release,
            seconds=seconds,
            target=target.describe() if target else "none",
            met=target is None or target.allows(seconds),
        ),
    )
    log.info(
        "rollback: live %s -> %s (%s) in %.2f s; target %s -> %s",
        result.from_colour.value if result.from_colour else "none",
        result.to_colour.value,
        result.release,
        seconds,
        target.describe() if target else "none",
        "met" if target is None or target.allows(seconds) else "MISSED",
    )
    met = target is None or target.allows(seconds)
    rolled_back = Finding(
        EvidenceStatus.PASSED if met else EvidenceStatus.FAILED,
        f"rollback {result.from_colour.value if result.from_colour else 'none'} -> "
        f"{result.to_colour.value} ({result.release}) in {seconds:.2f} s, target "
        f"{target.describe() if target else 'none'}",
        {"seconds": round(seconds, 3), "restored": result.release},
        {"rollback_s": target.value if target else None},
    )
    # Writes acknowledged by either colour while the rollback ran must be in the store after;
    # the integrity command runs beside the restored colour. A failure is recorded, never raised.
    intact = integrity.findings_after(
        handoff, engine, "rollback", set(report.acknowledged_writes), stored_before, invariants
    )
    record(
        handoff,
        [(CheckKind.ROLLBACK_READINESS, [rolled_back]), (CheckKind.DATA_INTEGRITY, intact)],
        target="live",
    )
    monitoring.remove(handoff, "rollback")  # after the switch back: never delays it
    done = {**to_jsonable(asdict(result)), "measured_seconds": round(seconds, 3)}
    return {**done, "schema": schema} if schema else done


def _rollback_schema(handoff: Handoff, engine: DeploymentTarget) -> dict[str, Any] | None:
    """Refuse the rollback, before anything moves, when the old colour's schema is gone.

    Only with `service.database.migrations`. The decision is pushed (XCom key ``schema``) and
    recorded either way, so the report says whether the rollback went ahead or was refused;
    a refusal fails the task (escalated; live stays on the release), never half-runs.
    """
    assert handoff.acceptance is not None
    database = handoff.acceptance.service.database
    if database is None or database.migrations is None:
        return None
    old = engine.status().previous  # the colour the engine's rollback goes back to
    if old is None:
        return None  # nothing to go back to: the engine's rollback says so itself
    expand = pulled(EXPAND_TASK) or {}
    expanded = expand.get("proven_versions") or expand.get("applied_versions") or []
    decision = migrations.rollback_schema(engine, old.release, database.migrations, expanded)
    found = decision.to_json()
    get_current_context()["ti"].xcom_push(key=migrations.ROLLBACK_SCHEMA_KEY, value=found)
    log.info("rollback onto %s: schema %s: %s", old.release, found["decision"], decision.reason)
    if decision.allowed:
        return found
    refused = Finding(
        EvidenceStatus.FAILED,
        f"rollback onto {old.release} refused before anything moved: {decision.reason}",
        {"schema": found},
        {"contract_steps_run": 0},
    )
    record(handoff, [(CheckKind.ROLLBACK_READINESS, [refused])], target="live")
    service_lease.release(engine, "rollback refused (schema)")
    raise AirflowFailException(
        f"rollback refused: {decision.reason}; live stays on {_release_or_unknown()}, "
        "nothing was moved: escalate, a person decides"
    )


def _switch_task_failed() -> bool:
    """Tell whether this run's switch task itself ran and failed (not upstream-failed)."""
    ti = get_current_context()["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[SWITCH_TASK], run_ids=[ti.run_id])
    return bool(states.get(ti.run_id, {}).get(SWITCH_TASK) == "failed")


def finalize(reason_task_ids: list[str]) -> None:
    """Fail the run when an abort or a rollback ran, so the run never looks green."""
    ran = [task_id for task_id in reason_task_ids if pulled(task_id)]
    raise AirflowFailException(
        f"the deployment did not complete: {', '.join(ran) or 'abort/rollback'} ran; see their logs"
    )
