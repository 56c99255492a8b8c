"""The integrity command in a one-off container beside a colour, on the real Docker engine.

Each test starts its own "colour" (a demo release on its own network and data volume, as
the engine would) and runs the demo image's integrity_check.py, or another real program,
beside it. Every test also checks that the one-off container is gone afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest
from docker.models.containers import Container

from handoff.bluegreen.config import LABEL_COLOUR, LABEL_RELEASE, LABEL_SERVICE
from handoff.bluegreen.errors import IntegrityCommandUnusable
from handoff.bluegreen.oneoff import ROLE, run_beside
from tests.support.demo import V3, ensure_demo_images

pytestmark = pytest.mark.integration

CHECK = ["/opt/demo/integrity_check.py"]
BASE = "handoff-base:bookworm"

StartColour = Callable[..., Container]


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    yield client
    client.close()


@pytest.fixture
def start_colour(client: docker.DockerClient) -> Iterator[StartColour]:
    """Start a colour container like the engine does: labels, network, data volume, env."""
    prefix = f"itc-{uuid.uuid4().hex[:6]}"
    network = client.networks.create(f"{prefix}-net", driver="bridge")
    started: list[Container] = []

    def start(image: str = V3, command: list[str] | None = None, **env: str) -> Container:
        container = client.containers.run(
            image,
            command,
            name=f"{prefix}-green",
            detach=True,
            network=network.name,
            environment={"HANDOFF_COLOUR": "green", **env},
            labels={LABEL_SERVICE: prefix, LABEL_COLOUR: "green", LABEL_RELEASE: image},
            volumes={f"{prefix}-data": {"bind": "/data", "mode": "rw"}},
        )
        started.append(container)
        if command is None:  # the demo service: wait until its store exists
            deadline = time.monotonic() + 20
            while b"demo: release" not in container.logs() and time.monotonic() < deadline:
                time.sleep(0.1)
        container.reload()
        return container

    yield start
    one_offs = client.containers.list(
        all=True, filters={"label": [f"{LABEL_SERVICE}={prefix}", f"handoff.role={ROLE}"]}
    )
    for container in started:
        container.remove(force=True)
    network.remove()
    client.volumes.get(f"{prefix}-data").remove(force=True)
    assert one_offs == [], f"one-off containers left behind: {[c.name for c in one_offs]}"


def test_intact_store_passes(client: docker.DockerClient, start_colour: StartColour) -> None:
    colour = start_colour()
    run = run_beside(client, colour, CHECK, timeout_s=30)
    assert run.exit_code == 0, run.output
    assert run.colour == "green" and run.release == V3
    assert run.output[-1] == (
        "store /data/records.db: 0 records, integrity_check ok, every body matches its key"
    )
    assert run.seconds < 10


def test_corrupt_store_fails_with_its_reason(
    client: docker.DockerClient, start_colour: StartColour
) -> None:
    colour = start_colour(DEMO_FAULTS="corrupt_store")
    run = run_beside(client, colour, CHECK, timeout_s=30)
    assert run.exit_code == 1
    assert run.output == (
        f"record 1: stored as 'migrated-{V3.split(':')[1]}-green' but its body names None",
        "store /data/records.db: 1 problems in 1 records",
    )


def test_command_past_its_timeout_is_killed_and_removed(
    client: docker.DockerClient, start_colour: StartColour
) -> None:
    colour = start_colour()
    started = time.monotonic()
    run = run_beside(client, colour, ["/bin/sleep", "60"], timeout_s=1.0)
    assert run.timed_out and run.exit_code is None
    assert 1.0 <= run.seconds < 5 and time.monotonic() - started < 10


def test_image_without_the_command_names_the_sidecar_field(
    client: docker.DockerClient, start_colour: StartColour
) -> None:
    colour = start_colour(BASE, ["sleep", "infinity"])
    with pytest.raises(IntegrityCommandUnusable) as raised:
        run_beside(client, colour, CHECK, timeout_s=30)
    message = str(raised.value)
    assert message.startswith(
        "checks.data_integrity.command: '/opt/demo/integrity_check.py' cannot be started in "
        f"the release image {BASE}: "
    )
    assert "no such file or directory" in message
