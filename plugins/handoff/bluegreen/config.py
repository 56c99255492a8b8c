"""Typed settings of one blue-green service: where Docker is, the router, the probes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from handoff.bluegreen.errors import BlueGreenError

# Re-exported: the engine's modules and its tests name the colours from here.
from handoff.target.models import Colour as Colour

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,40}$")

#: Label keys the engine puts on everything it creates; discovery reads them back.
LABEL_SERVICE = "handoff.service"
LABEL_ROLE = "handoff.role"
LABEL_COLOUR = "handoff.colour"
LABEL_RELEASE = "handoff.release"
LABEL_DEPLOYED_AT = "handoff.deployed-at"
LABEL_FINGERPRINT = "handoff.fingerprint"
LABEL_LOCK_OWNER = "handoff.lock.owner"
LABEL_LOCK_EXPIRES = "handoff.lock.expires"
LABEL_LEASE_OWNER = "handoff.lease.owner"
LABEL_LEASE_SINCE = "handoff.lease.since"
LABEL_LEASE_PURPOSE = "handoff.lease.purpose"


class Role(enum.Enum):
    """What a container the engine created is for."""

    COLOUR = "colour"
    ROUTER = "router"
    LOCK = "lock"
    LEASE = "lease"


class Listener(enum.Enum):
    """The router's two front doors; each is also the name of its HAProxy backend."""

    LIVE = "live"
    PREVIEW = "preview"


@dataclass(frozen=True)
class VolumeMount:
    """A named Docker volume mounted into both colours (e.g. the shared data store)."""

    volume: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerLimits:
    """Resource limits of every container the engine creates (``dockerapi.hardening``).

    The defaults fit the demo service and the router with room to spare; an environment sets
    its own under ``containers`` (``memory_mb``, ``pids``).
    """

    memory_mb: int = 512
    pids: int = 4096


@dataclass(frozen=True)
class LiveTls:
    """The live listener's TLS: files on the worker, never their content in a log or repr.

    ``cert_file`` holds the certificate and its chain, ``key_file`` its key (mode 0600; the
    router gets both in one file, what HAProxy's ``crt`` reads); ``ca_file`` is the CA every
    probe of the listener trusts, and only it; ``domain`` the host name probes ask for (SNI)
    and verify the certificate against.
    """

    domain: str
    cert_file: str
    key_file: str
    ca_file: str


@dataclass(frozen=True)
class BlueGreenConfig:
    """Settings of one service's blue-green deployment.

    Parameters: ``service`` names everything (containers ``<service>-blue``,
    ``<service>-green``, ``<service>-router``, network ``<service>-net`` unless given);
    ``live_port`` / ``preview_port`` are the host ports of the router's listeners, published
    on ``router_bind`` and probed on ``router_host``; ``service_port`` and ``health_path``
    describe the release; a colour is ready after ``ready_threshold`` consecutive healthy
    answers through the preview listener within ``ready_deadline_s``; a switch is verified by
    ``verify_threshold`` consecutive answers from the new colour through the live listener
    within ``verify_deadline_s``; ``lock_ttl_s`` bounds how long a crashed holder blocks the
    service; ``volumes`` and ``environment`` are given to every colour; ``limits`` bound the
    memory and processes of every container the engine creates; ``secret_environment`` is
    given to every colour too, and never appears in a repr or a log.
    """

    service: str
    live_port: int
    preview_port: int
    docker_url: str = "unix:///var/run/docker.sock"
    network: str | None = None
    router_container: str | None = None
    router_image: str = "handoff-router:latest"
    router_host: str = "127.0.0.1"
    router_bind: str = "127.0.0.1"
    service_port: int = 8000
    health_path: str = "/health"
    ready_threshold: int = 5
    ready_deadline_s: float = 60.0
    probe_interval_s: float = 0.1
    probe_timeout_s: float = 2.0
    verify_threshold: int = 5
    verify_deadline_s: float = 10.0
    lock_ttl_s: float = 900.0
    log_lines: int = 20
    volumes: tuple[VolumeMount, ...] = ()
    environment: tuple[tuple[str, str], ...] = field(default=())
    # Given to every colour like `environment`, never shown: the database URL with its
    # password, read from an Airflow connection at run time (repr=False keeps it out of logs).
    secret_environment: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    limits: ContainerLimits = field(default=ContainerLimits())
    # TLS on the live listener (`handoff.bluegreen.tls`); None: plain HTTP.
    live_tls: LiveTls | None = None

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.service):
            problems.append(
                f"service {self.service!r} must be lowercase letters, digits, '.', '_' or '-'"
                " (at most 41 characters) because it names containers"
            )
        for name, port in (("live_port", self.live_port), ("preview_port", self.preview_port)):
            if not 1 <= port <= 65535:
                problems.append(f"{name} {port} is not a TCP port (1..65535)")
        if self.live_port == self.preview_port:
            problems.append(f"live_port and preview_port are both {self.live_port}")
        if not self.health_path.startswith("/"):
            problems.append(f"health_path {self.health_path!r} must start with '/'")
        if self.ready_threshold < 1 or self.verify_threshold < 1:
            problems.append("ready_threshold and verify_threshold must be at least 1")
        if problems:
            raise BlueGreenError("blue-green config: " + "; ".join(problems))

    @property
    def network_name(self) -> str:
        """Return the Docker network the colours and the router share."""
        return self.network or f"{self.service}-net"

    @property
    def router_name(self) -> str:
        """Return the router container's name."""
        return self.router_container or f"{self.service}-router"

    @property
    def router_volume(self) -> str:
        """Return the volume holding the router's persisted configuration."""
        return f"{self.router_name}-state"

    @property
    def lock_name(self) -> str:
        """Return the name of the container that embodies the deployment lock."""
        return f"{self.service}-deploy-lock"

    @property
    def lease_name(self) -> str:
        """Return the name of the container that embodies the service's handoff lease."""
        return f"{self.service}-handoff-lease"

    def container_name(self, colour: Colour) -> str:
        """Return the container name of one colour."""
        return f"{self.service}-{colour.value}"

    def port_of(self, listener: Listener) -> int:
        """Return the host port of a router listener."""
        return self.live_port if listener is Listener.LIVE else self.preview_port
