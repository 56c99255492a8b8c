"""Build the deployment target of a handoff from its sidecar and environment.

The environment's ``target.kind`` picks the implementation of `handoff.target.DeploymentTarget`
and the `OutagePing` the watch windows use; each kind is one entry of `_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from handoff.acceptance import Acceptance, Environment
from handoff.bluegreen import BlueGreenConfig, VolumeMount
from handoff.bluegreen.config import ContainerLimits
from handoff.bluegreen.ping import DockerEnginePing
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.target import DeploymentTarget, OutagePing, TargetError, TargetKind

#: Builds a connected target from the sidecar, the environment, the lock wait and the secret
#: environment of the colours (the database URL).
Connector = Callable[[Acceptance, Environment, float, Mapping[str, str]], DeploymentTarget]


def engine_config(
    acceptance: Acceptance, environment: Environment, secrets: Mapping[str, str] | None = None
) -> BlueGreenConfig:
    """Map the sidecar's service and the environment's router onto the engine's settings.

    ``secrets`` (name -> value, e.g. the database URL from its Airflow connection) reach the
    colours' environment without ever being shown.
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
    )


def _docker_haproxy(
    acceptance: Acceptance,
    environment: Environment,
    lock_wait_s: float,
    secrets: Mapping[str, str],
) -> DeploymentTarget:
    return DockerHaproxyTarget.connect(engine_config(acceptance, environment, secrets), lock_wait_s)


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
) -> DeploymentTarget:
    """Return a connected deployment target for the handoff's service."""
    connect = wiring(environment.target.kind).connect
    return connect(acceptance, environment, lock_wait_s, dict(secrets or {}))
