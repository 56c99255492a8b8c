"""Migrations on real Docker and real PostgreSQL: locked, idempotent, judged at preflight.

One database (Debian's PostgreSQL in the demo's image, on a network and volume of this test's
own), set up as a person would (`handoff.bluegreen.demo_database up`: the password generated
and stored in an Airflow connection in Airflow's metadata database), and the demo releases'
own migration command, run by the engine in one-off containers of each release image with
the URL read back from that connection, as preflight and the deploy do. Set up once for every
step below; everything is removed at the end.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import multiprocessing
import os
import signal
import tarfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest
from docker.models.containers import Container

from handoff.acceptance.sidecar import Acceptance, MigrationSettings
from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, demo_database
from handoff.bluegreen.config import LABEL_ROLE, LABEL_SERVICE
from handoff.bluegreen.oneoff import MIGRATION_ROLE
from handoff.bluegreen.postgres import PostgresSpec
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.checks import Finding, smoke
from handoff.checks.http import Exchange, exchange
from handoff.evidence import EvidenceStatus
from handoff.target.models import CommandResult
from handoff.tasks.database import database_findings, database_secrets
from handoff.tasks.migrations import ExpandFailed, run_expand
from tests.support.demo import V1, V2, V3, ensure_demo_images, free_port
from tests.support.postgres import psql, psql_in_background

pytestmark = pytest.mark.integration

MIGRATE = ["/opt/demo/migrate.py"]
URL_ENV = "DEMO_DATABASE_URL"
BAD = "handoff-demo:1.1.0-bad-expand"
READER = "drill-reader"  # the application name of the drill's session holding records
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"


@dataclass
class Setup:
    client: docker.DockerClient
    spec: PostgresSpec
    target: DockerHaproxyTarget
    acceptance: Acceptance
    url: str
    releases: dict[str, str]  # the demo's tag -> this test's own tag of the same image

    def run(self, release: str, *args: str, timeout_s: float = 60) -> CommandResult:
        return self.target.run_release(release, [*MIGRATE, *args], timeout_s)

    def psql(self, sql: str) -> str:
        return psql(self.client, self.spec, sql)


@pytest.fixture(scope="module")
def setup(airflow_db: None) -> Iterator[Setup]:
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    service = f"mig-{uuid.uuid4().hex[:6]}"
    conn_id = f"{service}-db"
    spec = PostgresSpec(service, f"{service}-net")
    config = BlueGreenConfig(
        service,
        free_port(),
        free_port(),
        network=spec.network,
        # The pause makes two runs overlap on the lock (a drill knob of the demo command).
        environment=(("DEMO_MIGRATION_PAUSE_S", "1.5"),),
    )
    releases: dict[str, str] = {}
    try:
        # Tags of this test's own on the images just built: another session rebuilding the
        # shared demo tags meanwhile cannot swap a release under the test.
        for tag in (V1, V2, V3, BAD):
            releases[tag] = f"{service}-demo:{tag.split(':', 1)[1]}"
            client.images.get(tag).tag(releases[tag])
        done = demo_database.up(client, spec, conn_id)
        assert done.endswith(f"connection {conn_id!r} stored (its password is shown nowhere)")
        assert "kept" in demo_database.up(client, spec, conn_id)  # again: the same password
        password = demo_database._stored_password(conn_id)
        assert password and password not in done
        acceptance = Acceptance.model_validate(
            {
                "handoff_id": "MIG-1",
                "accepted_by": "test",
                "accepted_at": "2026-12-01T00:00:00Z",
                "environment": "demo",
                "service": {
                    "name": service,
                    "image": releases[V2],
                    "database": {
                        "conn_id": conn_id,
                        "url_env": URL_ENV,
                        "migrations": {"command": MIGRATE, "timeout": "1 minute"},
                    },
                },
            }
        )
        # What the tasks do (context.engine_of): the URL from the connection, as a secret. A
        # task reads it through the execution API; outside a task, the server context reads
        # the metadata database itself.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")
            url = database_secrets(acceptance)[URL_ENV]
        assert url == f"postgresql://app:{password}@{spec.container}:5432/app"
        engine = BlueGreenEngine(
            dataclasses.replace(config, secret_environment=((URL_ENV, url),)),
            client=client,
            lock_wait_s=30,
        )
        yield Setup(
            client,
            dataclasses.replace(spec, password=password),
            DockerHaproxyTarget(engine),
            acceptance,
            url,
            releases,
        )
    finally:
        # The database first: the engine's teardown removes the network it is attached to.
        demo_database.down(client, spec, conn_id, data=True)
        BlueGreenEngine(config, client=client).teardown(remove_data=True, force=True)
        for network in client.networks.list(names=[spec.network]):
            network.remove()
        for own in releases.values():
            client.images.remove(own)  # the tag only: the image stays under the demo's
        client.close()


def _lines(result: CommandResult, kind: str) -> list[dict[str, object]]:
    return [
        json.loads(line.split(" ", 1)[1]) for line in result.output if line.startswith(kind + " ")
    ]


def test_migrations_converge_serialise_and_are_judged_at_preflight(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    # Preflight on an empty database: reachable, version 0, 0001 pending as an expand.
    (empty,) = database_findings(setup.acceptance, setup.target, setup.releases[V1])
    assert empty.status is EvidenceStatus.PASSED, empty.summary
    assert empty.summary == (
        "database reachable; schema version 0 (release ships up to 1); pending: "
        "0001_records.sql (expand, down step)"
    )

    # Two runs of 1.1.0's expand at once: one waits for the lock, each step runs once.
    results: list[CommandResult] = []

    def expand() -> None:
        results.append(setup.run(setup.releases[V2], "apply", "expand"))

    runs = [threading.Thread(target=expand) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    waited = [r for r in results if any('"waiting": true' in line for line in r.output)]
    assert len(waited) == 1, [r.output for r in results]
    applied = [a["file"] for r in results for a in _lines(r, "applied")]
    assert sorted(applied) == ["0001_records.sql", "0002_origin.sql"]
    assert _lines(waited[0], "applied") == []  # the waiting run found the work done

    # Again: nothing to do, the same schema (idempotent).
    again = setup.run(setup.releases[V2], "apply", "expand")
    assert again.exit_code == 0 and _lines(again, "applied") == []
    assert (
        setup.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
        == "1,2"
    )

    # The old release still writes on the expanded schema, the new one fills origin.
    for release in (setup.releases[V1], setup.releases[V2]):
        _write(setup, release, f"k-{release}")
    assert setup.psql("SELECT count(*) FROM records WHERE origin IS NULL") == "1"
    _integrity_check_reads_the_shared_store(setup, f"k-{setup.releases[V1]}")

    # Preflight of 1.2.0: version 2, its contract pending, after handover.
    (contract,) = database_findings(setup.acceptance, setup.target, setup.releases[V3])
    assert contract.status is EvidenceStatus.PASSED, contract.summary
    assert "schema version 2 (release ships up to 3)" in contract.summary
    assert "0003_drop_release.sql (contract, completes 0002)" in contract.summary
    assert contract.measured["contract_after_handover"] == ["0003_drop_release.sql"]

    # A release whose contract step names no expand: refused at preflight and by the command.
    bad = _release_without_completes(setup)
    try:
        (refused,) = database_findings(setup.acceptance, setup.target, bad)
        assert refused.status is EvidenceStatus.FAILED
        assert (
            "refused: 0003_drop_release.sql: completes: a contract step has no expand before it"
            in refused.summary
        )
        applying = setup.run(bad, "apply", "contract")
        assert applying.exit_code == 1
        assert _lines(applying, "refused")[0]["field"] == "completes"
    finally:
        setup.client.images.remove(bad, force=True)
    assert setup.psql("SELECT max(version) FROM schema_migrations") == "2"
    leftovers = setup.client.containers.list(
        all=True,
        filters={
            "label": [f"{LABEL_SERVICE}={setup.spec.service}", f"{LABEL_ROLE}={MIGRATION_ROLE}"]
        },
    )
    assert leftovers == []
    # A database nobody answers for: not reachable, with the reason, before anything deploys.
    elsewhere = dataclasses.replace(
        setup.target.engine.config,
        secret_environment=((URL_ENV, "postgresql://app:x@no-such-db:5432/app"),),
    )
    nowhere = DockerHaproxyTarget(BlueGreenEngine(elsewhere, client=setup.client))
    (unreachable,) = database_findings(setup.acceptance, nowhere, setup.releases[V2])
    assert unreachable.status is EvidenceStatus.FAILED
    assert unreachable.summary.startswith("database not reachable; schema version 0")
    assert "refused: database not reachable: could not translate host name" in unreachable.summary
    assert setup.spec.password not in caplog.text  # never logged, by the engine or the command
    print(f"migrations test body: {time.monotonic() - started:.1f} s")


def _integrity_check_reads_the_shared_store(setup: Setup, key: str) -> None:
    """The demo's integrity command on PostgreSQL: passes on the two writes, names a bad body."""
    check = ["/opt/demo/integrity_check.py"]
    intact = setup.target.run_release(setup.releases[V2], check, 30)
    assert intact.exit_code == 0, intact.output
    assert intact.output[-1] == (
        "PostgreSQL store: 2 records, ids and keys unique, every body matches its key"
    )
    body = setup.psql(f"SELECT body FROM records WHERE key = '{key}'")
    setup.psql(f"UPDATE records SET body = '{{\"key\": \"elsewhere\"}}' WHERE key = '{key}'")
    try:
        broken = setup.target.run_release(setup.releases[V2], check, 30)
    finally:
        setup.psql(f"UPDATE records SET body = $b${body}$b$ WHERE key = '{key}'")
    assert broken.exit_code == 1, broken.output
    assert f"stored as {key!r} but its body names 'elsewhere'" in broken.output[0]
    assert broken.output[-1] == "PostgreSQL store: 1 problems in 2 records"
    assert setup.spec.password not in "\n".join(intact.output + broken.output)


