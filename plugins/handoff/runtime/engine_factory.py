"""Build the deployment target of a handoff from its sidecar and environment.

The environment's ``target.kind`` picks the implementation of `handoff.target.DeploymentTarget`
and the `OutagePing` the watch windows use; each kind is one entry of `_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from handoff.acceptance import Acceptance, Environment
from handoff.bluegreen import BlueGreenConfig, VolumeMount
from handoff.bluegreen.config import ContainerLimits, LiveTls
from handoff.bluegreen.ping import DockerEnginePing
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.target import DeploymentTarget, OutagePing, TargetError, TargetKind

#: Builds a connected target from the sidecar, the environment, the lock wait, the secret
#: environment of the colours (the database URL) and the folder relative TLS paths start from.
Connector = Callable[
    [Acceptance, Environment, float, Mapping[str, str], Path | None], DeploymentTarget
]


def resolve(base: Path | None, path: str) -> Path:
    """Resolve an environment's file path against ``base`` (the folder holding environments/)."""
    given = Path(path)
    return given if given.is_absolute() or base is None else base / given


def live_tls(
    acceptance: Acceptance, environment: Environment, base: Path | None = None
) -> LiveTls | None:
    """Return the live listener's TLS: the environment's files for the sidecar's domain.

    Both must be set (the sidecar's `checks.dependencies.tls` names the domain the files
    serve); either alone leaves live on plain HTTP, and preflight's Domain/SSL finding says
    why. ``base``: where relative paths start (`include/`, beside `environments/`).
    """
    files, wanted = environment.router.tls, acceptance.checks.dependencies.tls
    if files is None or wanted is None:
        return None
    return LiveTls(
        wanted.domain,
        str(resolve(base, files.cert_file)),
        str(resolve(base, files.key_file)),
        str(resolve(base, files.ca_file)),
    )


def engine_config(
    acceptance: Acceptance,
    environment: Environment,
    secrets: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> BlueGreenConfig:
    """Map the sidecar's service and the environment's router onto the engine's settings.

    ``secrets`` (name -> value, e.g. the database URL from its Airflow connection) reach the
    colours' environment without ever being shown; ``base``: where relative TLS paths start.
    """
    service = acceptance.service
    probes = environment.probes
    return BlueGreenConfig(
        service=service.name,
        live_port=environment.router.live_port,
        preview_port=environment.router.preview_port,
        docker_url=environment.docker_url,
        network=environment.network,
        router_container=environment.router.container,
        router_host=environment.router.host,
        service_port=service.port,
        health_path=service.health_path,
        ready_threshold=probes.healthy_answers,
        ready_deadline_s=probes.ready_timeout.total_seconds(),
        volumes=tuple(VolumeMount(name, path) for name, path in service.volumes.items()),
        environment=tuple(sorted(service.env.items())),
        limits=ContainerLimits(environment.containers.memory_mb, environment.containers.pids),
        secret_environment=tuple(sorted((secrets or {}).items())),
        live_tls=live_tls(acceptance, environment, base),
    )


def _docker_haproxy(
    acceptance: Acceptance,
    environment: Environment,
    lock_wait_s: float,
    secrets: Mapping[str, str],
    base: Path | None,
) -> DeploymentTarget:
    config = engine_config(acceptance, environment, secrets, base)
    return DockerHaproxyTarget.connect(config, lock_wait_s)


@dataclass(frozen=True)
class KindWiring:
    """What one target kind brings: its connector, its engine address and how to ping it."""

    connect: Connector
    outage_address: Callable[[Environment], str]
    ping: OutagePing


_KINDS: dict[TargetKind, KindWiring] = {
    TargetKind.DOCKER_HAPROXY: KindWiring(
        _docker_haproxy, lambda environment: environment.docker_url, DockerEnginePing()
    ),
}


def wiring(kind: TargetKind) -> KindWiring:
    """Return a kind's wiring; TargetError for a kind the model accepts but nothing wires."""
    found = _KINDS.get(kind)
    if found is None:
        raise TargetError(
            f"target.kind {kind.value!r} has no implementation; "
            f"known: {', '.join(k.value for k in _KINDS)}"
        )
    return found


def engine_for(
    acceptance: Acceptance,
    environment: Environment,
    lock_wait_s: float = 30.0,
    secrets: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> DeploymentTarget:
    """Return a connected deployment target for the handoff's service."""
    connect = wiring(environment.target.kind).connect
    return connect(acceptance, environment, lock_wait_s, dict(secrets or {}), base)
