"""Per-environment settings `include/environments/<env>.yaml`: where and how to deploy."""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from handoff.acceptance.types import STRICT, Duration, Name, Port
from handoff.target.kinds import DEFAULT_KIND, TargetKind


class EngineOutagePolicy(enum.Enum):
    """How a watch window treats a Docker engine that does not answer (see watch.outage)."""

    BREACH = "breach"
    WAIT = "wait"


DEFAULT_POLICY = EngineOutagePolicy.WAIT
DEFAULT_WAIT = timedelta(minutes=5)


class RouterTls(BaseModel):
    """The live listener's certificate files (PEM), on the machine that runs the tasks.

    Relative paths are resolved against the folder holding `environments/` (`include/`).
    """

    model_config = STRICT

    ca_file: str = Field(min_length=1, description="the CA probes and checks trust, explicitly")
    cert_file: str = Field(min_length=1, description="the certificate, then its chain")
    key_file: str = Field(min_length=1, description="the private key: mode 0600, never logged")


class RouterSettings(BaseModel):
    """The HAProxy router in front of the two colours."""

    model_config = STRICT

    # Unset: the blue-green engine names it `<service>-router`.
    container: str | None = None
    host: str = "127.0.0.1"
    live_port: Port
    preview_port: Port
    # Unset: plain HTTP. Set: the certificate the sidecar's `checks.dependencies.tls` checks.
    tls: RouterTls | None = None


class ProbeDefaults(BaseModel):
    """How health, latency and watch probes behave unless a check says otherwise."""

    model_config = STRICT

    healthy_answers: int = Field(default=5, ge=1)
    interval: Duration = timedelta(seconds=1)
    ready_timeout: Duration = timedelta(minutes=2)
    latency_samples: int = Field(default=50, ge=5)
    watch_interval: Duration = timedelta(minutes=1)


class SecurityTools(BaseModel):
    """Security tools available in the environment."""

    model_config = STRICT

    # A scanner image present on the engine; the security gate runs it against the preview
    # (HANDOFF_SCAN_URL, HANDOFF_SCAN_IMAGE) and fails on a non-zero exit. Unset: no scan.
    scanner_image: str | None = Field(default=None, min_length=1)
    scanner_timeout: Duration = timedelta(minutes=5)


class WatchSettings(BaseModel):
    """How watch windows treat a Docker engine that stops answering (`handoff.watch.outage`)."""

    model_config = STRICT

    # breach: the outage fails the window; wait: probes do not count until the engine and
    # the service answer again, up to engine_outage_wait, then it is a breach.
    engine_outage: EngineOutagePolicy = DEFAULT_POLICY
    engine_outage_wait: Duration = DEFAULT_WAIT


class LeaseSettings(BaseModel):
    """How a handoff waits while another handoff of the same service holds its lease."""

    model_config = STRICT

    # The longest a deploy waits before its run aborts, touching nothing. Another handoff holds
    # the lease until its handover (days, with a 72 h monitoring window), so past a few hours
    # a person should decide which handoff goes first.
    wait: Duration = timedelta(hours=6)
    # How often the waiting deploy looks again; in between it holds no worker slot. At least
    # 10 s: a reschedule due before the scheduler has processed the previous look's exit is
    # failed by Airflow ("finished with state success, but the task instance's state
    # attribute is queued", apache/airflow#71172), seen in the drill with 3 s under load.
    poll: Duration = Field(default=timedelta(minutes=1), ge=timedelta(seconds=10))


class ObservabilitySettings(BaseModel):
    """Prometheus and Alertmanager watch this environment's services (`make observability`).

    At each deploy the service's router joins ``network`` (where Prometheus runs) and the
    service's targets files are written (`handoff.tasks.scrape_registration`); the windows
    then judge live's real traffic and the monitoring criteria are verified from what is
    scraped. Where Prometheus and Alertmanager answer, and the folders they read, are the
    machine's settings (HANDOFF_PROMETHEUS_URL and the like), never an environment file's.
    """

    model_config = STRICT

    network: Name = "handoff-observability"


class RehearsalPolicy(StrEnum):
    """Whether runs of this environment may compress time (`time_scale` other than 1)."""

    ALLOWED = "allowed"
    REFUSED = "refused"


# A digest as Docker prints it; only sha256 is in use.
Digest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
# A repository prefix: `handoff-demo` (that repository) or `registry.example/team/` (all under it).
RepositoryPrefix = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/:-]{0,254}$")]
# An image reference as a run may name it: repository, optional tag, optional digest.
_REFERENCE = re.compile(
    r"^[a-z0-9][a-z0-9._/:-]{0,254}(:[A-Za-z0-9_.-]{1,128})?(@sha256:[0-9a-f]{64})?$"
)
# What may follow a repository prefix in a reference: its tag or digest (or a deeper path when
# the prefix ends with "/", anything when it ends inside a tag). So `handoff-demo` allows
# `handoff-demo:1.1.0`, never `handoff-demo-evil:1`.
_AFTER_PREFIX = frozenset(":@")


