"""The sweep of leftover containers: by origin label, only those whose process is gone."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator

import docker
import pytest

from handoff.bluegreen.origin import LABEL_ORIGIN, origin_of, sweep_leftovers
from tests.support.demo import ensure_demo_images

pytestmark = pytest.mark.integration


@pytest.fixture
def client() -> Iterator[docker.DockerClient]:
    ensure_demo_images()
    c = docker.from_env()
    yield c
    c.close()


def test_only_containers_of_a_dead_origin_are_swept(client: docker.DockerClient) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = f"pytest:{dead.pid}:0"  # the pid is gone (or reused: another start time)
    tag = uuid.uuid4().hex[:6]
    made = {
        "dead": {LABEL_ORIGIN: gone},
        "alive": {LABEL_ORIGIN: origin_of("pytest")},
        "live-demo": {LABEL_ORIGIN: origin_of("make-run")},  # a running `make run`'s service
        "unlabelled": {},
    }
    names = {}
    try:
        for role, labels in made.items():
            name = f"sweep-{tag}-{role}"
            client.containers.create(
                "handoff-base:bookworm", ["sleep", "60"], name=name, labels=labels
            )
            names[role] = name
        removed = sweep_leftovers(["pytest", "make-run"])
        left = {c.name for c in client.containers.list(all=True, filters={"name": f"sweep-{tag}"})}
        assert names["dead"] in removed
        assert left == {names["alive"], names["live-demo"], names["unlabelled"]}
    finally:
        for name in names.values():
            with contextlib.suppress(docker.errors.NotFound):
                client.containers.get(name).remove(force=True)
