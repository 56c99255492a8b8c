"""A fresh demo service, 1.0.0 live on blue and watched by the machine's Prometheus.

Shared by the benchmarks that judge real traffic in Prometheus (bench_real_traffic_fault,
bench_watch_windows): the stack is started when missing, the service gets its own name,
ports and volume, and everything it created is removed on exit.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount  # noqa: E402
from tests.integration.observability.test_stack import stack_module  # noqa: E402
from tests.support.demo import V1, ensure_demo_images, free_port  # noqa: E402


@dataclass(frozen=True)
class WatchedService:
    """The service's engine and ports, its API token, and where Prometheus answers."""

    engine: BlueGreenEngine
    config: BlueGreenConfig
    token: str
    colour: str  # the colour 1.0.0 went live on
    prometheus_url: str
    stack: Any


@contextmanager
def watched_service() -> Iterator[WatchedService]:
    """Deploy 1.0.0 live on blue, register its router with Prometheus; remove it after."""
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    stack = stack_module.Stack(stack_module.Settings.from_env(), client)
    stack.up()
    service = f"bench-{uuid.uuid4().hex[:8]}"
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{service}-data", "/data"),),
        ready_deadline_s=30.0,
    )
    engine = BlueGreenEngine(config, client=client)
    token = secrets.token_hex(16)
    try:
        engine.deploy(V1, environment={"DEMO_API_TOKEN": token})
        colour = engine.switch(V1).to_colour.value
        stack.sync({service})
        url = stack.settings.url(stack.settings.prometheus_port)
        yield WatchedService(engine, config, token, colour, url, stack)
    finally:
        engine.teardown(remove_data=True, force=True)
        stack.sync(set())
        client.close()
