"""Per-environment settings `include/environments/<env>.yaml`: where and how to deploy."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from handoff.acceptance.types import STRICT, Duration, Name, Port
from handoff.watch.outage import DEFAULT_POLICY, DEFAULT_WAIT, EngineOutagePolicy


class RouterSettings(BaseModel):
    """The HAProxy router in front of the two colours."""

    model_config = STRICT

    # Unset: the blue-green engine names it `<service>-router`.
    container: str | None = None
    host: str = "127.0.0.1"
    live_port: Port
    preview_port: Port


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


class VolumeSettings(BaseModel):
    """Which named volumes a sidecar may mount beyond its own `<service>-*` ones."""

    model_config = STRICT

    # Exact volume names, chosen by the platform team (handoff.acceptance.volumes).
    allowed: tuple[str, ...] = ()


class ContainerSettings(BaseModel):
    """Limits of every container the engine creates (colours, router, integrity command)."""

    model_config = STRICT

    memory_mb: int = Field(default=512, ge=16)
    pids: int = Field(default=256, ge=16)


class Environment(BaseModel):
    """An environment's settings."""

    model_config = STRICT

    name: Name
    docker_url: str = "unix:///var/run/docker.sock"
    # Unset: the blue-green engine names it `<service>-net`.
    network: str | None = None
    router: RouterSettings
    slack_conn_id: str = "handoff_slack"
    report_dir: str = "reports"
    probes: ProbeDefaults = Field(default_factory=ProbeDefaults)
    security: SecurityTools = Field(default_factory=lambda: SecurityTools())
    watch: WatchSettings = Field(default_factory=WatchSettings)
    lease: LeaseSettings = Field(default_factory=LeaseSettings)
    volumes: VolumeSettings = Field(default_factory=VolumeSettings)
    containers: ContainerSettings = Field(default_factory=ContainerSettings)
