"""The service's database at run time: its URL from the Airflow connection, its schema at preflight.

The password lives only in the Airflow connection the sidecar names (`service.database.conn_id`):
it is read here, handed to the engine as a secret environment variable of the colours and of
the one-off migration containers, and never logged, recorded or written to a file.
Preflight runs the release's migration command (`status`) in a one-off container of the
release image on the service network and judges the report (`handoff.checks.database`):
reachable, schema version, the pending steps with their phases. A refusal is recorded under
the contract's Dependencies ("Database") and stops the run before deploy.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException

from handoff.acceptance.sidecar import Acceptance, DatabaseSpec
from handoff.checks import Finding
from handoff.checks.database import judge_database, read_status
from handoff.evidence import EvidenceStatus
from handoff.target import DeploymentTarget, TargetError

log = logging.getLogger(__name__)

#: The migration command's subcommand that reports, changing nothing.
STATUS = ("status",)


def database_url(spec: DatabaseSpec) -> str:
    """Return the database's URL from its Airflow connection (with the password: never log it)."""
    try:
        connection = BaseHook.get_connection(spec.conn_id)
    except Exception as e:  # Airflow raises its own not-found type, varying by version
        raise AirflowFailException(
            f"service.database.conn_id: the Airflow connection {spec.conn_id!r} does not exist "
            f"({type(e).__name__}); create it (conn type postgres: host, port, login, "
            "password, schema) before deploying"
        ) from e
    if not connection.host:
        raise AirflowFailException(
            f"service.database.conn_id: the connection {spec.conn_id!r} names no host"
        )
    login = quote(str(connection.login or ""), safe="")
    password = quote(str(connection.password or ""), safe="")
    credentials = f"{login}:{password}@" if password else (f"{login}@" if login else "")
    schema = quote(str(connection.schema or ""), safe="")
    return f"postgresql://{credentials}{connection.host}:{connection.port or 5432}/{schema}"


def database_secrets(acceptance: Acceptance) -> dict[str, str]:
    """Return the colours' secret environment: the database URL, when the sidecar names one."""
    spec = acceptance.service.database
    if spec is None:
        return {}
    return {spec.url_env: database_url(spec)}


def database_findings(
    acceptance: Acceptance, target: DeploymentTarget, release: str
) -> list[Finding]:
    """Run the release's migration status in a one-off container; judge what it reports."""
    spec = acceptance.service.database
    assert spec is not None
    if spec.migrations is None:
        return [
            Finding(
                EvidenceStatus.NOT_VERIFIED,
                "no migration command (service.database.migrations): the schema is not checked",
                {"conn_id": spec.conn_id},
                {},
            )
        ]
    argv = (*spec.migrations.command, *STATUS)
    try:
        result = target.run_release(release, argv, spec.migrations.timeout.total_seconds())
    except TargetError as e:
        return [Finding(EvidenceStatus.FAILED, f"database: migration status not run: {e}", {}, {})]
    status = read_status(result.output)
    finding = judge_database(status, result.exit_code)
    log.info("database (%s, %s): %s", spec.conn_id, release, finding.summary)
    return [finding]
