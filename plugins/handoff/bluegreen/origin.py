"""Which process a demo or test container belongs to, so leftovers are swept by label.

`make run` and the test session set ``$HANDOFF_CONTAINER_ORIGIN`` to ``<kind>:<pid>:<start>``
(their own process, with its start time so a reused pid never passes for it); every container
the engine creates while it is set carries it as the label ``handoff.origin``. A sweep removes
the containers of an origin whose process is gone (a killed `make run`, a killed test run),
never those of a process still running: a live `make run`'s demo service, another test
session on the same engine. Containers without the label (a team's own services) are never
touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

ORIGIN_ENV = "HANDOFF_CONTAINER_ORIGIN"
LABEL_ORIGIN = "handoff.origin"


def origin_labels() -> dict[str, str]:
    """Return the origin label for a new container (none when no origin is set)."""
    origin = os.environ.get(ORIGIN_ENV, "")
    return {LABEL_ORIGIN: origin} if origin else {}


def _started(pid: int) -> str:
    """Return when a process started (clock ticks since boot), "" when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces; the start time is field 22.
    return stat.rsplit(")", 1)[1].split()[19]


def origin_of(kind: str, pid: int | None = None) -> str:
    """Return the origin value of a process (this one by default)."""
    pid = pid or os.getpid()
    return f"{kind}:{pid}:{_started(pid)}"


def alive(origin: str) -> bool:
    """Tell whether the process an origin names still runs (unreadable origins count as alive)."""
    try:
        _, pid, started = origin.rsplit(":", 2)
        return _started(int(pid)) == started
    except ValueError:
        return True  # not ours to judge: keep it


def sweep_leftovers(kinds: Iterable[str], docker_url: str | None = None) -> list[str]:
    """Remove the containers of the given origin kinds whose process is gone; return names."""
    import docker

    wanted = tuple(f"{k}:" for k in kinds)
    try:
        client = docker.DockerClient(base_url=docker_url) if docker_url else docker.from_env()
    except docker.errors.DockerException as e:
        log.info("no Docker engine to sweep (%s)", e)
        return []
    removed = []
    try:
        for container in client.containers.list(all=True, filters={"label": LABEL_ORIGIN}):
            origin = container.labels.get(LABEL_ORIGIN, "")
            if not origin.startswith(wanted) or alive(origin):
                continue
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=False)
                removed.append(container.name)
                log.info("removed %s: its origin %s is gone", container.name, origin)
    except Exception as e:  # a sweep is housekeeping (no engine, engine away): never blocks
        log.warning("sweep of leftover containers stopped: %s", e)
    finally:
        client.close()
    return removed
