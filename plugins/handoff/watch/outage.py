"""What a watch window does when the target's engine itself stops answering (no Airflow import).

A failed probe during a window usually means the release misbehaves. When the engine under
the router and the colours (for docker-haproxy: the Docker engine, asked through the kind's
`OutagePing`) does not answer either, the failure says nothing about the
release: the engine is being restarted or has crashed. The environment chooses the policy:

- ``breach``: an engine outage is a breach; the window fails and the rollback is attempted.
- ``wait`` (default): probes stop counting, the window waits up to ``wait`` for the engine to
  answer and the live listener to answer healthily again, then carries on; past the bound it
  is a breach. A rollback could not run while the engine is down anyway (it is a router
  change made through the engine), and a restarted engine brings the router and both colours
  back by their restart policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoff.acceptance.environment import (
    DEFAULT_POLICY,
    DEFAULT_WAIT,
    EngineOutagePolicy,
    Environment,
)
from handoff.runtime.engine_factory import wiring
from handoff.target import DEFAULT_KIND, OutagePing, TargetKind

__all__ = ["DEFAULT_POLICY", "DEFAULT_WAIT", "EngineOutage", "EngineOutagePolicy"]


@dataclass(frozen=True)
class EngineOutage:
    """The engine to check when probes fail, and the policy when it does not answer.

    ``address`` is where the target kind's engine answers (docker-haproxy: the Docker URL).
    """

    address: str
    policy: EngineOutagePolicy = DEFAULT_POLICY
    wait_s: float = DEFAULT_WAIT.total_seconds()
    kind: str = DEFAULT_KIND.value

    def __post_init__(self) -> None:
        if self.wait_s < 0:
            raise ValueError(f"engine outage wait must be >= 0 s, got {self.wait_s}")
        self.ping.check(self.address)  # an unusable address fails where it is configured

    @classmethod
    def of(cls, environment: Environment) -> EngineOutage:
        """Return the outage settings of an environment: its target's engine, its policy."""
        kind = environment.target.kind
        return cls(
            wiring(kind).outage_address(environment),
            environment.watch.engine_outage,
            environment.watch.engine_outage_wait.total_seconds(),
            kind.value,
        )

    @property
    def ping(self) -> OutagePing:
        """Return how this target kind's engine is asked whether it answers."""
        return wiring(TargetKind(self.kind)).ping

    @property
    def engine(self) -> str:
        """Return 'the Docker engine at unix:///…' for logs and breach reasons."""
        return f"{self.ping.what} at {self.address}"

    async def answers(self, timeout_s: float = 2.0) -> bool:
        """Tell whether the engine answers (never raises)."""
        return await self.ping.answers(self.address, timeout_s)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (trigger kwargs)."""
        return {
            "kind": self.kind,
            "address": self.address,
            "policy": self.policy.value,
            "wait_s": self.wait_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineOutage:
        """Build the settings from their JSON form (``docker_url``: a trigger deferred before
        target kinds, which is docker-haproxy)."""
        address = data["address"] if "address" in data else data["docker_url"]
        kind = str(data.get("kind", DEFAULT_KIND.value))
        return cls(str(address), EngineOutagePolicy(data["policy"]), data["wait_s"], kind)

    def describe(self) -> str:
        """Return the policy in words, for the task log."""
        if self.policy is EngineOutagePolicy.BREACH:
            return f"an outage of {self.engine} is a breach"
        return (
            f"during an outage of {self.engine} probes do not count; "
            f"wait up to {self.wait_s:g} s for it and the service to recover, then breach"
        )


async def engine_answers(
    address: str, timeout_s: float = 2.0, kind: str = DEFAULT_KIND.value
) -> bool:
    """Tell whether a target kind's engine answers at ``address`` (never raises)."""
    return await wiring(TargetKind(kind)).ping.answers(address, timeout_s)
