"""The colour containers: discover them, start one with a release, wait until it is ready."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping

import docker
import docker.errors
from docker.models.containers import Container

from handoff.bluegreen import dockerapi, probe
from handoff.bluegreen.config import (
    LABEL_COLOUR,
    LABEL_DEPLOYED_AT,
    LABEL_FINGERPRINT,
    LABEL_RELEASE,
    LABEL_ROLE,
    LABEL_SERVICE,
    BlueGreenConfig,
    Colour,
    Listener,
    Role,
)
from handoff.bluegreen.errors import BlueGreenError, ReleaseNeverReady
from handoff.bluegreen.origin import origin_labels
from handoff.target.models import ColourState, ProbeSummary

log = logging.getLogger(__name__)


class Colours:
    """Start, find and remove one service's colour containers."""

    def __init__(self, client: docker.DockerClient, config: BlueGreenConfig) -> None:
        self.client = client
        self.config = config

    def discover(self) -> tuple[ColourState, ...]:
        """Return the state of each colour that has a container, from Docker's labels."""
        found: dict[Colour, ColourState] = {}
        for container in dockerapi.find(self.client, self.config.service, Role.COLOUR):
            labels = dockerapi.labels(container)
            try:
                colour = Colour(labels.get(LABEL_COLOUR, ""))
            except ValueError:
                log.warning("ignoring %s: bad %s label", container.name, LABEL_COLOUR)
                continue
            if container.name != self.config.container_name(colour):
                continue  # a leftover under another name never gets traffic; not ours
            found[colour] = ColourState(
                colour=colour,
                container_id=str(container.id),
                name=str(container.name),
                release=labels.get(LABEL_RELEASE, "?"),
                fingerprint=labels.get(LABEL_FINGERPRINT, ""),
                deployed_at=float(labels.get(LABEL_DEPLOYED_AT, "0") or 0),
                running=container.status == "running",
                status=str(container.status),
                address=dockerapi.address_on(container, self.config.network_name),
            )
        return tuple(found[c] for c in Colour if c in found)

    def container(self, colour: Colour) -> Container | None:
        """Return a colour's container, or None."""
        return dockerapi.get(self.client, self.config.container_name(colour))

    def environment(
        self, colour: Colour, release: str, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        """Return the environment a colour runs a release with."""
        env = dict(self.config.environment)
        env.update(self.config.secret_environment)
        env.update(extra or {})
        env.update({"HANDOFF_RELEASE": release, "HANDOFF_COLOUR": colour.value})
        return env

    def fingerprint(self, image_id: str, env: Mapping[str, str]) -> str:
        """Return what identifies a deployment: the image itself, environment and volumes.

        Two deploys with the same fingerprint are the same deployment, so a repeated call
        reuses the container; anything else (a rebuilt tag, another setting) replaces it.
        """
        spec = {
            "image": image_id,
            "env": sorted(env.items()),
            "volumes": [(m.volume, m.path, m.read_only) for m in self.config.volumes],
            "port": self.config.service_port,
        }
        return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]

    def start(
        self, colour: Colour, release: str, env: Mapping[str, str], fingerprint: str
    ) -> Container:
        """Create and start a colour's container running a release, on the service network."""
        cfg = self.config
        labels = {
            LABEL_SERVICE: cfg.service,
            LABEL_ROLE: Role.COLOUR.value,
            LABEL_COLOUR: colour.value,
            LABEL_RELEASE: release,
            LABEL_DEPLOYED_AT: f"{time.time():.6f}",
            LABEL_FINGERPRINT: fingerprint,
            **origin_labels(),  # lets a sweep find the leftovers of a killed run (origin.py)
        }
        volumes = {
            m.volume: {"bind": m.path, "mode": "ro" if m.read_only else "rw"} for m in cfg.volumes
        }
        name = cfg.container_name(colour)
        log.info("starting %s with release %s on network %s", name, release, cfg.network_name)
        try:
            container = self.client.containers.run(
                release,
                name=name,
                detach=True,
                network=cfg.network_name,
                environment=dict(env),
                labels=labels,
                volumes=volumes,
                restart_policy={"Name": "unless-stopped"},
                **dockerapi.hardening(cfg.limits),
            )
        except docker.errors.APIError as exc:
            raise BlueGreenError(f"could not start {name} with release {release}: {exc}") from exc
        container.reload()
        return container

    def wait_ready(self, colour: Colour, release: str) -> ProbeSummary:
        """Wait for N consecutive healthy answers from this colour through the preview listener.

        Raises ReleaseNeverReady (with the container's last log lines) on the deadline, or as
        soon as the container stops running.
        """
        cfg = self.config

        def exited() -> str | None:
            container = self.container(colour)
            if container is None:
                return "container disappeared"
            if container.status != "running":
                return f"container {container.status}"
            restarts = int(container.attrs.get("RestartCount") or 0)
            # The restart policy hides a crash loop behind "running": it is no less dead.
            return f"container crashed and was restarted {restarts} times" if restarts else None

        log.info(
            "waiting for %s (%s): %s consecutive healthy answers on preview %s:%s%s within %ss",
            colour.value,
            release,
            cfg.ready_threshold,
            cfg.router_host,
            cfg.preview_port,
            cfg.health_path,
            cfg.ready_deadline_s,
        )
        result = probe.until_streak(
            lambda: probe.get(
                cfg.router_host, cfg.preview_port, cfg.health_path, cfg.probe_timeout_s
            ),
            lambda answer: answer.healthy_from(colour),
            cfg.ready_threshold,
            cfg.ready_deadline_s,
            cfg.probe_interval_s,
            give_up=exited,
        )
        summary = ProbeSummary(
            listener=Listener.PREVIEW.value,
            path=cfg.health_path,
            requests=result.requests,
            healthy=result.healthy,
            seconds=round(result.seconds, 3),
        )
        if result.reached:
            log.info(
                "%s is ready: %s healthy answers of %s probes in %.2fs",
                colour.value,
                result.healthy,
                result.requests,
                result.seconds,
            )
            return summary
        container = self.container(colour)
        logs = dockerapi.tail(container, cfg.log_lines) if container else "(container gone)"
        reason = exited() or f"deadline of {cfg.ready_deadline_s:g}s passed"
        raise ReleaseNeverReady(
            f"release {release} in {cfg.container_name(colour)} never became ready ({reason}): "
            f"{result.healthy} healthy of {result.requests} probes on {cfg.health_path} through "
            f"the preview listener, last answer: {probe.describe(result.last)}. The new colour "
            f"was removed; the live colour was not touched. Last {cfg.log_lines} log lines:\n"
            f"{logs}"
        )
