"""Frozen values the engine discovers and returns: state snapshots and operation results."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from handoff.bluegreen.config import Colour


@dataclass(frozen=True)
class ColourState:
    """One colour's container as Docker reports it."""

    colour: Colour
    container_id: str
    name: str
    release: str
    fingerprint: str
    deployed_at: float
    running: bool
    status: str
    address: str | None


@dataclass(frozen=True)
class RouterState:
    """Which colour each listener sends traffic to, at runtime and in the persisted file.

    ``live`` / ``preview`` come from HAProxy's runtime API (what users get now);
    ``persisted_live`` / ``persisted_preview`` from the configuration a restart would load.
    They differ only between the two steps of a switch, e.g. after a crash.
    """

    running: bool
    live: Colour | None
    preview: Colour | None
    persisted_live: Colour | None
    persisted_preview: Colour | None

    @property
    def in_sync(self) -> bool:
        """Tell whether a restarted router would route exactly as the running one does."""
        return (self.live, self.preview) == (self.persisted_live, self.persisted_preview)


@dataclass(frozen=True)
class ServiceState:
    """Everything the engine knows about a service, discovered afresh on every call."""

    service: str
    colours: tuple[ColourState, ...]
    router: RouterState

    def colour(self, colour: Colour) -> ColourState | None:
        """Return one colour's container state, or None when it has no container."""
        return next((c for c in self.colours if c.colour is colour), None)

    @property
    def live(self) -> ColourState | None:
        """Return the colour users are served by now, if any."""
        return self.colour(self.router.live) if self.router.live else None

    @property
    def newest(self) -> ColourState | None:
        """Return the most recently deployed colour (the release candidate)."""
        return newest(self.colours)

    @property
    def previous(self) -> ColourState | None:
        """Return the older colour (what a rollback goes back to), if both exist."""
        return previous(self.colours)


def newest(colours: tuple[ColourState, ...]) -> ColourState | None:
    """Return the most recently deployed of some colours."""
    return max(colours, key=lambda c: c.deployed_at, default=None)


def previous(colours: tuple[ColourState, ...]) -> ColourState | None:
    """Return the older of two colours; None unless both exist."""
    return min(colours, key=lambda c: c.deployed_at) if len(colours) > 1 else None


class Outcome(enum.Enum):
    """Whether an operation changed anything or found its target state already in place."""

    CHANGED = "changed"
    ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class ProbeSummary:
    """Consecutive probes through one listener until a threshold was met."""

    listener: str
    path: str
    requests: int
    healthy: int
    seconds: float


@dataclass(frozen=True)
class DeployResult:
    """The release runs in the idle colour and answers through the preview listener."""

    service: str
    colour: Colour
    release: str
    container_id: str
    outcome: Outcome
    live_colour: Colour | None
    ready: ProbeSummary
    seconds: float


@dataclass(frozen=True)
class SwitchResult:
    """Live traffic moved to ``to_colour`` (switch or rollback) and was verified there."""

    service: str
    from_colour: Colour | None
    to_colour: Colour
    release: str
    outcome: Outcome
    router_seconds: float
    verify: ProbeSummary
    seconds: float


@dataclass(frozen=True)
class RetireResult:
    """The colour that is not live has been stopped and removed."""

    service: str
    retired_colour: Colour | None
    retired_release: str | None
    live_colour: Colour
    outcome: Outcome
    seconds: float


@dataclass(frozen=True)
class StatusReport:
    """A read-only snapshot for preflight checks and reports."""

    state: ServiceState
    engine_version: str
