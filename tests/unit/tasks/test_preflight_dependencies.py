"""Preflight proves the contract's Dependencies, or stops the run with nothing deployed.

Against the in-memory target (its `capacity` answers what a test sets) and real Airflow
connections from the environment, one of them a real listening socket.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from handoff.evidence import EvidenceStore, run_dir
from handoff.target.models import CommandResult
from handoff.tasks import steps
from tests.support.fake_target import FakeTarget, FakeTI, running_task
from tests.support.handoffs import make_handoffs
from tests.unit.tasks.conftest import HANDOFF_ID


@pytest.fixture
def slack_listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A Slack connection whose host accepts TCP connections (nothing is ever sent)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        monkeypatch.setenv(
            "AIRFLOW_CONN_HANDOFF_SLACK",
            json.dumps({"conn_type": "slackwebhook", "host": f"http://127.0.0.1:{port}",
                        "password": "/services/T000/B000/not-a-secret"}),
        )  # fmt: skip
        yield port


def _contract(tmp_path: Path, headroom_mb: int, connections: str = "[]") -> str:
    """Write the seed handoff with its own dependencies' headroom and connections changed."""
    folder = make_handoffs(
        tmp_path,
        [HANDOFF_ID],
        sidecar_edits={
            "memory_headroom_mb: 256": f"memory_headroom_mb: {headroom_mb}",
            "connections: []": f"connections: {connections}",
        },
        environment_edits={"report_dir: reports": f"report_dir: {tmp_path}/reports"},
        accepted_now=True,
    )
    return str(folder / f"{HANDOFF_ID}.md")


def _preflight(contract: str, tmp_path: Path) -> tuple[dict[str, object] | None, list, str]:
    ti = FakeTI(task_id="preflight")
    error = ""
    with running_task(ti):
        try:
            result = steps.preflight(contract)
        except AirflowFailException as e:
            result, error = None, str(e)
    store = EvidenceStore(run_dir(tmp_path / "reports", ti.dag_id, ti.run_id))
    records = [r for r in store.read_all() if r.group == "Dependencies"]
    return result, records, error


def test_preflight_passes_when_capacity_and_connections_hold_and_aborts_when_not(
    tmp_path: Path, target: FakeTarget, slack_listener: int
) -> None:
    passing = _contract(tmp_path / "pass", 256)
    result, records, error = _preflight(passing, tmp_path / "pass")
    assert result is not None, error
    by_item = {r.criterion: r for r in records if r.summary.startswith("capacity")}
    assert by_item["Infrastructure"].status.value == "passed"
    assert {r.criterion for r in records} >= {"Infrastructure", "Access Control", "Domain/SSL"}
    access = next(r for r in records if r.criterion == "Access Control")
    assert f"answers at 127.0.0.1:{slack_listener}" in access.summary
    assert "not-a-secret" not in json.dumps([r.to_json() for r in records])

    # Far more memory than the engine has, and a connection nobody defined: both named.
    failing = _contract(tmp_path / "fail", 100_000_000, "[handoff_registry]")
    result, records, error = _preflight(failing, tmp_path / "fail")
    assert result is None and "nothing was deployed" in error
    assert "memory: 4,096 MB available" in error and "handoff_registry: missing" in error
    failed = {r.criterion for r in records if r.status.value == "failed"}
    assert failed == {"Infrastructure", "Access Control"}
    assert "deploy" not in target.ops() and not target.colours


DATABASE = """  volumes:
    ux-portal-data: /data
  database:
    conn_id: ux_portal_db
    url_env: DEMO_DATABASE_URL
    migrations:
      command: [/opt/demo/migrate.py]
      timeout: 1 minute"""


def _status(*pending: dict[str, object]) -> CommandResult:
    database = {"reachable": True, "version": 2, "applied": 2, "release_version": 3}
    lines = [f"database {json.dumps(database)}"] + [f"pending {json.dumps(p)}" for p in pending]
    return CommandResult(("/opt/demo/migrate.py", "status"), "r", "none", 0, 0.5, tuple(lines))


