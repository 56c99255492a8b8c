"""Benchmark: how long each validation gate's measurement takes, on a good and a slow release.

Blue runs 1.0.0 live; green runs 1.2.0 (then 1.2.0 slowed by 300 ms) on preview. Prints, per
check, the wall time and what it measured: the performance load (50 requests per endpoint
and listener over 2 connections in alternating rounds, as the seed's defaults), the security
headers and the engine's inspection, the accessibility audit of both colours in one Chromium,
a smoke journey and the scanner container. Bounded; removes everything it created. Needs
`make demo-images` and `make browser`.
Run: `PYTHONPATH=plugins python tests/benchmarks/bench_gates.py`.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import docker

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, Colour, VolumeMount
from handoff.checks import accessibility, performance, security, smoke
from handoff.checks.http import exchange

V1, V3 = "handoff-demo:1.0.0", "handoff-demo:1.2.0"
REQUESTS, CONNECTIONS = 50, 2
PATHS = ("/", "/api/optimize")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(name: str, work: Callable[[], Any]) -> Any:
    started = time.monotonic()
    result = work()
    print(f"  {name:<28} {time.monotonic() - started:6.2f} s")
    return result


def gates(config: BlueGreenConfig, engine: BlueGreenEngine, client: docker.DockerClient) -> None:
    host, live, preview = config.router_host, config.live_port, config.preview_port
    for path in PATHS:
        new, base = timed(
            f"performance {path}",
            lambda p=path: performance.measure_against_baseline(
                host, preview, live, p, REQUESTS, CONNECTIONS
            ),
        )
        budget = performance.Budget(2000, 10, 50, 1)
        print(f"    {performance.judge(path, new, base, budget).summary}")
    state = engine.status()
    green, blue = state.colour(Colour.GREEN), state.colour(Colour.BLUE)
    assert green is not None and blue is not None

    def posture() -> str:
        answers = {p: exchange(host, preview, p) for p in (*PATHS, "/health")}
        new = security.Posture.from_inspection(client.containers.get(green.container_id).attrs)
        old = security.Posture.from_inspection(client.containers.get(blue.container_id).attrs)
        return (
            security.judge_headers(answers, security.DEFAULT_REQUIRED_HEADERS).summary
            + " | "
            + security.judge_posture(new, old).summary
        )

    print(f"    {timed('security', posture)}")
    urls = [f"http://{host}:{port}/" for port in (preview, live)]
    new_page, old_page = timed("accessibility (2 pages)", lambda: accessibility.audit(urls))
    print(f"    {accessibility.judge('/', new_page, old_page, 0).summary}")
    steps = [smoke.Step("GET", "/", (200,), "dashboard"), smoke.Step("GET", "/version", (200,))]
    journey = timed(
        "smoke journey",
        lambda: smoke.run_journey(
            "home", steps, lambda s: exchange(host, preview, s.path), "preview"
        ),
    )
    print(f"    {journey.summary}")

    def scan() -> int:
        container = client.containers.run(
            "handoff-scanner:latest",
            environment={"HANDOFF_SCAN_URL": f"http://{config.router_name}:8081"},
            network=config.network_name,
            detach=True,
        )
        try:
            return int(container.wait(timeout=60)["StatusCode"])
        finally:
            container.remove(force=True)

    print(f"    scanner exit {timed('scanner container', scan)}")


def main() -> None:
    name = f"bench-gates-{uuid.uuid4().hex[:6]}"
    config = BlueGreenConfig(
        service=name,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{name}-data", "/data"),),
    )
    client = docker.DockerClient(base_url=config.docker_url, version="auto")
    engine = BlueGreenEngine(config, client=client)
    try:
        engine.deploy(V1)
        engine.switch(V1)
        for label, env in (
            ("good release", {}),
            ("slow release (300 ms)", {"DEMO_MODE": "slow", "DEMO_LATENCY_MS": "300"}),
        ):
            engine.deploy(V3, environment=env)
            print(f"{label}: {V3} on preview, {V1} live")
            gates(config, engine, client)
            engine.abort()
    finally:
        engine.teardown(remove_data=True, force=True)
        client.close()


if __name__ == "__main__":
    main()
