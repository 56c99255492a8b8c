"""The target kinds an environment file may name under ``target.kind``."""

from __future__ import annotations

import enum


class TargetKind(enum.Enum):
    """Where a service's colours run; each kind has one implementation of the port.

    The implementations are wired in `handoff.runtime.engine_factory` (one entry per kind).
    """

    DOCKER_HAPROXY = "docker-haproxy"


#: What an environment file without a ``target`` section gets (every file written before it).
DEFAULT_KIND = TargetKind.DOCKER_HAPROXY
