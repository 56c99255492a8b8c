"""Run a scanner image on a service's network, streaming its output; bounded in time.

What the Airflow DockerOperator did for the scanner gate, on the engine's own client: the
scanner joins the service's network (so it reaches the router by name), is never pulled (no
registry may be reachable: a missing image fails naming it), runs hardened like every
container the engine makes (no capabilities, the environment's limits), prints its lines to
the task log as they come, and is always removed. Exit 0 means no finding; its last line is
its summary.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from handoff.bluegreen import dockerapi
from handoff.bluegreen.config import LABEL_ROLE, LABEL_SERVICE, BlueGreenConfig
from handoff.bluegreen.errors import BlueGreenError
from handoff.target.models import ScanResult

log = logging.getLogger(__name__)

#: The role label of scanner containers (never a colour: discovery ignores them).
ROLE = "scanner"
_NOT_RUN = -1


def run_scanner(
    client: docker.DockerClient,
    config: BlueGreenConfig,
    image: str,
    environment: Mapping[str, str],
    timeout_s: float,
    on_line: Callable[[str], None],
) -> ScanResult:
    """Run ``image`` on the service network; return its exit code and last non-empty line."""
    try:
        dockerapi.require_image(client, image, "scanner")
    except BlueGreenError as e:
        return ScanResult(_NOT_RUN, str(e))
    name = f"{config.service}-scan-{uuid.uuid4().hex[:6]}"
    log.info(
        "scanner %s as %s on network %s; timeout %g s", image, name, config.network_name, timeout_s
    )
    try:
        container = client.containers.create(
            image,
            name=name,
            environment=dict(environment),
            network=config.network_name,
            labels={LABEL_SERVICE: config.service, LABEL_ROLE: ROLE},
            detach=True,
            # Like every container the engine makes (DockerOperator could not drop these).
            **dockerapi.hardening(config.limits),
        )
    except (docker.errors.APIError, requests.exceptions.RequestException) as e:
        return ScanResult(_NOT_RUN, f"cannot create the scanner container from {image}: {e}")
    try:
        return _run(container, timeout_s, on_line)
    finally:
        try:
            container.remove(force=True)
        except docker.errors.APIError as e:
            log.warning("could not remove %s: %s", name, e)


def _run(container: Container, timeout_s: float, on_line: Callable[[str], None]) -> ScanResult:
    """Start the scanner, stream its lines while it runs, wait within the timeout."""
    try:
        container.start()
    except docker.errors.APIError as e:
        return ScanResult(_NOT_RUN, f"the scanner cannot be started: {e.explanation or e}")
    lines: list[str] = []
    streamer = threading.Thread(target=_stream, args=(container, lines, on_line), daemon=True)
    streamer.start()
    started = time.monotonic()
    try:
        exit_code = int(container.wait(timeout=timeout_s)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        # docker-py reports a wait past its timeout as either, depending on the transport.
        log.warning("scanner still running after %g s: killing it", timeout_s)
        try:
            container.kill()
        except docker.errors.APIError as e:  # it may have exited meanwhile
            log.info("kill: %s", e)
        streamer.join(timeout=5)
        return ScanResult(_NOT_RUN, f"the scanner did not finish within {timeout_s:g} s")
    streamer.join(timeout=5)
    log.info("scanner exited %s after %.1f s", exit_code, time.monotonic() - started)
    return ScanResult(exit_code, lines[-1] if lines else "")


def _stream(container: Container, lines: list[str], on_line: Callable[[str], None]) -> None:
    """Hand each non-empty output line to ``on_line`` and keep it, until the scanner ends."""
    try:
        for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
            text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else str(chunk)
            for line in text.splitlines():
                if line.strip():
                    lines.append(line.strip())
                    on_line(line.rstrip())
    except (docker.errors.APIError, requests.exceptions.RequestException) as e:
        log.warning("scanner output unavailable: %s", e)
