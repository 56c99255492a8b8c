"""Rehearsals of migrations the blue-green way: dag.test() on real Docker, HAProxy, PostgreSQL.

One PostgreSQL for the module, set up as a person would (`demo_database up`: its password only
in an Airflow connection), shared by both colours; the seed contract with a sidecar naming it
(`service.database`, the demo's own migrate.py). Every test starts from the same state, release
1.0.0 live on blue on schema version 1 (the tables dropped, 0001 applied by 1.0.0's command),
then runs the DAG compressed in time:

- a bad expand, caught by 1.0.0's journeys on the expanded schema, undone, aborted;
- 1.1.0 expanded (0002), switched, then a user reports an issue: the rollback goes ahead onto
  1.0.0 (it serves the expanded schema), 0 acknowledged writes lost, the store's invariants hold;
- 1.2.0 expanded (0002) and, after the handover's sign-off and blue's retirement only,
  contracted (0003 drops 1.0.0's column);
- 1.2.0 switched, a person runs the contract early by hand, a user reports an issue: the
  rollback is refused before anything moves (1.0.0 does not ship 0003) and escalated.

The expensive gates the migrations do not touch (the security scanner, the accessibility audit)
are left out of these copies; the seed's rehearsals run them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from handoff.bluegreen import BlueGreenEngine, Colour, demo_database, dockerapi
from handoff.bluegreen.postgres import PostgresSpec
from handoff.bluegreen.target import DockerHaproxyTarget
from handoff.catalog import load_handoff
from handoff.runtime.engine_factory import engine_config
from handoff.tasks import migrations
from handoff.tasks.database import database_secrets
from tests.support.airflow_env import loader_dagbag
from tests.support.demo import V1, V2, V3, ensure_demo_images, free_port
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.postgres import psql
from tests.support.run_reports import read_report, xcom
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

pytestmark = pytest.mark.integration

SEED_ID = "REHEARSAL"
DAG_ID = "handoff_rehearsal"
MIGRATE = ["/opt/demo/migrate.py"]
BAD = "handoff-demo:1.1.0-bad-expand"
EXPAND = "deploy.expand_schema"
CONTRACT = "handover.contract_schema"
ROLLBACK = "rollback.roll_back"


@dataclass
class Database:
    """The module's PostgreSQL: its container, its Airflow connection, the service's name."""

    client: docker.DockerClient
    spec: PostgresSpec
    service: str
    conn_id: str

    def attach(self) -> None:
        """Put the database on the service network (an engine's teardown removes the network)."""
        dockerapi.ensure_network(self.client, self.spec.network, self.service)
        network = self.client.networks.get(self.spec.network)
        container = self.client.containers.get(self.spec.container)
        network.reload()
        if container.id not in {c.id for c in network.containers}:
            network.connect(container)

    def detach(self) -> None:
        """Take the database off the network, so the engine's teardown can remove it."""
        for network in self.client.networks.list(names=[self.spec.network]):
            network.disconnect(self.spec.container, force=True)

    def psql(self, sql: str) -> str:
        return psql(self.client, self.spec, sql)


@dataclass
class Rehearsal:
    folder: Path
    engine: BlueGreenEngine
    target: DockerHaproxyTarget
    slack: Receiver
    db: Database
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def contract(self) -> Path:
        return self.folder / f"{SEED_ID}.md"


@pytest.fixture(scope="module")
def database(airflow_db: None) -> Iterator[Database]:
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    service = f"mr-{uuid.uuid4().hex[:6]}"
    spec = PostgresSpec(service, f"{service}-net")  # the engine's default network
    conn_id = f"{service}-db"
    try:
        demo_database.up(client, spec, conn_id)
        yield Database(client, spec, service, conn_id)
    finally:
        demo_database.down(client, spec, conn_id, data=True)
        for network in client.networks.list(names=[spec.network]):
            network.remove()
        client.close()


@pytest.fixture
def rehearsal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Database
) -> Iterator[Rehearsal]:
    """1.0.0 live on blue on schema version 1, behind this test's own router ports."""
    service = database.service
    with slack_receiver() as slack:
        monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(slack.url))
        folder = make_handoffs(
            tmp_path,
            [SEED_ID],
            sidecar_edits={
                "name: ux-portal": f"name: {service}",
                "ux-portal-data": f"{service}-data",
                "  health_path: /health\n": "  health_path: /health\n  database:\n"
                f"    conn_id: {database.conn_id}\n    url_env: DEMO_DATABASE_URL\n"
                f"    migrations:\n      command: {MIGRATE}\n      timeout: 1 minute\n",
                "  pages:\n    - name: dashboard\n      path: /\n": "",
            },
            environment_edits={
                "live_port: 18080": f"live_port: {free_port()}",
                "preview_port: 18081": f"preview_port: {free_port()}",
                "ready_timeout: 2 minutes": "ready_timeout: 20s",
                "  scanner_image: handoff-scanner:latest\n": "",
            },
            accepted_now=True,
        )
        monkeypatch.setenv("HANDOFF_DIR", str(folder))
        handoff = load_handoff(folder / f"{SEED_ID}.md")
        assert handoff.acceptance is not None and handoff.environment is not None
        with monkeypatch.context() as server:
            server.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")  # outside a task
            secrets = database_secrets(handoff.acceptance)
        engine = BlueGreenEngine(engine_config(handoff.acceptance, handoff.environment, secrets))
        started = time.monotonic()
        database.attach()
        try:
            # The state every test starts from: no tables, 0001 by 1.0.0's command, 1.0.0 live.
            database.psql("DROP TABLE IF EXISTS records, schema_migrations")
            target = DockerHaproxyTarget(engine)
            applied = target.run_release(V1, [*MIGRATE, "apply", "expand"], 60)
            assert applied.exit_code == 0, applied.output
            engine.deploy(V1)
            engine.switch(V1)
            timings = {"set_up_s": time.monotonic() - started}
            yield Rehearsal(folder, engine, target, slack, database, timings)
        finally:
            database.detach()
            engine.teardown(remove_data=True, force=True)