def _write(setup: Setup, release: str, key: str) -> None:
    """Start the release on the PostgreSQL store for a moment and acknowledge one write."""
    container = setup.client.containers.run(
        release,
        name=f"{setup.spec.service}-{key.replace(':', '-').replace('/', '-')}",
        detach=True,
        network=setup.spec.network,
        environment={URL_ENV: setup.url, "HANDOFF_COLOUR": "blue"},
        ports={"8000/tcp": ("127.0.0.1", None)},
    )
    try:
        deadline = time.monotonic() + 20
        while b"store postgresql" not in container.logs() and time.monotonic() < deadline:
            time.sleep(0.2)
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/records",
            data=json.dumps({"key": key}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201
    finally:
        container.remove(force=True)


def _release_without_completes(setup: Setup) -> str:
    """Build 1.2.0 again with its contract step's `-- completes:` line removed."""
    tag = f"{setup.spec.service}-release:no-completes"
    v3 = setup.releases[V3]
    source = setup.client.containers.create(v3)
    try:
        stream, _ = source.get_archive("/opt/demo/migrations/0003_drop_release.sql")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archived:
            extracted = archived.extractfile(archived.getmembers()[0])
            assert extracted is not None
            text = extracted.read().decode()
    finally:
        source.remove(force=True)
    edited = "".join(line for line in text.splitlines(True) if "completes:" not in line)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (
            ("Dockerfile", f"FROM {v3}\nCOPY 0003_drop_release.sql /opt/demo/migrations/\n"),
            ("0003_drop_release.sql", edited),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data.encode())
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data.encode()))
    context.seek(0)
    setup.client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    return tag


