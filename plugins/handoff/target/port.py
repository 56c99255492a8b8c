"""The deployment-target port: what a handoff's tasks need from wherever the service runs.

The tasks (`handoff.tasks`) deploy, switch, roll back and inspect a service only through a
`DeploymentTarget`; they never import a target's SDK. The first implementation is Docker +
HAProxy (`handoff.bluegreen.target.DockerHaproxyTarget`); `handoff.runtime.engine_factory`
picks the implementation from the environment file's ``target.kind``. docs/adding-a-target.md
says how to add a kind.

Every operation discovers the state afresh and moves it toward its target, so a retried task
converges: calling ``switch`` twice leaves live where the first call put it and reports
`ChangeOutcome.ALREADY_DONE`. Failures the target means are `TargetError`s (state that does
not allow the operation: `InvalidState`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from handoff.target.lease import Acquisition, EndedCheck
from handoff.target.models import (
    Colour,
    ColourPosture,
    CommandResult,
    DeployResult,
    EngineCapacity,
    RetireResult,
    ScanResult,
    ScrapePoints,
    ServiceState,
    SwitchResult,
    ThirdPartyAnswer,
    ThirdPartyCall,
)

#: Receives each line a scanner prints, as it prints it (the task log streams them).
LineSink = Callable[[str], None]


class DeploymentTarget(Protocol):
    """One service's two colours and the router between them, wherever they run.

    ``kind`` names the implementation (the environment's ``target.kind``); ``service`` the
    service every call is about.
    """

    @property
    def kind(self) -> str:
        """Return the target kind, e.g. ``docker-haproxy``."""
        ...

    @property
    def service(self) -> str:
        """Return the service's name."""
        ...

    # -- state and steps ---------------------------------------------------------------

    def status(self) -> ServiceState:
        """Discover which colours run which release and where each listener routes."""
        ...

    def deploy(self, release: str) -> DeployResult:
        """Start the release in the idle colour and wait until it is ready through preview."""
        ...

    def switch(self, expected_release: str | None = None) -> SwitchResult:
        """Send live traffic to the most recently deployed colour and verify it answers."""
        ...

    def rollback(self) -> SwitchResult:
        """Send live traffic back to the previous colour (kept warm) and verify it answers."""
        ...

    def abort(self) -> RetireResult:
        """Remove a deployed release that never went live; the live colour is untouched."""
        ...

    def retire_old(self) -> RetireResult:
        """Remove the colour that is not live (after handover, or after a rollback)."""
        ...

    # -- the service lease -------------------------------------------------------------

    def acquire_lease(self, owner: str, purpose: str, ended: EndedCheck) -> Acquisition:
        """Take the service's lease, find it already ours, or report the live holder.

        A holder for which ``ended`` gives a reason is stale and broken. Never waits.
        """
        ...

    def release_lease(self, owner: str, step: str) -> bool:
        """Give the lease back if ``owner`` holds it; return whether it did."""
        ...

    # -- what the gates read and run ---------------------------------------------------

    def posture(self, colour: Colour) -> ColourPosture | None:
        """Return what the security gate judges of a colour; None when it has no instance."""
        ...

    def image_id(self, release: str) -> str | None:
        """Return the immutable id the release's tag names now; None when it names none."""
        ...

    def run_beside(self, colour: Colour, argv: Sequence[str], timeout_s: float) -> CommandResult:
        """Run argv (no shell) beside a colour: its image, environment, data and network.

        Killed at ``timeout_s`` (then ``exit_code`` is None). Raises `CommandUnusable` when
        the command cannot be run at all, `TargetError` when the colour has no instance.
        """
        ...

    def run_release(self, release: str, argv: Sequence[str], timeout_s: float) -> CommandResult:
        """Run argv (no shell) in a one-off instance of a release, set up as its colours are.

        For the release's own migration command, before and around the deploy: the release's
        image, the colours' environment (the database URL included), data and network.
        Killed at ``timeout_s``; raises `CommandUnusable` when it cannot be run at all.
        """
        ...

    def scan_preview(
        self, image: str, environment: Mapping[str, str], timeout_s: float, on_line: LineSink
    ) -> ScanResult:
        """Run a scanner image beside the service, reaching the release through preview.

        ``HANDOFF_SCAN_URL`` (where preview answers from beside the service) is added to
        ``environment``. A scanner that cannot run or outlives ``timeout_s`` gives exit -1.
        """
        ...

    def capacity(self) -> EngineCapacity:
        """Measure what the engine has free for a second colour beside the live one."""
        ...

    def call_third_parties(
        self, release: str, calls: Sequence[ThirdPartyCall]
    ) -> tuple[str, list[ThirdPartyAnswer]]:
        """GET each call's URL from inside the release's network, once; never follow a redirect.

        Return where the calls went out from (the network's name) and an answer per call, in
        order. Raises `TargetError` when the release's image cannot run the probe.
        """
        ...

    # -- observability -----------------------------------------------------------------

    def expose_metrics(self, network: str, health_path: str) -> ScrapePoints:
        """Make the service's metrics reachable from ``network``; say where Prometheus reads.

        Idempotent: a service already reachable stays as it is. Raises `TargetError` when
        the network does not exist or the service has no router yet.
        """
        ...


class OutagePing(Protocol):
    """How a watch window asks whether a target kind's engine answers at all.

    Used from the triggerer (asynchronously, from the address alone: a trigger holds only
    JSON), so a failed probe during an engine outage is not blamed on the release.
    ``what`` names the engine in logs and breach reasons ("the Docker engine").
    """

    @property
    def what(self) -> str:
        """Return the engine's name for messages."""
        ...

    def check(self, address: str) -> None:
        """Refuse an unusable address (ValueError) where it is configured."""
        ...

    async def answers(self, address: str, timeout_s: float) -> bool:
        """Tell whether the engine at ``address`` answers within ``timeout_s``; never raise."""
        ...
