"""Every container the engine creates drops its capabilities and runs under limits.

On the real engine: a colour and the router (a deploy and a switch, so both still work with
no capability at all), the deployment lock's marker, and the integrity command's one-off
container (inspected while it runs), each checked with `docker inspect`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import docker

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.bluegreen.config import LABEL_SERVICE, ContainerLimits
from handoff.bluegreen.lock import DeploymentLock
from handoff.bluegreen.oneoff import ROLE, run_beside
from tests.integration.bluegreen.conftest import V1, ConfigFactory

LIMITS = ContainerLimits(memory_mb=96, pids=64)
MEMORY = 96 * 2**20


def assert_hardened(attrs: dict[str, Any], what: str) -> None:
    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd"), (what, host["CapDrop"])
    assert "no-new-privileges:true" in (host.get("SecurityOpt") or []), (what, host)
    assert host["Memory"] == MEMORY and host["MemorySwap"] == MEMORY, (what, host["Memory"])
    assert host["PidsLimit"] == LIMITS.pids, (what, host["PidsLimit"])
    assert not host.get("Privileged"), what


def test_colour_router_lock_and_integrity_container_are_hardened(
    make_config: ConfigFactory, docker_client: docker.DockerClient
) -> None:
    config = make_config(limits=LIMITS)
    engine = BlueGreenEngine(config, client=docker_client)
    engine.deploy(V1)
    engine.switch(V1)  # the router and the colour serve with no capability
    colour = docker_client.containers.get(config.container_name(Colour.BLUE))
    assert_hardened(colour.attrs, "colour")
    assert_hardened(docker_client.containers.get(config.router_name).attrs, "router")

    lock = DeploymentLock(docker_client, config)
    owner = lock.acquire("hardening test")
    try:
        assert_hardened(docker_client.containers.get(config.lock_name).attrs, "lock")
    finally:
        lock.release(owner)

    seen: list[dict[str, Any]] = []

    def inspect_the_one_off() -> None:
        filters = {"label": [f"{LABEL_SERVICE}={config.service}", f"handoff.role={ROLE}"]}
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            seen.extend(c.attrs for c in docker_client.containers.list(all=True, filters=filters))
            time.sleep(0.05)

    watcher = threading.Thread(target=inspect_the_one_off)
    watcher.start()
    # Inside, too: no effective capability and the no_new_privs bit, as the kernel sees them.
    script = "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; sleep 1"
    run = run_beside(docker_client, colour, ["sh", "-c", script], timeout_s=30)
    watcher.join()
    assert run.exit_code == 0, run.output
    assert any("CapEff:\t0000000000000000" in line for line in run.output), run.output
    assert any("NoNewPrivs:\t1" in line for line in run.output), run.output
    assert seen, "the integrity container was never seen"
    assert_hardened(seen[0], "integrity command")


def test_the_memory_limit_is_enforced(
    make_config: ConfigFactory, docker_client: docker.DockerClient
) -> None:
    # The demo service itself takes about 17 MiB (cgroup memory, measured with docker stats).
    config = make_config(limits=ContainerLimits(memory_mb=32, pids=64))
    engine = BlueGreenEngine(config, client=docker_client)
    engine.deploy(V1)
    colour = docker_client.containers.get(config.container_name(Colour.BLUE))
    # 128 MiB in a 32 MiB container: the kernel kills the allocation, the command fails.
    run = run_beside(
        docker_client, colour, ["python3", "-c", "b = bytearray(128 * 2**20)"], timeout_s=30
    )
    assert run.exit_code != 0, run.output
