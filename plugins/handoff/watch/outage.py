"""What a watch window does when the Docker engine itself stops answering (no Airflow import).

A failed probe during a window usually means the release misbehaves. When the Docker engine
under the router and the colours does not answer either, the failure says nothing about the
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
from urllib.parse import urlsplit

import httpx

from handoff.acceptance.environment import DEFAULT_POLICY, DEFAULT_WAIT, EngineOutagePolicy

__all__ = ["DEFAULT_POLICY", "DEFAULT_WAIT", "EngineOutage", "EngineOutagePolicy"]


@dataclass(frozen=True)
class EngineOutage:
    """The engine to check when probes fail, and the policy when it does not answer."""

    docker_url: str
    policy: EngineOutagePolicy = DEFAULT_POLICY
    wait_s: float = DEFAULT_WAIT.total_seconds()

    def __post_init__(self) -> None:
        if self.wait_s < 0:
            raise ValueError(f"engine outage wait must be >= 0 s, got {self.wait_s}")
        # An unusable URL fails where it is configured. Only the address is checked: building
        # a transport loads TLS certificates (~50 ms), and this runs at every DAG parse.
        engine_address(self.docker_url)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (trigger kwargs)."""
        return {"docker_url": self.docker_url, "policy": self.policy.value, "wait_s": self.wait_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineOutage:
        """Build the settings from their JSON form."""
        return cls(str(data["docker_url"]), EngineOutagePolicy(data["policy"]), data["wait_s"])

    def describe(self) -> str:
        """Return the policy in words, for the task log."""
        if self.policy is EngineOutagePolicy.BREACH:
            return f"an outage of the Docker engine at {self.docker_url} is a breach"
        return (
            f"during an outage of the Docker engine at {self.docker_url} probes do not count; "
            f"wait up to {self.wait_s:g} s for it and the service to recover, then breach"
        )


def engine_address(docker_url: str) -> tuple[str | None, str]:
    """Return the engine API's Unix socket (or None) and the base URL that reaches it."""
    parts = urlsplit(docker_url)
    if parts.scheme == "unix":
        return parts.path, "http://docker"
    if parts.scheme in ("tcp", "http", "https"):
        scheme = "https" if parts.scheme == "https" else "http"
        return None, f"{scheme}://{parts.netloc}"
    raise ValueError(f"docker_url must be unix://, tcp://, http:// or https://, got {docker_url!r}")


def engine_transport(docker_url: str) -> tuple[httpx.AsyncHTTPTransport | None, str]:
    """Return the transport and the base URL that reach the engine's API."""
    socket_path, base_url = engine_address(docker_url)
    return (httpx.AsyncHTTPTransport(uds=socket_path) if socket_path else None), base_url


async def engine_answers(docker_url: str, timeout_s: float = 2.0) -> bool:
    """Tell whether the engine's API answers its ping (never raises)."""
    transport, base_url = engine_transport(docker_url)
    try:
        async with httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=timeout_s, trust_env=False
        ) as client:
            response = await client.get("/_ping")
    except Exception:  # any failure to reach it is the answer: it does not answer
        return False
    return response.status_code == 200
