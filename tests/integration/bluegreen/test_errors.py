"""Failures a person can act on: each error names the cause, and traffic is unaffected."""

from __future__ import annotations

import socket
import time

import docker
import pytest

from handoff.bluegreen import (
    BlueGreenConfig,
    BlueGreenEngine,
    Colour,
    DeploymentLocked,
    EngineUnreachable,
    ImageMissing,
    PortTaken,
    RouterConfigRejected,
    RouterUnreachable,
)
from handoff.bluegreen.lock import DeploymentLock
from handoff.bluegreen.probe import get
from tests.integration.bluegreen.conftest import V1, ConfigFactory

pytestmark = pytest.mark.integration


def test_engine_unreachable_names_the_url() -> None:
    config = BlueGreenConfig("nowhere", 1, 2, docker_url="unix:///nonexistent/docker.sock")
    with pytest.raises(EngineUnreachable, match=r"unix:///nonexistent/docker.sock.*make docker"):
        BlueGreenEngine(config)


def test_missing_image_is_named(engine: BlueGreenEngine) -> None:
    with pytest.raises(ImageMissing, match=r"release image 'handoff-demo:no-such' is not present"):
        engine.deploy("handoff-demo:no-such")


def test_port_taken_names_the_port(
    make_config: ConfigFactory, docker_client: docker.DockerClient
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        engine = BlueGreenEngine(make_config(live_port=port), client=docker_client)
        with pytest.raises(PortTaken, match=rf"Port {port} \(live\)"):
            engine.deploy(V1)


def test_rejected_router_config_keeps_old_config_and_traffic(engine: BlueGreenEngine) -> None:
    engine.deploy(V1)
    engine.switch(V1)
    before = engine.router.state()
    with pytest.raises(RouterConfigRejected, match="old configuration stays in place") as err:
        engine.router.write_validated(
            "global\n    no-such-keyword 1\nbackend live\n    server blue x:1 bogus-opt\n"
        )
    assert "no-such-keyword" in str(err.value) or "bogus-opt" in str(err.value)
    assert engine.router.state() == before
    answer = get(engine.config.router_host, engine.config.live_port, "/version", 2.0)
    assert answer.status == 200 and answer.server == "blue"


def test_admin_socket_not_answering_is_reported_and_traffic_goes_on(
    engine: BlueGreenEngine,
) -> None:
    engine.deploy(V1)
    engine.switch(V1)
    router = engine.router.container()
    assert router is not None
    router.exec_run(["rm", "-f", "/run/haproxy/admin.sock"])  # HAProxy runs on without it
    with pytest.raises(RouterUnreachable, match="admin socket did not answer"):
        engine.switch(V1)
    answer = get(engine.config.router_host, engine.config.live_port, "/version", 2.0)
    assert answer.status == 200 and answer.server == Colour.BLUE.value


def test_second_deployment_of_a_service_is_refused_while_locked(
    engine: BlueGreenEngine,
) -> None:
    engine.deploy(V1)
    with (
        engine.lock.held("someone else's deploy"),
        pytest.raises(DeploymentLocked, match=r"is being deployed by .*someone else's deploy"),
    ):
        engine.switch(V1)
    assert engine.switch(V1).to_colour is Colour.BLUE  # released: the next call proceeds


def test_expired_lease_is_broken(
    make_config: ConfigFactory, docker_client: docker.DockerClient
) -> None:
    config = make_config(lock_ttl_s=0.5)
    engine = BlueGreenEngine(config, client=docker_client)
    engine.deploy(V1)
    # A holder on another host (so its pid cannot be checked) that never released.
    stale = DeploymentLock(docker_client, config)
    stale._try_create("other-host:1:abc", "crashed deploy")
    lock = docker_client.containers.get(config.lock_name)
    assert lock.labels["handoff.lock.owner"] == "other-host:1:abc"
    time.sleep(0.6)
    assert engine.switch(V1).to_colour is Colour.BLUE
