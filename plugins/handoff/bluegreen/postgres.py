"""The service's PostgreSQL: Debian's server in the project's image, on the service network.

Set up once per service (`python -m handoff.demo_database up`, or a test): the data lives on a
named volume, the container answers only on the service network (no published port: the
colours and the one-off migration containers reach it by name), and its password is
generated here and handed to the caller, which keeps it in an Airflow connection and nowhere
else (not in a log, a sidecar or a file). The server's own image (include/compose/postgres)
makes the cluster on the first start; a restart keeps the data and the password.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field

import docker
import docker.errors
from docker.models.containers import Container

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import LABEL_ROLE, LABEL_SERVICE, ContainerLimits
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.origin import origin_labels

log = logging.getLogger(__name__)

ROLE = "database"
PORT = 5432


@dataclass(frozen=True)
class PostgresSpec:
    """Where one service's database lives; ``password`` never shows in a repr."""

    service: str
    network: str
    image: str = "handoff-demo-postgres:latest"
    user: str = "app"
    database: str = "app"
    password: str = field(default="", repr=False)

    @property
    def container(self) -> str:
        """Return the container's name, also its host name on the service network."""
        return f"{self.service}-db"

    @property
    def volume(self) -> str:
        """Return the named volume holding the cluster."""
        return f"{self.service}-db-data"


def new_password() -> str:
    """Return a fresh password (URL-safe: it goes into a connection URL unescaped)."""
    return secrets.token_urlsafe(24)


def ensure_postgres(client: docker.DockerClient, spec: PostgresSpec, ready_s: float = 60.0) -> bool:
    """Start the database unless it runs; return True when it was created now.

    A database that exists keeps its volume and password: ``spec.password`` is used only
    when the cluster is made (the first start on an empty volume).
    """
    dockerapi.require_image(client, spec.image, "database")
    dockerapi.ensure_network(client, spec.network, spec.service)
    try:
        existing = client.containers.get(spec.container)
    except docker.errors.NotFound:
        existing = None
    if existing is not None:
        if existing.status != "running":
            existing.start()
        _wait_ready(existing, spec, ready_s)
        return False
    if not spec.password:
        raise BlueGreenError(f"{spec.container}: a new database needs a password")
    log.info("creating %s on %s (data on volume %s)", spec.container, spec.network, spec.volume)
    limits = dockerapi.hardening(ContainerLimits(memory_mb=512, pids=512))
    container = client.containers.run(
        spec.image,
        name=spec.container,
        detach=True,
        network=spec.network,
        # The password reaches initdb through the container's environment, which only the
        # engine's administrators can read (as they can read the volume); it is not logged.
        environment={
            "POSTGRES_USER": spec.user,
            "POSTGRES_DB": spec.database,
            "POSTGRES_PASSWORD": spec.password,
        },
        volumes={spec.volume: {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
        labels={LABEL_SERVICE: spec.service, LABEL_ROLE: ROLE, **origin_labels()},
        restart_policy={"Name": "unless-stopped"},
        # The entrypoint hands PGDATA to the postgres user and becomes it (as in compose).
        **{**limits, "cap_add": ["CHOWN", "FOWNER", "SETUID", "SETGID"]},
    )
    _wait_ready(container, spec, ready_s)
    return True


def _wait_ready(container: Container, spec: PostgresSpec, ready_s: float) -> None:
    """Wait until the server accepts TCP connections (not only the first start's own socket)."""
    deadline = time.monotonic() + ready_s
    probe = ["pg_isready", "-q", "-h", "127.0.0.1", "-U", spec.user, "-d", spec.database]
    while time.monotonic() < deadline:
        container.reload()
        if container.status != "running":
            tail = container.logs(tail=10).decode("utf-8", "replace")
            raise BlueGreenError(f"{container.name} stopped: {tail.strip()[-300:]}")
        if container.exec_run(probe).exit_code == 0:
            return
        time.sleep(0.3)
    raise BlueGreenError(f"{container.name} not ready within {ready_s:g} s")


def remove_postgres(client: docker.DockerClient, spec: PostgresSpec, data: bool = False) -> None:
    """Remove the database container, and its volume (the data) when ``data``."""
    with contextlib.suppress(docker.errors.NotFound):
        dockerapi.remove(client.containers.get(spec.container), "database removed")
    if data:
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(spec.volume).remove(force=True)
