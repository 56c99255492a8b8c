"""Run a one-off command in a container beside a colour, or of a release before it is deployed.

Beside a colour (the sidecar's integrity command), the container is made from the colour's
own image (by id, so a retagged release cannot slip
in), with the colour's environment, volume binds and network, so the command sees the data
exactly as the service does. The argv replaces the image's entrypoint: no shell wraps it, and
nothing of the contract's text is ever run. The run is bounded by a timeout (then killed),
and the container is always removed. Environment values are never logged.

Of a release (the release's migration command, at preflight and around the deploy), the
container is made from the release image (by id) with the environment, volumes and network the
engine gives the colours, so the command reaches the database exactly as the colours will.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import (
    LABEL_COLOUR,
    LABEL_RELEASE,
    LABEL_ROLE,
    LABEL_SERVICE,
    BlueGreenConfig,
    ContainerLimits,
)
from handoff.bluegreen.errors import IntegrityCommandUnusable
from handoff.bluegreen.origin import origin_labels
from handoff.target.models import CommandResult

log = logging.getLogger(__name__)

#: The role label of one-off integrity containers (never a colour: discovery ignores them).
ROLE = "integrity-check"
OUTPUT_LINES = 20
LINE_CHARS = 300
#: The role label of one-off migration containers (never a colour either).
MIGRATION_ROLE = "migration"
#: The sidecar field each kind of one-off command comes from: errors name it.
COMMAND_FIELD = "checks.data_integrity.command"
MIGRATION_FIELD = "service.database.migrations.command"


def run_beside(
    client: docker.DockerClient, colour: Container, argv: Sequence[str], timeout_s: float
) -> CommandResult:
    """Run argv in a one-off container like ``colour``; return its exit code and last lines."""
    attrs = colour.attrs
    labels = dockerapi.labels(colour)
    service = labels.get(LABEL_SERVICE, str(colour.name))
    image_id = str(attrs.get("Image", ""))
    release = labels.get(LABEL_RELEASE) or image_id[:19]
    colour_name = labels.get(LABEL_COLOUR, str(colour.name))
    networks = list((attrs.get("NetworkSettings", {}).get("Networks") or {}).keys())
    _remove_leftovers(client, service, ROLE)
    name = f"{colour.name}-integrity-{uuid.uuid4().hex[:6]}"
    log.info(
        "integrity command %s in %s: image %s (%s), %s's environment, volumes and network %s; "
        "timeout %g s",
        list(argv),
        name,
        release,
        image_id[:19],
        colour_name,
        networks[0] if networks else "(none)",
        timeout_s,
    )
    one_off = _OneOff(
        image_id,
        tuple(argv),
        name,
        release,
        colour_name,
        COMMAND_FIELD,
        {
            "environment": list(attrs.get("Config", {}).get("Env") or []),
            "volumes": list(attrs.get("HostConfig", {}).get("Binds") or []),
            "network": networks[0] if networks else None,
            "labels": {LABEL_SERVICE: service, LABEL_ROLE: ROLE, LABEL_COLOUR: colour_name},
            **dockerapi.hardening(_limits_of(attrs)),
        },
    )
    return _create_and_run(client, one_off, timeout_s)


@dataclass(frozen=True)
class _OneOff:
    """What one one-off container runs, and its create kwargs (environment included)."""

    image_id: str
    argv: tuple[str, ...]
    name: str
    release: str
    colour: str
    field: str  # the sidecar field the command comes from: errors name it
    create: dict[str, Any] = dc_field(repr=False)


def _create_and_run(
    client: docker.DockerClient, one_off: _OneOff, timeout_s: float
) -> CommandResult:
    """Create the container, run it within the timeout, always remove it."""
    try:
        container = client.containers.create(
            one_off.image_id,
            entrypoint=list(one_off.argv),
            name=one_off.name,
            detach=True,
            **one_off.create,
        )
    except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
        raise IntegrityCommandUnusable(
            f"{one_off.field}: cannot create a container from {one_off.release} "
            f"({one_off.image_id[:19]}): {exc}"
        ) from exc
    try:
        return _run(
            container, one_off.argv, one_off.release, one_off.colour, timeout_s, one_off.field
        )
    finally:
        _remove(container)


def run_release(
    client: docker.DockerClient,
    config: BlueGreenConfig,
    release: str,
    argv: Sequence[str],
    timeout_s: float,
) -> CommandResult:
    """Run argv in a one-off container of the release image, set up as its colours would be.

    Concurrent runs are allowed (each container has a name of its own): serialising them is
    the migration command's job (its lock), and the integration test proves it does.
    """
    image_id = dockerapi.require_image(client, release, "release")
    env = [f"{k}={v}" for k, v in (*config.environment, *config.secret_environment)]
    binds = {
        m.volume: {"bind": m.path, "mode": "ro" if m.read_only else "rw"} for m in config.volumes
    }
    name = f"{config.service}-migration-{uuid.uuid4().hex[:6]}"
    log.info(
        "migration command %s in %s: image %s (%s), the colours' environment and volumes, "
        "network %s; timeout %g s",
        list(argv),
        name,
        release,
        image_id[:19],
        config.network_name,
        timeout_s,
    )
    labels = {
        LABEL_SERVICE: config.service,
        LABEL_ROLE: MIGRATION_ROLE,
        LABEL_RELEASE: release,
        **origin_labels(),
    }
    create = {"environment": env, "volumes": binds, "network": config.network_name}
    create.update(labels=labels, **dockerapi.hardening(config.limits))
    one_off = _OneOff(image_id, tuple(argv), name, release, "none", MIGRATION_FIELD, create)
    return _create_and_run(client, one_off, timeout_s)


def _limits_of(attrs: Mapping[str, Any]) -> ContainerLimits:
    """Return the colour's own limits, so the command runs under what the release runs under."""
    host = attrs.get("HostConfig") or {}
    default = ContainerLimits()
    memory = int(host.get("Memory") or 0) // 2**20
    return ContainerLimits(
        memory or default.memory_mb, int(host.get("PidsLimit") or 0) or default.pids
    )


