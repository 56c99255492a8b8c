"""Fixtures for the blue-green tests on a real Docker engine with the real HAProxy router.

The session makes sure an engine answers and the demo images exist by running the project's
own scripts (the same ones `make demo-images` runs), so `pytest` alone works on a fresh
machine. Every test gets its own service name, ports, network and volumes, and everything it
created is removed afterwards.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "include" / "demo" / "scripts"
V1 = "handoff-demo:1.0.0"
V2 = "handoff-demo:1.1.0"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """Return a client to an engine with the demo images, building what is missing."""
    for script in ("ensure-docker.sh", "build-images.sh"):
        done = subprocess.run(
            [str(SCRIPTS / script)], capture_output=True, text=True, timeout=1800, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{script} failed:\n{done.stdout}\n{done.stderr}")
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    yield client
    client.close()


def free_port() -> int:
    """Return a loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ConfigFactory = Callable[..., BlueGreenConfig]


@pytest.fixture
def make_config(docker_client: docker.DockerClient) -> Iterator[ConfigFactory]:
    """Return a factory of configs for fresh services, cleaned up after the test."""
    configs: list[BlueGreenConfig] = []

    def make(**overrides: object) -> BlueGreenConfig:
        service = f"it-{uuid.uuid4().hex[:8]}"
        settings: dict[str, object] = {
            "service": service,
            "live_port": free_port(),
            "preview_port": free_port(),
            "volumes": (VolumeMount(f"{service}-data", "/data"),),
            "ready_deadline_s": 30.0,
        }
        settings.update(overrides)
        config = BlueGreenConfig(**settings)  # type: ignore[arg-type]
        configs.append(config)
        return config

    yield make
    for config in configs:
        BlueGreenEngine(config, client=docker_client).teardown(remove_data=True, force=True)


@pytest.fixture
def engine(make_config: ConfigFactory, docker_client: docker.DockerClient) -> BlueGreenEngine:
    """Return an engine for a fresh service (nothing deployed yet)."""
    logging.getLogger("handoff").setLevel(logging.INFO)
    return BlueGreenEngine(make_config(), client=docker_client)


@pytest.fixture
def live_blue_then_green_idle(engine: BlueGreenEngine) -> BlueGreenEngine:
    """Return an engine whose service has V1 live in blue and V2 ready in green."""
    engine.deploy(V1)
    engine.switch(V1)
    engine.deploy(V2)
    return engine
