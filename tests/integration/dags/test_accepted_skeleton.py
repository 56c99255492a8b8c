"""A rehearsal accepts the sidecar `python -m handoff accept` wrote, once a person filled it in.

The seed contract gets its skeleton from the real command; the test then does what the
skeleton's `DECIDE:` lines ask of a person (the release image, the port the demo service
listens on, who accepts), gives the service its own name and ports, and runs the DAG with
dag.test() on the real Docker engine and router, compressed in time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import load_handoff
from handoff.errors import errors_in
from tests.integration.dags.test_rehearsal import SEED_ID, demo_images, slack  # noqa: F401
from tests.support.airflow_env import loader_dagbag
from tests.support.demo import V2, free_port, put_v1_live
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.slack_receiver import Receiver
from tests.unit.test_cli import run

pytestmark = pytest.mark.integration


def fill_in(skeleton: str, service: str) -> str:
    """Answer the skeleton's DECIDE lines as a person would for the demo service."""
    accepted = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answers = {
        r"accepted_by: .*": "accepted_by: SRE on call",
        r"accepted_at: .*": f"accepted_at: {accepted}",
        r"  name: rehearsal\b.*": f"  name: {service}",
        r"  image: .*": f"  image: {V2}",
        r"  port: 8080.*": "  port: 8000",
    }
    for pattern, answer in answers.items():
        skeleton, count = re.subn(pattern, answer, skeleton)
        assert count == 1, pattern
    return skeleton


@pytest.fixture
def accepted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_images: None,  # noqa: F811
    airflow_db: None,
    slack: Receiver,  # noqa: F811
) -> Iterator[BlueGreenEngine]:
    """A handoff folder with the seed and the filled-in skeleton; blue runs 1.0.0 live."""
    folder = make_handoffs(
        tmp_path,
        [SEED_ID],
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 20s",
        },
    )
    contract = folder / f"{SEED_ID}.md"
    sidecar = folder / f"{SEED_ID}.deploy.yaml"
    sidecar.unlink()  # the seed's own sidecar: this handoff is accepted from the skeleton
    written = run("accept", contract)
    assert written.returncode == 0, written.stderr
    sidecar.write_text(fill_in(sidecar.read_text(), f"sk-{uuid.uuid4().hex[:6]}"))
    linted = run("lint", contract)
    assert linted.returncode == 0, linted.stdout
    handoff = load_handoff(contract)
    assert handoff.deployable, [d.render() for d in errors_in(handoff.diagnostics)]
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    engine = put_v1_live(handoff)
    try:
        yield engine
    finally:
        engine.teardown(remove_data=True, force=True)


def test_a_rehearsal_accepts_the_filled_in_skeleton(
    accepted: BlueGreenEngine,
) -> None:
    bag = loader_dagbag()
    assert bag.import_errors == {}
    run_ = bag.dags["handoff_rehearsal"].test(run_conf=rehearsal_conf(time_scale=7200))
    states = {ti.task_id: str(ti.state) for ti in run_.get_task_instances()}
    assert str(run_.state) == "success", states
    assert states["switch.move_live_traffic"] == "success"
    assert states["handover.retire_old_colour"] == "success"
    live = accepted.status().live
    assert live is not None and live.release == V2