def test_an_expand_that_breaks_the_old_colour_is_undone_and_a_good_one_kept(
    setup: Setup,
) -> None:
    """The old colour (1.0.0, live through the router) writes again after each expand."""
    started = time.monotonic()
    setup.psql("DROP TABLE IF EXISTS records, schema_migrations")
    assert setup.run(setup.releases[V1], "apply", "expand").exit_code == 0
    engine = setup.target.engine
    engine.deploy(setup.releases[V1])
    engine.switch()
    settings = MigrationSettings.model_validate({"command": MIGRATE, "timeout": "1 minute"})
    config = engine.config
    keys = iter(range(1000))

    def old_colour_journeys() -> list[Finding]:
        def send(step: smoke.Step) -> Exchange:
            return exchange(config.router_host, config.live_port, step.path, step.method,
                            step.json_body)  # fmt: skip

        write = smoke.Step("POST", "/api/records", (200, 201), None, {"key": f"j-{next(keys)}"})
        version = smoke.Step("GET", "/version", (200,), "1.0.0", None)
        return [smoke.run_journey("save a record", [write, version], send, "live")]

    # The bad release renames a column 1.0.0 writes: its expand is undone by its down step.
    with pytest.raises(ExpandFailed) as failed:
        run_expand(setup.target, setup.releases[BAD], settings, old_colour_journeys)
    message = str(failed.value)
    assert message.startswith(f"the expand broke the old colour ({setup.releases[V1]}): journey")
    assert "step 1 POST /api/records" in message
    assert message.endswith("undone: 0002; schema back at version 1")
    assert setup.psql("SELECT max(version) FROM schema_migrations") == "1"
    assert old_colour_journeys()[0].status is EvidenceStatus.PASSED  # 1.0.0 writes again

    # The good release's expand keeps 1.0.0 working: kept, journeys recorded as passed.
    kept = run_expand(setup.target, setup.releases[V2], settings, old_colour_journeys)
    assert kept.applied == ("0002_origin.sql",) and kept.version == 2
    assert kept.old_release == setup.releases[V1]
    assert [f.status for f in kept.journeys] == [EvidenceStatus.PASSED]
    # Nothing left to expand: the next run is a no-op.
    assert run_expand(setup.target, setup.releases[V2], settings, old_colour_journeys).applied == ()
    print(f"expand test body: {time.monotonic() - started:.1f} s")


