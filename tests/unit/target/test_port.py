"""The port's implementations satisfy it and kinds are wired.

`make check` runs mypy on the package only: there the factory's `-> DeploymentTarget` return
of `DockerHaproxyTarget` enforces the real implementation's conformance. The fake's is
checked only by `mypy tests/unit/target/test_port.py` (the assignments below), not in CI.
"""

from __future__ import annotations

import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.runtime import engine_factory
from handoff.target import DEFAULT_KIND, DeploymentTarget, TargetKind
from tests.support.fake_target import FakeTarget


class _Client:
    """Enough of a Docker client to build an engine without an engine."""


def test_the_docker_haproxy_target_and_the_fake_satisfy_the_port() -> None:
    engine = BlueGreenEngine(BlueGreenConfig("shop", 18080, 18081), client=_Client())
    docker_haproxy: DeploymentTarget = DockerHaproxyTarget(engine)
    fake: DeploymentTarget = FakeTarget()
    assert isinstance(docker_haproxy.kind, str) and docker_haproxy.service == "shop"
    assert fake.service == "shop"


def test_every_kind_has_an_implementation() -> None:
    assert set(engine_factory._KINDS) == set(TargetKind)
    assert DEFAULT_KIND is TargetKind.DOCKER_HAPROXY


def test_an_environment_without_a_target_section_is_docker_haproxy() -> None:
    from handoff.acceptance.environment import Environment

    environment = Environment.model_validate(
        {"name": "demo", "router": {"live_port": 8080, "preview_port": 8081}}
    )
    assert environment.target.kind is TargetKind.DOCKER_HAPROXY


def test_an_unknown_target_kind_is_refused_where_it_is_written() -> None:
    from pydantic import ValidationError

    from handoff.acceptance.environment import Environment

    with pytest.raises(ValidationError, match=r"target\.kind\n.*'docker-haproxy'"):
        Environment.model_validate(
            {"name": "demo", "router": {"live_port": 8080, "preview_port": 8081},
             "target": {"kind": "kubernetes"}}
        )  # fmt: skip