class ReleasePolicy(BaseModel):
    """Which image references a run may deploy (the sidecar's, or the trigger form's release).

    Unset (both lists empty): only the sidecar's own image, which was reviewed with the
    acceptance; the trigger form cannot name another one.
    """

    model_config = STRICT

    allowed_prefixes: list[RepositoryPrefix] = Field(
        default_factory=list,
        description="repositories a release may come from: `handoff-demo` (its tags and "
        "digests), `registry.example/team/` (everything under it), `handoff-demo:1.` (tags "
        "that continue it)",
    )
    digests: list[Digest] = Field(
        default_factory=list,
        description="images a release may be pinned to (`sha256:<64 hex>`), under any repository",
    )

    @property
    def restricted(self) -> bool:
        """Tell whether the environment names what it allows (else: the sidecar's image only)."""
        return bool(self.allowed_prefixes or self.digests)

    def allows(self, reference: str) -> bool:
        """Tell whether a reference is under an allowed prefix or pins an allowed digest."""
        # ".." and "//" are no part of Docker's reference grammar; refusing them keeps a
        # `registry.example/team/` prefix from being walked out of.
        if not _REFERENCE.match(reference) or ".." in reference or "//" in reference:
            return False
        digest = reference.rpartition("@")[2] if "@" in reference else ""
        if digest in self.digests or reference in self.digests:
            return True
        return any(_under(reference, prefix) for prefix in self.allowed_prefixes)

    def describe(self) -> str:
        """Return what is allowed, for error messages and the trigger form."""
        parts = (
            [f"repositories {', '.join(self.allowed_prefixes)}"] if self.allowed_prefixes else []
        )
        parts += (
            [f"digests {', '.join(d[:19] + '...' for d in self.digests)}"] if self.digests else []
        )
        return "; ".join(parts) or "the sidecar's own image only"


def _under(reference: str, prefix: str) -> bool:
    if not reference.startswith(prefix):
        return False
    rest = reference[len(prefix) :]
    # A prefix already inside the tag (`handoff-demo:1.`) allows any tag that continues it.
    in_tag = ":" in prefix.rpartition("/")[2]
    return in_tag or prefix.endswith("/") or rest == "" or rest[0] in _AFTER_PREFIX


class VolumeSettings(BaseModel):
    """Which named volumes a sidecar may mount beyond its own `<service>-*` ones."""

    model_config = STRICT

    # Exact volume names, chosen by the platform team (handoff.acceptance.volumes).
    allowed: tuple[str, ...] = ()


class ContainerSettings(BaseModel):
    """Limits of every container the engine creates (colours, router, integrity command)."""

    model_config = STRICT

    memory_mb: int = Field(default=512, ge=16)
    # A thread counts as a pid: a thread-per-connection service under 256 keep-alive
    # connections (the switch benchmark) needs more than 256.
    pids: int = Field(default=4096, ge=16)


class TargetSettings(BaseModel):
    """Where the colours run: the deployment-target kind (`handoff.target.kinds`)."""

    model_config = STRICT

    kind: TargetKind = Field(
        default=DEFAULT_KIND,
        description="the deployment target: `docker-haproxy` (Docker engine + HAProxy router)",
    )


class Environment(BaseModel):
    """An environment's settings."""

    model_config = STRICT

    name: Name
    # Unset: Docker + HAProxy, the only kind before targets were named.
    target: TargetSettings = Field(default_factory=TargetSettings)
    # Read by the docker-haproxy target (and the watch's engine ping); kept at the top level
    # so every environment file written before `target` stays valid.
    docker_url: str = "unix:///var/run/docker.sock"
    # Unset: the blue-green engine names it `<service>-net`.
    network: str | None = None
    router: RouterSettings
    slack_conn_id: str = "handoff_slack"
    report_dir: str = "reports"
    probes: ProbeDefaults = Field(default_factory=ProbeDefaults)
    security: SecurityTools = Field(default_factory=lambda: SecurityTools())
    watch: WatchSettings = Field(default_factory=WatchSettings)
    # Unset: nothing registers the services with Prometheus; the windows judge by their
    # probes alone and the monitoring criteria stay "not verified".
    observability: ObservabilitySettings | None = None
    lease: LeaseSettings = Field(default_factory=LeaseSettings)
    # A rehearsal compresses every wait against the same engines, answered from the run's
    # parameters: only environments that say so allow it (unset: refused).
    rehearsals: RehearsalPolicy = Field(
        default=RehearsalPolicy.REFUSED,
        description="`allowed`: runs may use a time_scale other than 1; `refused`: only 1",
    )
    releases: ReleasePolicy = Field(
        default_factory=ReleasePolicy,
        description="what a run may deploy, the sidecar's image and the form's release alike; "
        "unset: the sidecar's image only",
    )
    volumes: VolumeSettings = Field(default_factory=VolumeSettings)
    containers: ContainerSettings = Field(default_factory=ContainerSettings)