def test_preflight_judges_the_database_with_the_release_s_own_migration_command(
    tmp_path: Path, target: FakeTarget, slack_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_UX_PORTAL_DB",
        json.dumps({"conn_type": "postgres", "host": "ux-portal-db", "port": 5432,
                    "login": "app", "password": "pw-not-in-records", "schema": "app"}),
    )  # fmt: skip
    folder = make_handoffs(
        tmp_path,
        [HANDOFF_ID],
        sidecar_edits={"  volumes:\n    ux-portal-data: /data": DATABASE},
        environment_edits={"report_dir: reports": f"report_dir: {tmp_path}/reports"},
        accepted_now=True,
    )
    contract = str(folder / f"{HANDOFF_ID}.md")
    contract_step = {"file": "0003_drop_release.sql", "version": 3, "phase": "contract"}
    target.command = _status({**contract_step, "completes": 2, "completes_phase": "expand"})
    result, records, error = _preflight(contract, tmp_path)
    assert result is not None, error
    (database,) = [r for r in records if r.criterion == "Database"]
    assert database.status.value == "passed"
    assert "schema version 2" in database.summary
    assert "0003_drop_release.sql (contract, completes 0002)" in database.summary
    (call,) = [args for op, args in target.calls if op == "run_release"]
    assert call == ("handoff-demo:1.1.0", ("/opt/demo/migrate.py", "status"), 60.0)

    # The same step naming no expand: refused before deploy, with the file and the field.
    target.command = _status(contract_step)
    result, records, error = _preflight(contract, tmp_path)
    assert result is None and "nothing was deployed" in error
    assert [r.status.value for r in records if r.criterion == "Database"] == ["failed"]
    assert "0003_drop_release.sql: completes: a contract step has no expand before it" in error
    assert "deploy" not in target.ops() and not target.colours
    assert "pw-not-in-records" not in json.dumps([r.to_json() for r in records]) + error


def test_third_parties_are_asked_from_the_release_and_a_missing_connection_fails(
    tmp_path: Path, target: FakeTarget, slack_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CRM_API",
        json.dumps({"conn_type": "http", "host": "crm.internal", "port": 8443, "schema": "https",
                    "login": "svc", "password": "crm-not-a-secret"}),
    )  # fmt: skip
    listed = (
        "[]\n    third_parties:\n"
        "      - {name: payments, url: 'http://payments:8000/ping'}\n"
        "      - {name: crm, connection: crm_api, expect_status: [200, 401]}"
    )
    target.third_parties = {
        "http://payments:8000/ping": (200, 0.021),
        "https://crm.internal:8443/": (401, 0.034),
    }
    result, records, error = _preflight(
        _contract(tmp_path / "pass", 256, listed), tmp_path / "pass"
    )
    assert result is not None, error
    third = [r for r in records if r.criterion == "Third-party Services"]
    assert [(r.measured["name"], r.status.value) for r in third] == [
        ("payments", "passed"),
        ("crm", "passed"),
    ]
    assert third[1].measured["latency_ms"] == 34.0 and third[1].measured["network"] == "shop-net"
    (_, (release, calls)) = next(c for c in target.calls if c[0] == "call_third_parties")
    assert release == "handoff-demo:1.1.0" and [c.url for c in calls] == [
        "http://payments:8000/ping",
        "https://crm.internal:8443/",
    ]
    assert "crm-not-a-secret" not in json.dumps([r.to_json() for r in records])

    # Unreachable, and a connection nobody defined: both fail and nothing is deployed.
    target.third_parties = {}
    failing = listed.replace("crm_api", "crm_gone")
    result, records, error = _preflight(
        _contract(tmp_path / "fail", 256, failing), tmp_path / "fail"
    )
    assert result is None and "nothing was deployed" in error
    assert "third party payments: unreachable (ConnectionRefusedError" in error
    assert "third party crm: connection crm_gone is not defined" in error
    assert "deploy" not in target.ops() and not target.colours
