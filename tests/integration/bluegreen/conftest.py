"""Fixtures for the blue-green tests on a real Docker engine with the real HAProxy router.

The session makes sure an engine answers and the demo images exist by running the project's
own scripts (the same ones `make demo-images` runs), so `pytest` alone works on a fresh
machine. Every test gets its own service name, ports, network and volumes, and everything it
created is removed afterwards.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from tests.support.demo import ROOT, V1, V2, ensure_demo_images, free_port

__all__ = ["ROOT", "V1", "V2", "free_port"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """Return a client to an engine with the demo images, building what is missing."""
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    yield client
    client.close()


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
