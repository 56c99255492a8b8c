"""Thin helpers over the Docker SDK that turn its failures into actionable errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from handoff.bluegreen.config import LABEL_ROLE, LABEL_SERVICE, ContainerLimits, Role
from handoff.bluegreen.errors import EngineUnreachable, ImageMissing

log = logging.getLogger(__name__)

#: Docker SDK calls that can fail because the engine went away mid-operation.
TRANSPORT_ERRORS = (requests.exceptions.ConnectionError, docker.errors.DockerException)


def connect(docker_url: str, timeout: float = 30.0) -> docker.DockerClient:
    """Return a client for the engine at ``docker_url``, pinged once."""
    try:
        client = docker.DockerClient(base_url=docker_url, version="auto", timeout=int(timeout))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineUnreachable(
            f"Docker engine at {docker_url} does not answer ({exc}); start it "
            "(`make docker-engine` runs include/demo/scripts/ensure-docker.sh) or fix docker_url"
        ) from exc
    log.debug("connected to Docker %s at %s", client.version().get("Version"), docker_url)
    return client


def hardening(limits: ContainerLimits) -> dict[str, Any]:
    """Return the create kwargs every engine-made container gets: no capabilities, limits.

    None of them needs a capability: the releases and the router run as non-root users on
    ports above 1024 (8000, 8080, 8081) and write only to volumes their image owns;
    no-new-privileges keeps a setuid binary in a release from regaining what was dropped.
    The memory limit includes swap (memswap_limit), so a leaking release is stopped, not paged.
    """
    memory = f"{limits.memory_mb}m"
    return {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": memory,
        "memswap_limit": memory,
        "pids_limit": limits.pids,
    }


def require_image(client: docker.DockerClient, image: str, what: str) -> str:
    """Return the id of a local image, or raise ImageMissing naming it."""
    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(
            f"{what} image {image!r} is not present on the Docker engine; build it "
            "(`make demo-images` for the demo) or load it (`docker load`) before deploying"
        ) from exc


def find(client: docker.DockerClient, service: str, role: Role) -> list[Container]:
    """Return every container (running or not) the engine created for a service and role."""
    filters = {"label": [f"{LABEL_SERVICE}={service}", f"{LABEL_ROLE}={role.value}"]}
    return list(client.containers.list(all=True, filters=filters))


def get(client: docker.DockerClient, name: str) -> Container | None:
    """Return a container by name or id, or None when there is none."""
    try:
        return client.containers.get(name)
    except docker.errors.NotFound:
        return None


def labels(container: Container) -> Mapping[str, str]:
    """Return a container's labels."""
    found: Mapping[str, str] = container.attrs.get("Config", {}).get("Labels") or {}
    return found


def address_on(container: Container, network: str) -> str | None:
    """Return a container's IP address on a network, or None when it has none."""
    networks: Mapping[str, Any] = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
    addr = (networks.get(network) or {}).get("IPAddress")
    return str(addr) if addr else None


def ensure_network(client: docker.DockerClient, name: str, service: str) -> None:
    """Create the service's bridge network unless it exists (user-defined: it has DNS)."""
    if client.networks.list(names=[name]):
        return
    log.info("creating network %s", name)
    try:
        client.networks.create(name, driver="bridge", labels={LABEL_SERVICE: service})
    except docker.errors.APIError as exc:
        # Another deployment may have created it between the check and the create.
        if not client.networks.list(names=[name]):
            raise EngineUnreachable(f"cannot create network {name!r}: {exc}") from exc


def remove(container: Container, reason: str, stop_timeout: int = 10) -> None:
    """Stop (gracefully, SIGTERM first) and remove a container; one already gone is fine."""
    log.info("removing container %s (%s)", container.name, reason)
    try:
        container.reload()
        if container.status in ("running", "restarting", "paused"):
            container.stop(timeout=stop_timeout)
        # v=True drops anonymous volumes only; named ones (shared data) are never touched.
        container.remove(v=True)
    except docker.errors.NotFound:
        log.info("container %s was already gone", container.name)


def remove_volume(client: docker.DockerClient, name: str) -> None:
    """Remove a named volume; one already gone is fine."""
    try:
        client.volumes.get(name).remove(force=True)
        log.info("removed volume %s", name)
    except docker.errors.NotFound:
        pass


def tail(container: Container, lines: int) -> str:
    """Return the last lines a container wrote, for error messages."""
    try:
        raw = container.logs(tail=lines, stdout=True, stderr=True)
    except docker.errors.APIError as exc:
        return f"(logs unavailable: {exc})"
    text = raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else str(raw)
    return text or "(no output)"
