"""Which named volumes a sidecar may mount: its own service's, or those the environment allows.

The engine mounts ``service.volumes`` into both colours. Docker volumes are global to the
engine, so without a rule a sidecar could mount another service's data, a router's persisted
configuration (``<router>-state``) or the compose stack's own volumes (Postgres' data, the
Airflow admin's password file). A sidecar may name:

- ``<service>-*`` volumes (``ux-portal-data`` for the service ``ux-portal``), except the names
  the engine and the compose stack keep for themselves (``RESERVED_SUFFIXES``);
- any name the environment lists under ``volumes.allowed`` (the platform team's choice).

The prefix rule cannot tell ``ux-portal-x-data`` of the service ``ux-portal-x`` from a volume
of ``ux-portal``; an environment whose service names prefix one another lists volumes instead.
"""

from __future__ import annotations

from handoff.acceptance.environment import Environment
from handoff.acceptance.sidecar import Acceptance
from handoff.acceptance.yaml_files import Loaded
from handoff.errors import Diagnostic, Severity

# Engine-created router state, and docker-compose.yaml's volumes (compose prefixes them with
# the project name and "_", e.g. handoff_airflow-auth).
RESERVED_SUFFIXES = ("-router-state", "_postgres-data", "_airflow-auth", "_airflow-logs")


def volume_problems(
    sidecar: Loaded[Acceptance], environment: Environment, environment_file: str
) -> list[Diagnostic]:
    """Return a located error for every sidecar volume the service may not mount."""
    service = sidecar.value.service.name
    allowed = set(environment.volumes.allowed)
    problems = []
    for volume in sidecar.value.service.volumes:
        if volume in allowed:
            continue
        own = volume.startswith(f"{service}-")
        reserved = next((s for s in RESERVED_SUFFIXES if volume.endswith(s)), None)
        if own and reserved is None:
            continue
        why = (
            f"names ending in {reserved!r} are kept for the engine and the compose stack"
            if own
            else f"a service mounts only its own volumes, named {service}-*"
        )
        problems.append(
            Diagnostic(
                Severity.ERROR,
                sidecar.path,
                sidecar.line("service", "volumes", volume),
                f"service.volumes: volume {volume!r} may not be mounted by {service!r}: {why}, "
                f"or those environment {environment.name!r} lists under volumes.allowed",
                f"name it e.g. {service}-data, or add it to volumes.allowed in {environment_file}",
            )
        )
    return problems
