"""The tests' look into the demo's PostgreSQL: psql inside its container (no published port)."""

from __future__ import annotations

import docker

from handoff.bluegreen.postgres import PostgresSpec


def psql(client: docker.DockerClient, spec: PostgresSpec, sql: str) -> str:
    """Run one SQL statement as the database's superuser; return its unaligned output."""
    found = client.containers.get(spec.container).exec_run(_argv(spec, sql), user="postgres")
    assert found.exit_code == 0, found.output
    return str(found.output.decode().strip())


def psql_in_background(
    client: docker.DockerClient, spec: PostgresSpec, sql: str, application_name: str
) -> None:
    """Start SQL as the superuser and return at once; its session is found by its name."""
    client.containers.get(spec.container).exec_run(
        _argv(spec, sql), user="postgres", detach=True, environment={"PGAPPNAME": application_name}
    )


def _argv(spec: PostgresSpec, sql: str) -> list[str]:
    return ["psql", "-qtA", "-U", spec.user, "-d", spec.database, "-c", sql]
