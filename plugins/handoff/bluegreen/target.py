"""The Docker + HAProxy deployment target: `DeploymentTarget` over the blue-green engine.

The first implementation of `handoff.target.port`. Everything Docker-shaped the tasks used to
do themselves lives here: reading a container's inspection for the security gate, resolving
a tag to its image id, the one-off command beside a colour and the scanner on the service's
network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import docker.errors
import requests.exceptions

from handoff.bluegreen import capacity, dockerapi, third_party
from handoff.bluegreen.config import BlueGreenConfig, Listener
from handoff.bluegreen.engine import BlueGreenEngine
from handoff.bluegreen.errors import EngineUnreachable, InvalidState
from handoff.bluegreen.haproxy_cfg import CONTAINER_PORTS, METRICS_PORT
from handoff.bluegreen.lease import ServiceLease
from handoff.bluegreen.oneoff import run_beside, run_release
from handoff.bluegreen.scanner import run_scanner
from handoff.target import models
from handoff.target.kinds import TargetKind
from handoff.target.lease import Acquisition, EndedCheck
from handoff.target.models import Colour, ColourPosture
from handoff.target.port import LineSink


def posture_from_inspection(attrs: Mapping[str, Any]) -> ColourPosture:
    """Read a colour's posture from `docker inspect` output of its container."""
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    published = {port for port, binds in (host.get("PortBindings") or {}).items() if binds} | {
        port
        for port, binds in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items()
        if binds
    }
    return ColourPosture(
        image_id=str(attrs.get("Image", "")),
        exposed_ports=frozenset((config.get("ExposedPorts") or {}).keys()),
        published_ports=frozenset(published),
        privileged=bool(host.get("Privileged")),
        added_capabilities=frozenset(host.get("CapAdd") or ()),
    )


def router_scrape_points(router: str, health_path: str) -> models.ScrapePoints:
    """Return where Prometheus reads a service through its router container's name."""
    metrics = f"{router}:{METRICS_PORT}"
    return models.ScrapePoints(
        exporter=metrics,
        colour_metrics={c.value: (metrics, f"/colours/{c.value}/metrics") for c in Colour},
        health_urls={
            lsn.value: f"http://{router}:{CONTAINER_PORTS[lsn]}{health_path}" for lsn in Listener
        },
    )


