"""Data integrity around the switch and the rollback, as the sidecar's checks choose it.

``checks.data_integrity.write_probe: store_api`` makes the zero-downtime probe also write
records through live (the demo service's store API) and lists them afterwards;
``checks.data_integrity.command`` runs a program from the release image in a one-off
container beside the live colour. Either, both, or neither (then "not verified"). The
switch and rollback steps in ``handoff.tasks.steps`` call these helpers; nothing here may
stop a rollback: every failure to check becomes a failed finding, never an exception.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Mapping
from typing import Any

from handoff.acceptance.sidecar import DataIntegritySettings, WriteProbe
from handoff.bluegreen.loadgen import LoadSpec, listed_records
from handoff.catalog import Handoff
from handoff.checks import Finding
from handoff.checks.integrity import (
    command_finding,
    invariants_finding,
    invariants_of,
    not_verified_finding,
    store_finding,
    unusable_finding,
    with_invariants,
)
from handoff.target import DeploymentTarget, TargetError
from handoff.tasks.context import live_client

log = logging.getLogger(__name__)


def settings_of(handoff: Handoff) -> DataIntegritySettings:
    """Return the sidecar's data-integrity settings."""
    assert handoff.acceptance is not None
    return handoff.acceptance.checks.data_integrity


def live_probe(handoff: Handoff, host: str, port: int) -> LoadSpec:
    """Return the keep-alive requests sent through live while traffic moves.

    With the store probe a quarter of them are writes to the demo store API; without it
    only the service's health path is read, the one path every service declares.
    """
    tls = live_client(handoff)
    spec = LoadSpec(
        host=host, port=port, connections=4, duration_s=120.0, rate_per_s=100.0, tls=tls
    )
    if settings_of(handoff).write_probe is WriteProbe.STORE_API:
        return spec
    assert handoff.acceptance is not None
    return LoadSpec(
        host=host,
        port=port,
        connections=spec.connections,
        duration_s=spec.duration_s,
        rate_per_s=spec.rate_per_s,
        write_every=0,
        read_paths=(handoff.acceptance.service.health_path,),
        tls=tls,
    )


def _listed(handoff: Handoff, host: str, port: int) -> list[tuple[int, str]] | None:
    """Return the records (id, key) stored behind a listener; None when it cannot be listed."""
    try:
        return listed_records(host, port, tls=live_client(handoff))
    except (RuntimeError, OSError, ValueError, KeyError, http.client.HTTPException) as e:
        log.warning("cannot list the stored records through :%s: %s", port, e)
        return None


def store_invariants(handoff: Handoff, host: str, port: int) -> dict[str, Any] | None:
    """Return the store's invariants before traffic moves (None: not probed, or unreadable)."""
    if settings_of(handoff).write_probe is not WriteProbe.STORE_API:
        return None
    listed = _listed(handoff, host, port)
    return None if listed is None else invariants_of(listed)


def findings_after(
    handoff: Handoff,
    target: DeploymentTarget,
    when: str,
    acknowledged: set[str],
    stored_before: int | None,
    invariants_before: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Judge data integrity after the switch or rollback with every proof the sidecar chose.

    With the store probe and the invariants taken before traffic moved, the records there
    before are checked too (row count and checksum, `checks.integrity.invariants_finding`).
    """
    settings = settings_of(handoff)
    findings = []
    if settings.write_probe is WriteProbe.STORE_API:
        assert handoff.environment is not None
        router = handoff.environment.router
        listed = _listed(handoff, router.host, router.live_port)
        stored = None if listed is None else {key for _, key in listed}
        store = store_finding(when, acknowledged, stored, stored_before)
        if invariants_before is not None:
            held = invariants_finding(when, invariants_before, listed, len(acknowledged))
            store = with_invariants(store, held)
        findings.append(store)
    if settings.command is not None:
        findings.append(_command_finding(target, when, settings.command, settings))
    return findings or [not_verified_finding(when)]


def finding_on_release(handoff: Handoff, target: DeploymentTarget) -> Finding:
    """Run the integrity command beside the release before the switch (on the preview).

    A release whose image lacks the program, or that cannot read the data it is about to
    serve, is caught here, before users reach it, instead of by a rollback after the switch.
    """
    settings = settings_of(handoff)
    assert settings.command is not None
    return _command_finding(target, "deploy", settings.command, settings, release=True)


def _command_finding(
    target: DeploymentTarget,
    when: str,
    argv: list[str],
    settings: DataIntegritySettings,
    release: bool = False,
) -> Finding:
    """Run the integrity command beside the live colour (or the release) and judge its exit."""
    timeout_s = settings.timeout.total_seconds()
    try:
        state = target.status()
        beside = state.newest if release else state.live
        if beside is None:
            which = "release" if release else "live"
            return unusable_finding(when, argv, f"no {which} colour to run it beside", timeout_s)
        run = target.run_beside(beside.colour, argv, timeout_s)
    except TargetError as e:
        log.error("integrity command %s could not be run: %s", argv, e)
        return unusable_finding(when, argv, str(e), timeout_s)
    return command_finding(when, run, timeout_s)
