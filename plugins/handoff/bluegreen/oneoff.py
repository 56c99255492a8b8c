"""Run a one-off command (the sidecar's integrity command) in a container beside a colour.

The container is made from the colour's own image (by id, so a retagged release cannot slip
in), with the colour's environment, volume binds and network, so the command sees the data
exactly as the service does. The argv replaces the image's entrypoint: no shell wraps it, and
nothing of the contract's text is ever run. The run is bounded by a timeout (then killed),
and the container is always removed. Environment values are never logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
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
    ContainerLimits,
)
from handoff.bluegreen.errors import IntegrityCommandUnusable
from handoff.target.models import CommandResult

log = logging.getLogger(__name__)

#: The role label of one-off integrity containers (never a colour: discovery ignores them).
ROLE = "integrity-check"
OUTPUT_LINES = 20
LINE_CHARS = 300
#: The only one-off command today is the sidecar's integrity command: errors name its field.
COMMAND_FIELD = "checks.data_integrity.command"


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
    _remove_leftovers(client, service)
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
    try:
        container = client.containers.create(
            image_id,
            entrypoint=list(argv),
            name=name,
            environment=list(attrs.get("Config", {}).get("Env") or []),
            volumes=list(attrs.get("HostConfig", {}).get("Binds") or []),
            network=networks[0] if networks else None,
            labels={LABEL_SERVICE: service, LABEL_ROLE: ROLE, LABEL_COLOUR: colour_name},
            detach=True,
            **dockerapi.hardening(_limits_of(attrs)),
        )
    except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
        raise IntegrityCommandUnusable(
            f"{COMMAND_FIELD}: cannot create a container from {release} ({image_id[:19]}): {exc}"
        ) from exc
    try:
        return _run(container, tuple(argv), release, colour_name, timeout_s)
    finally:
        _remove(container)


def _limits_of(attrs: Mapping[str, Any]) -> ContainerLimits:
    """Return the colour's own limits, so the command runs under what the release runs under."""
    host = attrs.get("HostConfig") or {}
    default = ContainerLimits()
    memory = int(host.get("Memory") or 0) // 2**20
    return ContainerLimits(
        memory or default.memory_mb, int(host.get("PidsLimit") or 0) or default.pids
    )


def _run(
    container: Container, argv: tuple[str, ...], release: str, colour: str, timeout_s: float
) -> CommandResult:
    """Start the container, wait for it within the timeout (else kill it), read its output."""
    started = time.monotonic()
    try:
        container.start()
    except docker.errors.APIError as exc:
        # E.g. "exec: /opt/app/check: no such file or directory": the image lacks the program.
        raise IntegrityCommandUnusable(
            f"{COMMAND_FIELD}: {argv[0]!r} cannot be started in the release image {release}: "
            f"{exc.explanation or exc}; ship the program in the image or fix the sidecar"
        ) from exc
    exit_code: int | None
    try:
        exit_code = int(container.wait(timeout=timeout_s)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        # docker-py reports a wait past its timeout as either, depending on the transport.
        exit_code = None
        log.warning("integrity command still running after %g s: killing it", timeout_s)
        try:
            container.kill()
        except docker.errors.APIError as exc:  # it may have exited meanwhile
            log.info("kill: %s", exc)
    seconds = time.monotonic() - started
    output = _last_lines(container)
    for line in output:
        log.info("integrity command | %s", line)
    log.info(
        "integrity command %s after %.2f s",
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


def _remove_leftovers(client: docker.DockerClient, service: str) -> None:
    """Remove one-off containers a killed earlier try of this check left behind."""
    filters = {"label": [f"{LABEL_SERVICE}={service}", f"{LABEL_ROLE}={ROLE}"]}
    for leftover in client.containers.list(all=True, filters=filters):
        log.info("removing %s, left by an earlier integrity check", leftover.name)
        _remove(leftover)
