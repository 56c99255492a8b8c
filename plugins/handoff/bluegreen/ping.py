"""Ask the Docker engine's API whether it answers (`/_ping`), for the watch windows.

Runs in the triggerer, asynchronously, with httpx over the engine's Unix socket or TCP: the
Docker SDK is synchronous and its client would block the triggerer's event loop.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


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


class DockerEnginePing:
    """The docker-haproxy kind's `OutagePing`: the Docker engine's `/_ping`."""

    what = "the Docker engine"

    def check(self, address: str) -> None:
        """Refuse an address that is no Docker engine URL (ValueError)."""
        # Only the address is checked: building a transport loads TLS certificates (~50 ms),
        # and this runs at every DAG parse.
        engine_address(address)

    async def answers(self, address: str, timeout_s: float) -> bool:
        """Tell whether the engine's API answers its ping (never raises)."""
        transport, base_url = engine_transport(address)
        try:
            async with httpx.AsyncClient(
                base_url=base_url, transport=transport, timeout=timeout_s, trust_env=False
            ) as client:
                response = await client.get("/_ping")
        except Exception:  # any failure to reach it is the answer: it does not answer
            return False
        return response.status_code == 200
