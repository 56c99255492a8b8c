"""Build the blue-green engine of a handoff from its sidecar and environment."""

from __future__ import annotations

from handoff.acceptance import Acceptance, Environment
from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from handoff.bluegreen.config import ContainerLimits


def engine_config(acceptance: Acceptance, environment: Environment) -> BlueGreenConfig:
    """Map the sidecar's service and the environment's router onto the engine's settings."""
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
    )


def engine_for(
    acceptance: Acceptance, environment: Environment, lock_wait_s: float = 30.0
) -> BlueGreenEngine:
    """Return a connected engine for the handoff's service."""
    return BlueGreenEngine(engine_config(acceptance, environment), lock_wait_s=lock_wait_s)
