"""Under real components, the go/no-go gate waits for a person, who answers through the REST
API as the UI does; who answered is recorded and the run goes on to complete the handoff."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import load_handoff
from tests.e2e.conftest import GATE_HANDOFF_ID, Airflow
from tests.e2e.test_watch_deferred import run_state, task_state, trigger_run
from tests.integration.dags.test_rehearsal import SUCCESS_EVENTS
from tests.support.demo import V2, ensure_demo_images, put_v1_live
from tests.support.handoffs import rehearsal_conf
from tests.support.slack_receiver import event_of

pytestmark = pytest.mark.e2e

DAG_ID = "handoff_gate_e2e"
GATE = "go_no_go"


@pytest.fixture
def engine(airflow: Airflow) -> Iterator[BlueGreenEngine]:
    """Blue runs 1.0.0 live before the handoff; everything is removed afterwards."""
    ensure_demo_images()
    engine = put_v1_live(
        load_handoff(Path(airflow.home) / "dags" / "handoffs" / f"{GATE_HANDOFF_ID}.md")
    )
    try:
        yield engine
    finally:
        engine.teardown(remove_data=True, force=True)


def test_a_person_approves_the_switch_through_the_rest_api(
    airflow: Airflow, engine: BlueGreenEngine
) -> None:
    airflow.wait_for(
        "the handoff DAG to be parsed",
        lambda: any(d["dag_id"] == DAG_ID for d in airflow.api("GET", "/dags")["dags"]),
        120,
        every_s=2,
    )
    run_id = trigger_run(
        airflow,
        DAG_ID,
        rehearsal_conf(
            time_scale=7200,
            release=V2,
            answer_go_no_go="",  # a drill that still asks a person at the go/no-go gate
        ),
    )
    try:
        answer_and_finish(airflow, engine, run_id)
    finally:
        # Whatever happened, stop the run before the fixture removes its service.
        if run_state(airflow, DAG_ID, run_id) not in ("success", "failed"):
            airflow.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "failed"})


def answer_and_finish(airflow: Airflow, engine: BlueGreenEngine, run_id: str) -> None:
    """Wait for the gate, approve it as a person, and check the handoff completes."""
    airflow.wait_for(
        "the go/no-go gate to wait for a person",
        lambda: task_state(airflow, DAG_ID, run_id, GATE) == "awaiting_input",
        240,
        every_s=1,
    )
    # While it waits, nothing has moved: blue still serves.
    live = engine.status().live
    assert live is not None and live.colour is Colour.BLUE
    # A person reads the question before answering. Answering within the scheduler's loop of
    # the pause races Airflow 3.3's LocalExecutor, which then reports the parked process's exit
    # after the task was queued again and fails it as "changed externally".
    time.sleep(5)
    hitl = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{GATE}/-1/hitlDetails"
    detail = airflow.api("GET", hitl)
    assert detail["options"] == ["Approve", "Reject"]
    assert "switch live traffic to handoff-demo:1.1.0" in detail["subject"]
    answered = airflow.api("PATCH", hitl, json={"chosen_options": ["Approve"], "params_input": {}})
    assert answered["chosen_options"] == ["Approve"]
    assert answered["responded_by"]["name"] == "admin"
    airflow.wait_for(
        "the run to finish",
        lambda: run_state(airflow, DAG_ID, run_id) in ("success", "failed"),
        300,
        every_s=2,
    )
    assert run_state(airflow, DAG_ID, run_id) == "success", airflow.tail_log()
    recorded = airflow.api("GET", hitl)
    assert recorded["response_received"] is True
    assert recorded["responded_by_user"]["name"] == "admin"
    assert recorded["chosen_options"] == ["Approve"] and recorded["responded_at"]
    # The communication plan reached Slack (a local receiver), each message linking to the run.
    assert airflow.slack is not None
    run_url = f"{airflow.url}/dags/{DAG_ID}/runs/{quote(run_id)}"
    bodies = [body for body in airflow.slack.inbox.bodies if run_url in body["text"]]
    assert [event_of(body) for body in bodies] == SUCCESS_EVENTS, airflow.slack.inbox.bodies
    service = engine.status()
    assert service.live is not None and service.live.colour is Colour.GREEN
    assert service.live.release == V2