def _expand_in_a_worker(config: BlueGreenConfig, release: str, settings: MigrationSettings) -> None:
    """What deploy.expand_schema does, in a process of its own that the drill kills."""
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    target = DockerHaproxyTarget(BlueGreenEngine(config, client=client))
    run_expand(target, release, settings, list)


def _kill_the_worker_mid_step(setup: Setup, settings: MigrationSettings) -> Container:
    """Start the expand of 1.1.0 in a worker; SIGKILL it while 0002 waits inside its step.

    A reader holding records (until _release_the_reader) keeps 0002's ALTER TABLE waiting
    inside the step's transaction, with the migration lock held: the moment a killed worker
    is most harmful. Returns the worker's migration container, which outlives the worker as
    it would a killed Airflow task.
    """
    psql_in_background(
        setup.client,
        setup.spec,
        "BEGIN; LOCK TABLE records IN ACCESS SHARE MODE; SELECT pg_sleep(120); COMMIT;",
        READER,
    )
    # A fresh interpreter, as a task process is: a fork could inherit a lock held by a thread.
    worker = multiprocessing.get_context("spawn").Process(
        target=_expand_in_a_worker,
        args=(setup.target.engine.config, setup.releases[V2], settings),
    )
    worker.start()
    deadline = time.monotonic() + 20
    while setup.psql(WAITING) != "1":
        assert time.monotonic() < deadline, "0002 never started waiting inside its step"
        time.sleep(0.1)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    (container,) = setup.client.containers.list(
        filters={
            "label": [f"{LABEL_SERVICE}={setup.spec.service}", f"{LABEL_ROLE}={MIGRATION_ROLE}"]
        }
    )
    return container


def _release_the_reader(setup: Setup) -> None:
    """Cancel the reader's sleep: its transaction ends and 0002 gets the table."""
    cancel = "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity"
    assert setup.psql(f"{cancel} WHERE application_name = '{READER}'") == "1"


def test_drill_a_worker_killed_in_the_middle_of_a_migration_converges_on_retry(
    setup: Setup,
) -> None:
    """The worker running the expand dies mid-step: once with its migration container left
    running (an Airflow task process killed), once with it (the node gone). Each time the
    retried task converges: every step applied once, the schema at 1.1.0's version."""
    settings = MigrationSettings.model_validate({"command": MIGRATE, "timeout": "1 minute"})
    applied = "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"
    origin = "SELECT count(*) FROM information_schema.columns WHERE column_name = 'origin'"
    for node_gone in (False, True):
        setup.psql("DROP TABLE IF EXISTS records, schema_migrations")
        assert setup.run(setup.releases[V1], "apply", "expand").exit_code == 0  # version 1
        orphan = _kill_the_worker_mid_step(setup, settings)
        if node_gone:
            orphan.kill()  # its connection drops: PostgreSQL rolls the step back
            orphan.wait(timeout=30)
        _release_the_reader(setup)
        if node_gone:
            deadline = time.monotonic() + 20  # until the step's backend has the table
            while setup.psql(WAITING) != "0":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert setup.psql(applied) == "1" and setup.psql(origin) == "0"  # nothing half-done
        # The retry: the same task again. It waits for the lock while the orphan finishes.
        retried = run_expand(setup.target, setup.releases[V2], settings, list)
        assert retried.version == 2
        assert retried.applied == (("0002_origin.sql",) if node_gone else ())
        assert setup.psql(applied) == "1,2" and setup.psql(origin) == "1"
        # The orphan finished its step (or was killed in it); nothing of it runs on.
        assert orphan.wait(timeout=30)["StatusCode"] == (137 if node_gone else 0)
        orphan.remove()