def run_dag(rehearsal: Rehearsal, **conf: Any) -> tuple[Any, dict[str, str]]:
    bag = loader_dagbag()
    assert bag.import_errors == {}
    started = time.monotonic()
    run = bag.dags[DAG_ID].test(run_conf=rehearsal_conf(time_scale=7200, **conf))
    rehearsal.timings["dag_s"] = time.monotonic() - started
    print(f"migration rehearsal timings: {rehearsal.timings}")  # the figures in the docs
    return run, {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def schema_rows(run: Any, rehearsal: Rehearsal) -> dict[str, dict[str, Any]]:
    report = read_report(run, rehearsal.contract).report
    rows = {row["phase"]: row for row in report["schema"]}
    markdown = (read_report(run, rehearsal.contract).folder / "report.md").read_text()
    assert "## Schema migrations" in markdown
    return rows


def version(rehearsal: Rehearsal) -> int:
    return int(rehearsal.db.psql("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


def live(rehearsal: Rehearsal) -> tuple[Colour, str]:
    state = rehearsal.engine.status().live
    assert state is not None
    return state.colour, state.release


def test_a_bad_expand_is_caught_on_the_old_colour_undone_and_aborted(
    rehearsal: Rehearsal,
) -> None:
    run, states = run_dag(rehearsal, release=BAD)
    assert str(run.state) == "failed"
    assert states[EXPAND] == "failed" and states["deploy.start_release"] == "upstream_failed"
    assert states["abort"] == "success" and states[ROLLBACK] == "skipped"
    assert states[CONTRACT] == "upstream_failed"
    assert live(rehearsal) == (Colour.BLUE, V1)
    assert rehearsal.engine.status().colour(Colour.GREEN) is None  # nothing was deployed
    assert version(rehearsal) == 1  # the rename undone by its down step
    columns = rehearsal.db.psql(
        "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns"
        " WHERE table_name = 'records'"
    )
    assert "colour" in columns.split(",") and "written_colour" not in columns
    rows = schema_rows(run, rehearsal)
    assert rows["expand"]["state"] == "failed" and rows["contract"]["state"] == "upstream_failed"
    assert "rollback" not in rows
    events = rehearsal.slack.inbox.events()
    assert "escalation" in events and events[-1] == "deployment aborted", events
    escalation = rehearsal.slack.inbox.bodies[events.index("escalation")]["text"]
    assert EXPAND in escalation and "schema back at version 1" in escalation


def test_a_rollback_after_the_expand_goes_ahead_and_loses_no_write(
    rehearsal: Rehearsal,
) -> None:
    run, states = run_dag(rehearsal, release=V2, answer_user_issues="issues reported")
    assert str(run.state) == "failed"
    assert states[EXPAND] == "success" and states[ROLLBACK] == "success"
    assert states[CONTRACT] == "upstream_failed"  # never reached: no handover
    assert live(rehearsal) == (Colour.BLUE, V1)
    assert version(rehearsal) == 2  # the expand stays: 1.0.0 serves it
    expand = xcom(run, EXPAND)
    assert expand["applied"] == ["0002_origin.sql"] and expand["proven_versions"] == [2]
    rolled = xcom(run, ROLLBACK)
    assert rolled["schema"]["decision"] == "went ahead"
    rows = schema_rows(run, rehearsal)
    assert rows["expand"]["steps"] == ["0002_origin.sql"] and rows["expand"]["schema_version"] == 2
    assert (
        rows["rollback"]["state"] == "went ahead"
        and "no contract step ran" in (rows["rollback"]["detail"])
    )
    report = read_report(run, rehearsal.contract).report
    integrity = [
        e
        for c in report["criteria"]
        if c["name"] == "Data Integrity"
        for e in c["evidence"]
        if e["task_id"] == ROLLBACK
    ]
    (store,) = [e for e in integrity if "acknowledged" in e["measured"]]
    assert store["status"] == "passed" and all(e["status"] == "passed" for e in integrity)
    assert store["measured"]["missing"] == 0 and store["measured"]["acknowledged"] > 0
    kept = store["measured"]["invariants"]["of_before_after"]
    assert kept["count"] > 0 and kept == store["measured"]["invariants"]["before"]
    # The writes acknowledged during the switch and the rollback are all in PostgreSQL.
    switched = xcom(run, "switch.move_live_traffic")
    keys = set(rehearsal.db.psql("SELECT key FROM records").split())
    assert set(switched["acknowledged_writes"]) <= keys
    events = rehearsal.slack.inbox.events()
    assert {"rollback started", "rollback finished"} <= set(events), events


def test_the_contract_runs_only_after_the_handover(rehearsal: Rehearsal) -> None:
    run, states = run_dag(rehearsal, release=V3)
    assert str(run.state) == "success", states
    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    assert instances[CONTRACT].start_date >= instances["handover.retire_old_colour"].end_date
    assert instances["handover.sign_off"].end_date <= instances[CONTRACT].start_date
    assert live(rehearsal) == (Colour.GREEN, V3) and version(rehearsal) == 3
    rows = schema_rows(run, rehearsal)
    assert rows["expand"]["steps"] == ["0002_origin.sql"] and rows["expand"]["schema_version"] == 2
    assert rows["contract"]["state"] == "success"
    assert rows["contract"]["steps"] == ["0003_drop_release.sql"]
    assert rows["contract"]["schema_version"] == 3
    assert "green: handoff-demo:1.2.0 ships up to 3" in rows["contract"]["detail"]
    # During the expand both colours' releases were recorded: 1.0.0 live, 1.2.0 the release.
    assert "blue: handoff-demo:1.0.0 ships up to 1" in rows["expand"]["detail"]
    report = read_report(run, rehearsal.contract).report
    schema = [
        e
        for d in report["dependencies"]
        for e in d["evidence"]
        if "schema_version" in e["measured"]
    ]
    assert {"preflight", EXPAND, CONTRACT} <= {e["task_id"] for e in schema}, schema
    assert "escalation" not in rehearsal.slack.inbox.events()


def test_a_rollback_after_a_contract_step_is_refused_and_escalated(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    contracted: list[float] = []
    person_done = threading.Event()
    decided_after_the_person: list[bool] = []
    decide = migrations.rollback_schema

    def rollback_schema_after_the_person(*args: Any, **kwargs: Any) -> Any:
        """The rollback's decision, once the person's contract ran: no race with the thread."""
        decided_after_the_person.append(person_done.wait(timeout=240))
        return decide(*args, **kwargs)

    monkeypatch.setattr(migrations, "rollback_schema", rollback_schema_after_the_person)

    def contract_early() -> None:
        """A person runs 1.2.0's contract by hand as soon as 1.2.0 serves live (too early)."""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            state = rehearsal.engine.status().live
            if state is not None and state.release == V3:
                done = rehearsal.target.run_release(V3, [*MIGRATE, "apply", "contract"], 60)
                assert done.exit_code == 0, done.output
                contracted.append(time.monotonic())
                person_done.set()
                return
            time.sleep(0.2)

    person = threading.Thread(target=contract_early, daemon=True)
    person.start()
    run, states = run_dag(rehearsal, release=V3, answer_user_issues="issues reported")
    person.join(timeout=60)
    assert contracted, "the contract by hand never ran"
    assert decided_after_the_person == [True]  # the rollback decided once, after the contract
    assert str(run.state) == "failed"
    assert states[ROLLBACK] == "failed"
    # Refused before anything moved: 1.2.0 still serves live, blue (1.0.0) still stands by.
    assert live(rehearsal) == (Colour.GREEN, V3) and version(rehearsal) == 3
    assert rehearsal.engine.status().colour(Colour.BLUE) is not None
    decision = xcom(run, ROLLBACK, "schema")
    assert decision["decision"] == "refused"
    assert decision["reason"].startswith("the database ran 0003, which handoff-demo:1.0.0")
    rows = schema_rows(run, rehearsal)
    assert rows["rollback"]["state"] == "refused" and "0003" in rows["rollback"]["detail"]
    assert rows["contract"]["state"] == "upstream_failed"  # the DAG's contract never ran
    events = rehearsal.slack.inbox.events()
    assert "escalation" in events and "rollback started" not in events, events
    text = " ".join(str(b.get("text", "")) for b in rehearsal.slack.inbox.bodies)
    assert "rollback refused" in text and "escalate, a person decides" in text
