"""Blue-green operations: deploy, switch, rollback, abort, retire, status.

Every operation discovers the state afresh (container labels, the router's runtime API and
its persisted file), takes the service's deployment lock, and moves the state toward its
target, so calling it twice, or again after a crash halfway, converges. Nothing is remembered
between calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import docker

from handoff.bluegreen import dockerapi, probe, tls
from handoff.bluegreen.colours import Colours
from handoff.bluegreen.config import BlueGreenConfig, Colour, Listener, Role
from handoff.bluegreen.errors import InvalidState, ReleaseNeverReady, VerificationFailed
from handoff.bluegreen.lock import DeploymentLock
from handoff.bluegreen.router import Router
from handoff.target.models import (
    ChangeOutcome,
    ColourState,
    DeployResult,
    ProbeSummary,
    RetireResult,
    ServiceState,
    SwitchResult,
    newest,
    previous,
)

log = logging.getLogger(__name__)


class BlueGreenEngine:
    """Blue-green deployments of one service on a Docker engine behind a HAProxy router.

    Parameters: ``config`` (the service's settings); ``client`` (an existing Docker client,
    mostly for tests; by default one is connected to ``config.docker_url``);
    ``lock_wait_s`` (how long to wait for another deployment's lock before failing).
    """

    def __init__(
        self,
        config: BlueGreenConfig,
        client: docker.DockerClient | None = None,
        lock_wait_s: float = 0.0,
    ) -> None:
        self.config = config
        self.client = client or dockerapi.connect(config.docker_url)
        self.router = Router(self.client, config)
        self.colours = Colours(self.client, config)
        self.lock = DeploymentLock(self.client, config)
        self.lock_wait_s = lock_wait_s

    # -- read-only ---------------------------------------------------------------------

    def status(self) -> ServiceState:
        """Discover which colours run which release and where each listener routes."""
        return ServiceState(self.config.service, self.colours.discover(), self.router.state())

    # -- deploy ------------------------------------------------------------------------

    def deploy(self, release: str, environment: Mapping[str, str] | None = None) -> DeployResult:
        """Start the release in the idle colour and wait until it is ready through preview.

        The first deployment of a service creates its network and router and uses blue.
        The live colour is never touched. A colour that never becomes ready is removed and
        ReleaseNeverReady is raised with its last log lines.
        """
        started = time.monotonic()
        image_id = dockerapi.require_image(self.client, release, "release")
        with self.lock.held(f"deploy {release}", self.lock_wait_s):
            self.router.ensure_running()
            state = self.status()
            router = state.router
            if router.live is not None and router.live != router.persisted_live:
                # The idle colour is ambiguous: replacing it could replace what a router
                # restart would make live.
                raise InvalidState(
                    f"deploy {self.config.service}: live is {router.live.value} at runtime but "
                    f"{router.persisted_live.value if router.persisted_live else 'none'} in the "
                    "router's file (an interrupted switch or rollback); run it again first"
                )
            live = router.live or router.persisted_live
            target = live.other if live else Colour.BLUE
            log.info(
                "deploy %s for %s: live colour is %s, deploying into %s",
                release,
                self.config.service,
                live.value if live else "none (first deployment)",
                target.value,
            )
            outcome = self._ensure_colour(
                state.colour(target), target, release, image_id, environment
            )
            self.router.converge(live, target, self._addresses(target))
            try:
                ready = self.colours.wait_ready(target, release)
            except ReleaseNeverReady:
                self._remove_colour(target, "never became ready")
                raise
            container = self.colours.container(target)
            return DeployResult(
                service=self.config.service,
                colour=target,
                release=release,
                container_id=str(container.id) if container else "",
                outcome=outcome,
                live_colour=live,
                ready=ready,
                seconds=round(time.monotonic() - started, 3),
            )

    def _ensure_colour(
        self,
        existing: ColourState | None,
        colour: Colour,
        release: str,
        image_id: str,
        environment: Mapping[str, str] | None,
    ) -> ChangeOutcome:
        """Make the idle colour run this release, reusing a container of the same deployment."""
        env = self.colours.environment(colour, release, environment)
        fingerprint = self.colours.fingerprint(image_id, env)
        if existing is not None:
            if existing.running and existing.fingerprint == fingerprint:
                log.info("%s already runs %s as asked; reusing it", existing.name, release)
                return ChangeOutcome.ALREADY_DONE
            why = "stopped" if not existing.running else "different image or settings"
            self._remove_colour(colour, f"idle colour replaced by {release}: {why}")
        self.colours.start(colour, release, env, fingerprint)
        return ChangeOutcome.CHANGED

    def _addresses(self, colour: Colour) -> dict[Colour, str]:
        """Return the colour's current address, so the router need not wait for DNS."""
        container = self.colours.container(colour)
        address = dockerapi.address_on(container, self.config.network_name) if container else None
        return {colour: address} if address else {}

    def _remove_colour(self, colour: Colour, reason: str) -> None:
        container = self.colours.container(colour)
        if container is not None:
            dockerapi.remove(container, reason)

    # -- switch / rollback -------------------------------------------------------------

    def switch(self, expected_release: str | None = None) -> SwitchResult:
        """Send live traffic to the most recently deployed colour and verify it answers."""
        with self.lock.held("switch", self.lock_wait_s):
            self.router.ensure_running()
            target = newest(self.colours.discover())
            if target is None:
                raise InvalidState(
                    f"service {self.config.service} has no colour to switch to; deploy first"
                )
            if expected_release is not None and target.release != expected_release:
                raise InvalidState(
                    f"the newest colour {target.colour.value} runs {target.release}, not "
                    f"{expected_release}; deploy {expected_release} before switching to it"
                )
            return self._route_live_to(target, "switch")

    def rollback(self) -> SwitchResult:
        """Send live traffic back to the previous colour (kept warm) and verify it answers."""
        with self.lock.held("rollback", self.lock_wait_s):
            self.router.ensure_running()
            target = previous(self.colours.discover())
            if target is None:
                raise InvalidState(
                    f"service {self.config.service} has no previous colour to roll back to "
                    "(first deployment, or the old colour was already retired)"
                )
            return self._route_live_to(target, "rollback")

    def _routable_state(self) -> ServiceState:
        self.router.ensure_running()
        return self.status()

    def _route_live_to(self, target: ColourState, op: str) -> SwitchResult:
        """Make ``target`` live and the other colour preview; converge, then verify.

        The router step reads the routing it replaces and applies the target in one go, so
        a rollback costs one round trip to the router; an unchanged target is a no-op there.
        """
        started = time.monotonic()
        want_live, want_preview = target.colour, target.colour.other
        log.info(
            "%s %s: routing live to %s (%s), preview to %s",
            op,
            self.config.service,
            want_live.value,
            target.release,
            want_preview.value,
        )
        if not target.running:
            self._restart_colour(target)
        # Desired state first (inside converge): a crash after the file is replaced leaves
        # state the next call completes; the runtime change is what users feel.
        before, _ = self.router.converge(want_live, want_preview, self._addresses(want_live))
        done = (before.live, before.preview) == (want_live, want_preview) and before.in_sync
        router_seconds = time.monotonic() - started
        verify = self._verify_live(want_live, target.release)
        log.info(
            "%s done: live %s -> %s (%s) in %.3fs, router step %.3fs%s",
            op,
            before.live.value if before.live else "none",
            want_live.value,
            target.release,
            time.monotonic() - started,
            router_seconds,
            " (it already was: nothing changed)" if done else "",
        )
        return SwitchResult(
            service=self.config.service,
            from_colour=before.live,
            to_colour=want_live,
            release=target.release,
            outcome=ChangeOutcome.ALREADY_DONE if done else ChangeOutcome.CHANGED,
            router_seconds=round(router_seconds, 3),
            verify=verify,
            seconds=round(time.monotonic() - started, 3),
        )

    def _restart_colour(self, target: ColourState) -> None:
        container = self.colours.container(target.colour)
        if container is None:
            raise InvalidState(f"{target.name} disappeared; deploy {target.release} again")
        log.warning("%s is %s; starting it before routing to it", target.name, target.status)
        container.start()
        container.reload()
        live = self.router.state().live  # unchanged: only preview moves to the restarted one
        self.router.converge(live, target.colour, self._addresses(target.colour))
        # Preview routes to the non-live colour, which this one is until the switch.
        self.colours.wait_ready(target.colour, target.release)

    def _verify_live(self, colour: Colour, release: str) -> ProbeSummary:
        cfg = self.config
        live_tls = tls.client_of(cfg.live_tls)
        result = probe.until_streak(
            lambda: probe.get(
                cfg.router_host, cfg.live_port, cfg.health_path, cfg.probe_timeout_s, live_tls
            ),
            lambda answer: answer.healthy_from(colour),
            cfg.verify_threshold,
            cfg.verify_deadline_s,
            interval_s=0.01,
        )
        summary = ProbeSummary(
            Listener.LIVE.value, cfg.health_path, result.requests, result.healthy, result.seconds
        )
        if not result.reached:
            raise VerificationFailed(
                f"live listener {cfg.router_host}:{cfg.live_port} did not answer "
                f"{cfg.verify_threshold} times in a row from {colour.value} ({release}) within "
                f"{cfg.verify_deadline_s:g}s; last answer: {probe.describe(result.last)}. "
                "The router routes to it; roll back if the release is at fault"
            )
        log.info(
            "verified: %s consecutive healthy answers from %s on live in %.3fs",
            result.healthy,
            colour.value,
            result.seconds,
        )
        return summary

    # -- abort / retire ----------------------------------------------------------------

    def abort(self) -> RetireResult:
        """Remove a deployed release that never went live; the live colour is untouched."""
        return self._remove_idle("abort", only_if_newest=True)

    def retire_old(self) -> RetireResult:
        """Stop and remove the colour that is not live (after handover, or after rollback)."""
        return self._remove_idle("retire", only_if_newest=False)

    def _remove_idle(self, op: str, only_if_newest: bool) -> RetireResult:
        started = time.monotonic()
        with self.lock.held(op, self.lock_wait_s):
            state = self._routable_state()
            router = state.router
            live = router.live
            if live is None or not router.in_sync:
                persisted = router.persisted_live.value if router.persisted_live else "none"
                raise InvalidState(
                    f"{op} {self.config.service}: the router's live colour is "
                    f"{live.value if live else 'none'} at runtime and {persisted} in its "
                    "file; finish the interrupted switch or rollback first"
                )
            idle = state.colour(live.other)
            if idle is None or (only_if_newest and state.newest != idle):
                log.info("%s: nothing to remove; %s stays live", op, live.value)
                return RetireResult(
                    self.config.service, None, None, live, ChangeOutcome.ALREADY_DONE, 0.0
                )
            self._remove_colour(idle.colour, f"{op}: not live")
            return RetireResult(
                service=self.config.service,
                retired_colour=idle.colour,
                retired_release=idle.release,
                live_colour=live,
                outcome=ChangeOutcome.CHANGED,
                seconds=round(time.monotonic() - started, 3),
            )

    # -- operations helpers ------------------------------------------------------------

    def restart_router(self) -> ServiceState:
        """Restart the router container and return the routing it came back with."""
        with self.lock.held("restart router", self.lock_wait_s):
            self.router.restart()
            return self.status()

    def teardown(self, remove_data: bool = False, force: bool = False) -> None:
        """Remove the service's colours, router, lease, router state and network; data if asked.

        The configured volumes (e.g. the shared store) survive unless ``remove_data``;
        ``force`` first removes the deployment lock whoever holds it (test clean-up).
        """
        cfg = self.config
        if force:
            self.lock.break_()
        with self.lock.held("teardown", self.lock_wait_s):
            for role in (Role.COLOUR, Role.ROUTER, Role.LEASE):
                for container in dockerapi.find(self.client, cfg.service, role):
                    dockerapi.remove(container, "teardown", stop_timeout=2)
            volumes = [cfg.router_volume] + ([m.volume for m in cfg.volumes] if remove_data else [])
            for name in volumes:
                dockerapi.remove_volume(self.client, name)
            for network in self.client.networks.list(names=[cfg.network_name]):
                log.info("removing network %s", cfg.network_name)
                network.remove()