class DockerHaproxyTarget:
    """Colours as Docker containers behind a HAProxy router container, on one engine.

    Parameters: ``engine`` (the service's blue-green engine, connected to its Docker engine).
    """

    def __init__(self, engine: BlueGreenEngine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, config: BlueGreenConfig, lock_wait_s: float = 30.0) -> DockerHaproxyTarget:
        """Return a target connected to the Docker engine ``config`` names."""
        return cls(BlueGreenEngine(config, lock_wait_s=lock_wait_s))

    @property
    def kind(self) -> str:
        """Return ``docker-haproxy``."""
        return TargetKind.DOCKER_HAPROXY.value

    @property
    def service(self) -> str:
        """Return the service's name."""
        return self.engine.config.service

    # -- state and steps ---------------------------------------------------------------

    def status(self) -> models.ServiceState:
        """Discover the colours from container labels and the routing from the router."""
        return self.engine.status()

    def deploy(self, release: str) -> models.DeployResult:
        """Start the release in the idle colour and wait until it is ready through preview."""
        return self.engine.deploy(release)

    def switch(self, expected_release: str | None = None) -> models.SwitchResult:
        """Send live traffic to the newest colour and verify it answers."""
        return self.engine.switch(expected_release)

    def rollback(self) -> models.SwitchResult:
        """Send live traffic back to the previous colour and verify it answers."""
        return self.engine.rollback()

    def abort(self) -> models.RetireResult:
        """Remove a deployed release that never went live."""
        return self.engine.abort()

    def retire_old(self) -> models.RetireResult:
        """Remove the colour that is not live."""
        return self.engine.retire_old()

    # -- the service lease -------------------------------------------------------------

    def acquire_lease(self, owner: str, purpose: str, ended: EndedCheck) -> Acquisition:
        """Take the lease container, find it ours, or report its holder; break stale ones."""
        return self._lease().acquire(owner, purpose, ended)

    def release_lease(self, owner: str, step: str) -> bool:
        """Remove the lease container if ``owner`` holds it."""
        return self._lease().release(owner, step)

    def _lease(self) -> ServiceLease:
        return ServiceLease(self.engine.client, self.engine.config)

    # -- what the gates read and run ---------------------------------------------------

    def posture(self, colour: Colour) -> ColourPosture | None:
        """Read the colour's container inspection; None when it has no container."""
        container = self.engine.colours.container(colour)
        return posture_from_inspection(container.attrs) if container else None

    def image_id(self, release: str) -> str | None:
        """Return the id of the local image the release's tag names now, if any."""
        try:
            return str(self.engine.client.images.get(release).id)
        except docker.errors.ImageNotFound:
            return None

    def run_beside(
        self, colour: Colour, argv: Sequence[str], timeout_s: float
    ) -> models.CommandResult:
        """Run argv in a one-off container made like the colour's (image id, env, volumes)."""
        container = self.engine.colours.container(colour)
        if container is None:
            raise InvalidState(f"{self.engine.config.container_name(colour)} has no container")
        try:
            return run_beside(self.engine.client, container, argv, timeout_s)
        except dockerapi.TRANSPORT_ERRORS as e:
            raise EngineUnreachable(f"the Docker engine went away during the command: {e}") from e

    def run_release(
        self, release: str, argv: Sequence[str], timeout_s: float
    ) -> models.CommandResult:
        """Run argv in a one-off container of the release image on the service network."""
        try:
            return run_release(self.engine.client, self.engine.config, release, argv, timeout_s)
        except dockerapi.TRANSPORT_ERRORS as e:
            raise EngineUnreachable(f"the Docker engine went away during the command: {e}") from e

    def scan_preview(
        self, image: str, environment: Mapping[str, str], timeout_s: float, on_line: LineSink
    ) -> models.ScanResult:
        """Run the scanner on the service network; it reaches preview at the router's name."""
        config = self.engine.config
        url = f"http://{config.router_name}:{CONTAINER_PORTS[Listener.PREVIEW]}"
        env = {**environment, "HANDOFF_SCAN_URL": url}
        return run_scanner(self.engine.client, config, image, env, timeout_s, on_line)

    def expose_metrics(self, network: str, health_path: str) -> models.ScrapePoints:
        """Connect the router to the observability network; its metrics listener serves all.

        HAProxy's exporter and each colour's /metrics (``/colours/<colour>/metrics``) answer
        on the router's unpublished metrics port, so a deploy, a switch or a rollback changes
        nothing Prometheus reads; the colours themselves never join that network.
        """
        config = self.engine.config
        router = self.engine.router.container()
        if router is None:
            raise InvalidState(f"{config.router_name} does not exist: nothing to scrape yet")
        try:
            joined = dockerapi.address_on(router, network) is not None
            if not joined:
                found = self.engine.client.networks.list(names=[network])
                if not found:
                    raise InvalidState(f"the observability network {network} does not exist")
                found[0].connect(router)
        except docker.errors.APIError as e:
            raise InvalidState(f"cannot connect {config.router_name} to {network}: {e}") from e
        except dockerapi.TRANSPORT_ERRORS as e:
            raise EngineUnreachable(f"the Docker engine did not answer: {e}") from e
        return router_scrape_points(config.router_name, health_path)

    def capacity(self) -> models.EngineCapacity:
        """Measure the engine's free memory and disk, its version, and the live colour."""
        state = self.engine.status()
        live = self.engine.colours.container(state.live.colour) if state.live else None
        try:
            return capacity.measure(self.engine.client, self.engine.config, live)
        except dockerapi.TRANSPORT_ERRORS as e:
            raise EngineUnreachable(f"the Docker engine went away measuring capacity: {e}") from e

    def call_third_parties(
        self, release: str, calls: Sequence[models.ThirdPartyCall]
    ) -> tuple[str, list[models.ThirdPartyAnswer]]:
        """GET each third party from a container of the release on the service network."""
        try:
            return third_party.call(self.engine.client, self.engine.config, release, calls)
        except (*dockerapi.TRANSPORT_ERRORS, requests.exceptions.RequestException) as e:
            raise EngineUnreachable(
                f"the Docker engine went away probing third parties: {e}"
            ) from e
