"""A rehearsal accepts the sidecar `python -m handoff accept` wrote, once a person filled it in.

Each contract form (the seed's canonical Markdown, the inline-bold report and a whole-file
JSON contract) gets its skeleton from the real command; the test then does what the
skeleton's `DECIDE:` lines ask of a person (the release image, the port the demo service
listens on, who accepts), gives the service its own name and ports, lints it with the real
command, and runs the DAG with dag.test() on the real Docker engine and router, compressed
in time. The inline-bold and JSON forms run more compressed than the seed: their timelines
are shorter and the seed's rehearsal already drills the full one.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.catalog import load_handoff
from handoff.errors import errors_in
from handoff.plan.naming import dag_id_for
from tests.conftest import FIXTURES
from tests.integration.dags.test_rehearsal import SEED_ID, demo_images, slack  # noqa: F401
from tests.support.airflow_env import loader_dagbag
from tests.support.demo import V2, free_port, put_v1_live
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.slack_receiver import Receiver
from tests.unit.test_cli import run

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Form:
    """A contract form to accept: its file (None: the seed), its notice, its time scale."""

    contract: Path | None
    notice: timedelta  # the contract's pre-deploy notice, which the drill gives
    time_scale: float


FORMS = {
    "seed": Form(None, timedelta(hours=24), 7200),
    "inline-bold": Form(
        FIXTURES / "contracts" / "valid" / "inline_bold_report.md", timedelta(hours=12), 14400
    ),
    "json": Form(FIXTURES / "contracts" / "valid" / "whole_file.json", timedelta(hours=6), 14400),
}


@dataclass(frozen=True)
class Accepted:
    """The accepted handoff's DAG, the engine of its service, and how to rehearse it."""

    dag_id: str
    engine: BlueGreenEngine
    form: Form


def fill_in(skeleton: str, service: str) -> str:
    """Answer the skeleton's DECIDE lines as a person would for the demo service."""
    accepted = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answers = {
        r"accepted_by: .*": "accepted_by: SRE on call",
        r"accepted_at: .*": f"accepted_at: {accepted}",
        r"(?m)^  name: .*$": f"  name: {service}",
        r"  image: .*": f"  image: {V2}",
        r"  port: 8080.*": "  port: 8000",
    }
    for pattern, answer in answers.items():
        skeleton, count = re.subn(pattern, answer, skeleton)
        assert count == 1, pattern
    return skeleton


@pytest.fixture(params=sorted(FORMS))
def accepted(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_images: None,  # noqa: F811
    airflow_db: None,
    slack: Receiver,  # noqa: F811
) -> Iterator[Accepted]:
    """A handoff folder with the contract and its filled-in skeleton; blue runs 1.0.0 live."""
    form = FORMS[request.param]
    folder = make_handoffs(
        tmp_path,
        [SEED_ID] if form.contract is None else [],
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 20s",
        },
    )
    if form.contract is None:
        contract = folder / f"{SEED_ID}.md"
        # the seed's own sidecar: this handoff is accepted from the skeleton
        contract.with_name(f"{SEED_ID}.deploy.yaml").unlink()
    else:
        contract = folder / form.contract.name
        shutil.copyfile(form.contract, contract)
    sidecar = contract.with_name(contract.stem + ".deploy.yaml")
    written = run("accept", contract)
    assert written.returncode == 0, written.stderr
    sidecar.write_text(fill_in(sidecar.read_text(), f"sk-{uuid.uuid4().hex[:6]}"))
    linted = run("lint", contract)
    assert linted.returncode == 0, linted.stdout
    handoff = load_handoff(contract)
    assert handoff.deployable, [d.render() for d in errors_in(handoff.diagnostics)]
    assert handoff.contract is not None
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    engine = put_v1_live(handoff)
    try:
        yield Accepted(dag_id_for(handoff.contract.handoff_id), engine, form)
    finally:
        engine.teardown(remove_data=True, force=True)


def test_a_rehearsal_accepts_the_filled_in_skeleton(accepted: Accepted) -> None:
    bag = loader_dagbag()
    assert bag.import_errors == {}
    deploy_at = datetime.now(UTC) + accepted.form.notice + timedelta(minutes=5)
    run_ = bag.dags[accepted.dag_id].test(
        run_conf=rehearsal_conf(
            time_scale=accepted.form.time_scale, deploy_at=deploy_at.isoformat()
        )
    )
    states = {ti.task_id: str(ti.state) for ti in run_.get_task_instances()}
    assert str(run_.state) == "success", states
    assert states["switch.move_live_traffic"] == "success"
    assert states["handover.retire_old_colour"] == "success"
    live = accepted.engine.status().live
    assert live is not None and live.release == V2
