"""A crash between two steps, then the same call again: the state converges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import docker
import pytest

from handoff.bluegreen import BlueGreenEngine, ChangeOutcome, Colour, InvalidState
from handoff.bluegreen.config import LABEL_SERVICE
from handoff.bluegreen.haproxy_cfg import render
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec, stored_keys
from tests.integration.bluegreen.conftest import ROOT, V1, V2

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def colour_containers(client: docker.DockerClient, service: str) -> list[str]:
    filters = {"label": [f"{LABEL_SERVICE}={service}", "handoff.role=colour"]}
    return sorted(c.name for c in client.containers.list(all=True, filters=filters))


def test_deploy_crashed_before_ready_then_again_reuses_the_container(
    engine: BlueGreenEngine, docker_client: docker.DockerClient
) -> None:
    engine.deploy(V1)
    engine.switch(V1)

    def crash(*args: object) -> None:
        raise Crash

    engine.colours.wait_ready = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        engine.deploy(V2)
    first = engine.status().colour(Colour.GREEN)
    assert first is not None and first.running

    del engine.colours.wait_ready  # the instance attribute goes, the real method is back
    result = engine.deploy(V2)
    assert result.outcome is ChangeOutcome.ALREADY_DONE
    assert result.container_id == first.container_id
    service = engine.config.service
    assert colour_containers(docker_client, service) == [f"{service}-blue", f"{service}-green"]


def test_switch_crashed_after_persisting_then_again_converges_under_load(
    live_blue_then_green_idle: BlueGreenEngine,
) -> None:
    engine = live_blue_then_green_idle
    cfg = engine.config
    # The crash: the desired state (green live) reached the file, the runtime API call
    # never happened. Users are still on blue; a restart would bring green.
    engine.router.write_validated(render(cfg, Colour.GREEN, Colour.BLUE))
    state = engine.status()
    assert state.router.live is Colour.BLUE and state.router.persisted_live is Colour.GREEN
    assert not state.router.in_sync
    with pytest.raises(InvalidState, match="interrupted switch or rollback"):
        engine.deploy(V2)  # which colour is idle is ambiguous until the switch completes

    spec = LoadSpec(cfg.router_host, cfg.live_port, connections=8, duration_s=20.0)
    with LoadGenerator(spec) as load:
        time.sleep(0.5)
        result = engine.switch(V2)
        time.sleep(1.0)
    report = load.report
    assert report is not None
    assert result.to_colour is Colour.GREEN and result.outcome is ChangeOutcome.CHANGED
    assert not report.failures, report.describe_failures()
    assert set(report.acknowledged_writes) <= stored_keys(cfg.router_host, cfg.live_port)
    state = engine.status()
    assert state.router.live is Colour.GREEN and state.router.in_sync


DEPLOYER = textwrap.dedent(
    """
    import sys
    import docker
    from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
    service, live, preview = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config = BlueGreenConfig(service=service, live_port=live, preview_port=preview,
                             volumes=(VolumeMount(service + "-data", "/data"),),
                             ready_deadline_s=300.0)
    engine = BlueGreenEngine(config)
    print("deploying", flush=True)
    engine.deploy("handoff-demo:1.1.0", environment={"DEMO_MODE": "never_ready"})
    """
)


def test_killed_deployer_leaves_no_duplicate_and_its_lock_is_broken(
    live_blue_then_green_idle: BlueGreenEngine, docker_client: docker.DockerClient
) -> None:
    engine = live_blue_then_green_idle
    cfg = engine.config
    engine.retire_old()  # green gone: the killed deployer will start it again
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    args = [str(cfg.service), str(cfg.live_port), str(cfg.preview_port)]
    proc = subprocess.Popen([sys.executable, "-c", DEPLOYER, *args], env=env)
    try:
        end = time.monotonic() + 30
        while engine.status().colour(Colour.GREEN) is None and time.monotonic() < end:
            time.sleep(0.2)
        assert engine.status().colour(Colour.GREEN) is not None, "deployer never started green"
        time.sleep(0.5)  # it is now waiting for a release that never gets ready
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup, no lock release: a real crash
        proc.wait(10)
    assert docker_client.containers.get(cfg.lock_name)  # the dead holder's lock is still there

    result = engine.deploy(V2)  # a healthy V2 this time, same call as the crashed one
    assert result.colour is Colour.GREEN
    assert colour_containers(docker_client, cfg.service) == [
        f"{cfg.service}-blue",
        f"{cfg.service}-green",
    ]
    assert engine.switch(V2).to_colour is Colour.GREEN
