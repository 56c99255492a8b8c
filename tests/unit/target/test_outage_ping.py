"""The watch windows ping the engine of the environment's target kind, by its wiring."""

from __future__ import annotations

from handoff.acceptance.environment import Environment
from handoff.target import TargetKind
from handoff.watch.outage import EngineOutage


def test_an_environment_names_its_engine_for_the_watch() -> None:
    environment = Environment.model_validate(
        {
            "name": "demo",
            "docker_url": "tcp://127.0.0.1:2375",
            "router": {"live_port": 8080, "preview_port": 8081},
        }
    )
    outage = EngineOutage.of(environment)
    assert (outage.kind, outage.address) == (
        TargetKind.DOCKER_HAPROXY.value,
        "tcp://127.0.0.1:2375",
    )
    assert outage.engine == "the Docker engine at tcp://127.0.0.1:2375"
    assert EngineOutage.from_dict(outage.to_dict()) == outage


def test_a_trigger_deferred_before_target_kinds_still_resumes() -> None:
    legacy = {"docker_url": "unix:///var/run/docker.sock", "policy": "wait", "wait_s": 30.0}
    outage = EngineOutage.from_dict(legacy)
    assert outage.kind == "docker-haproxy" and outage.address == legacy["docker_url"]