def _run(
    container: Container,
    argv: tuple[str, ...],
    release: str,
    colour: str,
    timeout_s: float,
    field: str,
) -> CommandResult:
    """Start the container, wait for it within the timeout (else kill it), read its output."""
    started = time.monotonic()
    try:
        container.start()
    except docker.errors.APIError as exc:
        # E.g. "exec: /opt/app/check: no such file or directory": the image lacks the program.
        raise IntegrityCommandUnusable(
            f"{field}: {argv[0]!r} cannot be started in the release image {release}: "
            f"{exc.explanation or exc}; ship the program in the image or fix the sidecar"
        ) from exc
    exit_code: int | None
    try:
        exit_code = int(container.wait(timeout=timeout_s)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        # docker-py reports a wait past its timeout as either, depending on the transport.
        exit_code = None
        log.warning("%s still running after %g s: killing it", field, timeout_s)
        try:
            container.kill()
        except docker.errors.APIError as exc:  # it may have exited meanwhile
            log.info("kill: %s", exc)
    seconds = time.monotonic() - started
    output = _last_lines(container)
    for line in output:
        log.info("%s | %s", argv[0], line)
    log.info(
        "%s %s after %.2f s",
        argv[0],
        "killed at its timeout" if exit_code is None else f"exited {exit_code}",
        seconds,
    )
    return CommandResult(argv, release, colour, exit_code, seconds, output)


def _last_lines(container: Container) -> tuple[str, ...]:
    """Return the command's last output lines, each cut to a readable length."""
    try:
        raw = container.logs(stdout=True, stderr=True, tail=OUTPUT_LINES)
    except docker.errors.APIError as exc:
        return (f"(output unavailable: {exc})",)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return tuple(
        line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"
        for line in lines[-OUTPUT_LINES:]
    )


def _remove(container: Container) -> None:
    """Remove the one-off container, running or not; one already gone is fine."""
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        log.warning("could not remove %s: %s", container.name, exc)


def _remove_leftovers(client: docker.DockerClient, service: str, role: str) -> None:
    """Remove one-off containers a killed earlier try of this check left behind."""
    filters = {"label": [f"{LABEL_SERVICE}={service}", f"{LABEL_ROLE}={role}"]}
    for leftover in client.containers.list(all=True, filters=filters):
        log.info("removing %s, left by an earlier integrity check", leftover.name)
        _remove(leftover)
