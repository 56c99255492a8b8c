"""Set up a service's PostgreSQL and keep its password in an Airflow connection, nowhere else.

    python -m handoff.bluegreen.demo_database up --service ux-portal --conn-id ux_portal_db
    python -m handoff.bluegreen.demo_database down --service ux-portal --conn-id ... [--data]

`up` starts `<service>-db` (Debian's PostgreSQL, `handoff-demo-postgres:latest`) on the
service network with its data on the volume `<service>-db-data`; on the first start it
generates the password and stores host, port, login, password and database in the Airflow
connection (type postgres) in Airflow's metadata database: not on a command line (`ps` would
show it), not in a file, not in the output. Run again, it reuses the connection's password.
`down` removes the container; with `--data` also the volume and the connection.
Run it where Airflow's configuration is (AIRFLOW_HOME), as `make run` does for Slack.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import docker

from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.postgres import (
    PORT,
    PostgresSpec,
    ensure_postgres,
    new_password,
    remove_postgres,
)


def _stored_password(conn_id: str) -> str | None:
    """Return the password the connection holds, None when there is no such connection."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
        return None if found is None else str(found.password or "")


def _store(conn_id: str, spec: PostgresSpec) -> None:
    """Create or replace the connection (the metadata database encrypts it with Fernet)."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()
        session.add(
            Connection(
                conn_id=conn_id,
                conn_type="postgres",
                description=f"{spec.service}'s database (handoff.bluegreen.demo_database)",
                host=spec.container,
                port=PORT,
                login=spec.user,
                password=spec.password,
                schema=spec.database,
            )
        )


def _forget(conn_id: str) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()


def up(client: docker.DockerClient, spec: PostgresSpec, conn_id: str) -> str:
    """Start the database (reusing the connection's password); return what was done."""
    stored = _stored_password(conn_id)
    exists = bool(client.containers.list(all=True, filters={"name": f"^{spec.container}$"}))
    if exists and not stored:
        raise BlueGreenError(
            f"{spec.container} exists but the connection {conn_id!r} holds no password for it: "
            "restore the connection, or remove the database (down --data) and start again"
        )
    spec = replace(spec, password=stored or new_password())
    created = ensure_postgres(client, spec)
    if not stored:
        _store(conn_id, spec)
    return (
        f"{spec.container} {'created' if created else 'running'} on {spec.network}, data on "
        f"{spec.volume}; connection {conn_id!r} {'stored' if not stored else 'kept'} "
        "(its password is shown nowhere)"
    )


def down(client: docker.DockerClient, spec: PostgresSpec, conn_id: str, data: bool) -> str:
    """Remove the database; with ``data`` its volume and the connection too."""
    remove_postgres(client, spec, data=data)
    if data:
        _forget(conn_id)
    return f"{spec.container} removed" + (f", {spec.volume} and {conn_id!r} too" if data else "")


def main(argv: list[str] | None = None) -> int:
    """Run `up` or `down`; print one line; exit 1 on failure."""
    parser = argparse.ArgumentParser(prog="python -m handoff.bluegreen.demo_database")
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--service", required=True, help="the sidecar's service.name")
    parser.add_argument("--conn-id", required=True, help="the sidecar's service.database.conn_id")
    parser.add_argument("--network", help="default: <service>-net, the engine's network")
    parser.add_argument("--docker-url", default="unix:///var/run/docker.sock")
    parser.add_argument("--data", action="store_true", help="down: remove the data too")
    args = parser.parse_args(argv)
    spec = PostgresSpec(args.service, args.network or f"{args.service}-net")
    client = docker.DockerClient(base_url=args.docker_url, version="auto")
    try:
        if args.action == "up":
            print(up(client, spec, args.conn_id))
        else:
            print(down(client, spec, args.conn_id, args.data))
    except BlueGreenError as e:
        print(f"demo_database: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
