"""Frozen values a deployment target reports and returns: state snapshots, operation results.

No target's SDK appears here: the tasks read these values whichever target kind runs the
service (`handoff.target.port`).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class Colour(enum.Enum):
    """One of the two slots a service runs in."""

    BLUE = "blue"
    GREEN = "green"

    @property
    def other(self) -> Colour:
        """Return the opposite colour."""
        return Colour.GREEN if self is Colour.BLUE else Colour.BLUE


@dataclass(frozen=True)
class ColourState:
    """One colour's instance as the target reports it (for Docker: its container)."""

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


class ChangeOutcome(enum.Enum):
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
    outcome: ChangeOutcome
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
    outcome: ChangeOutcome
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
    outcome: ChangeOutcome
    seconds: float


@dataclass(frozen=True)
class ColourPosture:
    """What the target's inspection says about a colour's instance, for the security gate."""

    image_id: str
    exposed_ports: frozenset[str]
    published_ports: frozenset[str]
    privileged: bool
    added_capabilities: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        """Return the posture as plain values for evidence."""
        return {
            "image_id": self.image_id,
            "exposed_ports": sorted(self.exposed_ports),
            "published_ports": sorted(self.published_ports),
            "privileged": self.privileged,
            "added_capabilities": sorted(self.added_capabilities),
        }


@dataclass(frozen=True)
class CommandResult:
    """What one run of a one-off command beside a colour did.

    ``exit_code`` is None when the command was killed at its timeout; ``output`` holds its
    last lines (stdout and stderr), already bounded; ``release`` and ``colour`` say what it
    ran beside (the colour's release, or its image id when it has no release label).
    """

    argv: tuple[str, ...]
    release: str
    colour: str
    exit_code: int | None
    seconds: float
    output: tuple[str, ...]

    @property
    def timed_out(self) -> bool:
        """Tell whether the command was killed at its timeout."""
        return self.exit_code is None


@dataclass(frozen=True)
class ScanResult:
    """What a scanner image run beside the preview did: its exit code and last line.

    ``exit_code`` is -1 when the scanner could not run at all (``last_line`` says why) or
    was killed at its timeout.
    """

    exit_code: int
    last_line: str


@dataclass(frozen=True)
class ScrapePoints:
    """Where Prometheus, on the observability network, reads one service.

    ``exporter`` is the router's Prometheus exporter (``host:port``); ``colour_metrics``
    each colour's own /metrics (colour name -> ``host:port`` and path); ``health_urls`` the
    health URL of each listener (``live``, ``preview``) for the blackbox exporter's probes.
    """

    exporter: str
    colour_metrics: dict[str, tuple[str, str]]
    health_urls: dict[str, str]


@dataclass(frozen=True)
class EngineCapacity:
    """What the engine has free for a second colour, and what the live colour holds.

    Bytes throughout. ``live_*`` are 0 when nothing is live; ``colour_limit`` is the memory
    limit a new colour gets. ``available_memory`` is the engine host's MemAvailable, read
    where the colours run (for Docker: in a one-off container on the engine).
    """

    engine_version: str
    total_memory: int
    available_memory: int
    free_disk: int
    colour_limit: int
    live_limit: int
    live_usage: int

    def to_json(self) -> dict[str, Any]:
        """Return the plain JSON form (evidence records carry it)."""
        return asdict(self)


@dataclass(frozen=True)
class ThirdPartyCall:
    """One third-party service to ask from inside the release's network: GET ``url``."""

    name: str
    url: str
    timeout_s: float


@dataclass(frozen=True)
class ThirdPartyAnswer:
    """What one GET of a third-party service answered, as seen from the release's network.

    ``status`` is 0 when no HTTP answer came back (``error`` says why: refused, no such
    host, timed out); ``seconds`` is the latency measured inside the container.
    """

    name: str
    url: str
    status: int
    seconds: float
    error: str = ""
