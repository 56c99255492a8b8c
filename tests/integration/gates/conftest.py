"""A live service for the gates: 1.0.0 live on blue, each test's release on green (preview).

The service (router, blue, data volume) lives for the module; each test deploys its release
variant into green, measures it, and the fixture aborts green afterwards. Everything the
module created is removed at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from tests.support.demo import V1, ensure_demo_images, free_port

pytestmark = pytest.mark.integration

DEBUG_PORT_RELEASE = "handoff-demo:1.2.0-debug-port"
SCANNER = "handoff-scanner:latest"


@dataclass
class Service:
    """The module's service: its engine and where the router listens."""

    config: BlueGreenConfig
    engine: BlueGreenEngine
    client: docker.DockerClient

    @property
    def host(self) -> str:
        return self.config.router_host

    @property
    def live(self) -> int:
        return self.config.live_port

    @property
    def preview(self) -> int:
        return self.config.preview_port


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    ensure_demo_images()
    name = f"gt-{uuid.uuid4().hex[:8]}"
    config = BlueGreenConfig(
        service=name,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{name}-data", "/data"),),
        ready_deadline_s=30.0,
    )
    client = docker.DockerClient(base_url=config.docker_url, version="auto")
    engine = BlueGreenEngine(config, client=client)
    try:
        engine.deploy(V1)
        engine.switch(V1)
        yield Service(config, engine, client)
    finally:
        engine.teardown(remove_data=True, force=True)
        client.close()


Deploy = Callable[..., None]


@pytest.fixture
def deploy(service: Service) -> Iterator[Deploy]:
    """Deploy a release (with environment toggles) into the idle colour; abort it after."""

    def run(release: str, **env: str) -> None:
        service.engine.deploy(release, environment=env)

    yield run
    service.engine.abort()
