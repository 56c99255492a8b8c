"""A short-lived container that prints what preflight measures.

By default of the router image: it is on every engine that serves the service (a deploy
needs it), so the capacity probe uses it rather than pulling anything. The third-party
probe names the release's image instead (what the release's own calls go out from). The
container runs a fixed argv (no shell from any setting), has no capability, carries the
service and origin labels (a sweep finds leftovers) and is always removed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence

import docker
import docker.errors
import requests.exceptions

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import LABEL_ROLE, LABEL_SERVICE, BlueGreenConfig
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.origin import origin_labels

log = logging.getLogger(__name__)


def run_printing(
    client: docker.DockerClient,
    config: BlueGreenConfig,
    role: str,
    argv: Sequence[str],
    wait_s: float,
    network: str | None = None,
    environment: Mapping[str, str] | None = None,
    image: str | None = None,
) -> str:
    """Run argv in ``image`` (the router's unless given; no network unless named).

    Return its output; BlueGreenError when it exits non-zero or cannot be created.
    """
    image = image or config.router_image
    dockerapi.require_image(client, image, "router" if image == config.router_image else role)
    name = f"{config.service}-{role}-{uuid.uuid4().hex[:6]}"
    placement = {"network": network} if network else {"network_mode": "none"}
    try:
        container = client.containers.create(
            image,
            entrypoint=list(argv),
            name=name,
            environment=dict(environment or {}),
            labels={LABEL_SERVICE: config.service, LABEL_ROLE: role, **origin_labels()},
            detach=True,
            **placement,
            **dockerapi.hardening(config.limits),
        )
    except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
        raise BlueGreenError(f"{role}: cannot create {name}: {exc}") from exc
    try:
        container.start()
        code = int(container.wait(timeout=wait_s)["StatusCode"])
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        if code != 0:
            raise BlueGreenError(f"{role} exited {code}: {output.strip()[-300:]}")
        return str(output)
    finally:
        try:
            container.remove(force=True)
        except docker.errors.APIError as exc:
            log.warning("could not remove %s: %s", name, exc)
