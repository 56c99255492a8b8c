"""One deployment per service at a time, with a lease a crashed holder cannot keep.

The lock is a container that is created but never started, named after the service: Docker
creates a name at most once, so creating it is the atomic "acquire". Its labels carry the
owner and the lease's expiry. An expired lease, or one whose owner process is gone from this
host, is broken by removing that exact container (by id, so two breakers cannot remove each
other's fresh lock) and racing for the name again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import docker.errors

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import (
    LABEL_LOCK_EXPIRES,
    LABEL_LOCK_OWNER,
    LABEL_ROLE,
    LABEL_SERVICE,
    BlueGreenConfig,
    Role,
)
from handoff.bluegreen.errors import DeploymentLocked

log = logging.getLogger(__name__)


def owner_id() -> str:
    """Return this process's owner string: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another host's process: only the lease can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class DeploymentLock:
    """The deployment lock of one service."""

    def __init__(self, client: docker.DockerClient, config: BlueGreenConfig) -> None:
        self.client = client
        self.config = config
        self.name = config.lock_name

    @contextmanager
    def held(self, operation: str, wait_s: float = 0.0) -> Iterator[str]:
        """Hold the lock for the duration of a block; yield the owner string."""
        owner = self.acquire(operation, wait_s)
        try:
            yield owner
        finally:
            self.release(owner)

    def acquire(self, operation: str, wait_s: float = 0.0) -> str:
        """Take the lock or raise DeploymentLocked naming the holder and the lease's end."""
        owner = owner_id()
        deadline = time.monotonic() + wait_s
        while True:
            if self._try_create(owner, operation):
                log.info("lock %s taken by %s for %s", self.name, owner, operation)
                return owner
            holder = dockerapi.get(self.client, self.name)
            if holder is None:
                continue  # released between our create and our look: try again at once
            labels = dockerapi.labels(holder)
            held_by = labels.get(LABEL_LOCK_OWNER, "unknown")
            expires = float(labels.get(LABEL_LOCK_EXPIRES, "0") or 0)
            if expires <= time.time() or _owner_is_dead(held_by):
                why = "lease expired" if expires <= time.time() else "holder process is gone"
                log.warning("breaking lock %s held by %s: %s", self.name, held_by, why)
                self._remove_exact(holder.id)
                continue
            if time.monotonic() >= deadline:
                left = expires - time.time()
                raise DeploymentLocked(
                    f"service {self.config.service} is being deployed by {held_by} "
                    f"({labels.get('handoff.lock.operation', '?')}); its lease ends in "
                    f"{left:.0f} s. Wait for it, or if that holder crashed, remove the lock: "
                    f"docker rm {self.name}"
                )
            time.sleep(0.5)

    def release(self, owner: str) -> None:
        """Remove the lock if this owner still holds it."""
        holder = dockerapi.get(self.client, self.name)
        if holder is None:
            return
        if dockerapi.labels(holder).get(LABEL_LOCK_OWNER) != owner:
            log.warning("lock %s is no longer ours (lease expired?); leaving it", self.name)
            return
        self._remove_exact(holder.id)
        log.info("lock %s released by %s", self.name, owner)

    def break_(self) -> None:
        """Remove the lock whoever holds it; for clean-up when no deployment can be running."""
        holder = dockerapi.get(self.client, self.name)
        if holder is not None:
            log.warning("breaking lock %s on request", self.name)
            self._remove_exact(holder.id)

    def _try_create(self, owner: str, operation: str) -> bool:
        labels = {
            LABEL_SERVICE: self.config.service,
            LABEL_ROLE: Role.LOCK.value,
            LABEL_LOCK_OWNER: owner,
            LABEL_LOCK_EXPIRES: f"{time.time() + self.config.lock_ttl_s:.3f}",
            "handoff.lock.operation": operation,
        }
        return create_marker(self.client, self.config, self.name, labels)

    def _remove_exact(self, container_id: str | None) -> None:
        remove_marker(self.client, container_id)


def create_marker(
    client: docker.DockerClient, config: BlueGreenConfig, name: str, labels: dict[str, str]
) -> bool:
    """Create the never-started container ``name``; return False when the name exists."""
    try:
        # Never started: any local image does; the router image is always present.
        client.containers.create(
            config.router_image,
            name=name,
            labels=labels,
            entrypoint=["true"],
            network_mode="none",
            **dockerapi.hardening(config.limits),
        )
    except docker.errors.APIError as exc:
        if exc.status_code == 409:  # the name exists: someone holds it
            return False
        raise
    return True


def remove_marker(client: docker.DockerClient, container_id: str | None) -> None:
    """Remove a marker container by id (never by name, which a new holder may own by now)."""
    try:
        client.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        pass  # another breaker removed it first; the race for the name decides
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: removal already in progress elsewhere
            raise
