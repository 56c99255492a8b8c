"""The loader keeps an in-flight run's DAG, built from its snapshot, whatever the files became."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.catalog import load_handoff
from handoff.cli import main as cli_main
from handoff.evidence.store import report_dir_of, run_dir
from handoff.runtime.snapshot import Snapshot, mark_done, take
from tests.support.airflow_env import loader_dagbag
from tests.support.handoffs import make_handoffs

pytestmark = pytest.mark.integration

DAG_ID = "handoff_alpha_1"


@pytest.fixture
def in_flight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Snapshot]:
    folder = make_handoffs(tmp_path, ["ALPHA-1", "BETA-2"])
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    handoff = load_handoff(folder / "ALPHA-1.md")
    run_folder = run_dir(report_dir_of(handoff), DAG_ID, "manual__1")
    end = datetime.now(UTC) + timedelta(hours=1)
    yield take(handoff, run_folder, DAG_ID, "manual__1", {"release": "x:1"}, end)


def test_a_broken_sidecar_keeps_the_dag_and_shows_the_located_error(
    in_flight: Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar = in_flight.contract_path.with_name("ALPHA-1.deploy.yaml")
    sidecar.write_text(sidecar.read_text().replace("service:", "service: [", 1))
    bag = loader_dagbag()
    assert DAG_ID in bag.dag_ids and "handoff_beta_2" in bag.dag_ids
    assert "is in flight" in (bag.dags[DAG_ID].doc_md or "")
    [message] = bag.import_errors.values()
    assert f"{sidecar}:" in message  # the located error is still shown
    assert cli_main(["lint", str(in_flight.contract_path.parent)]) == 1
    out = capsys.readouterr().out
    assert f"{sidecar}:" in out and "run manual__1 of handoff_alpha_1 is in flight" in out
    mark_done(in_flight)
    bag = loader_dagbag()
    assert DAG_ID not in bag.dag_ids  # no run in flight: an invalid handoff has no DAG


def test_a_valid_edit_waits_for_the_next_run(in_flight: Snapshot) -> None:
    sidecar = in_flight.contract_path.with_name("ALPHA-1.deploy.yaml")
    sidecar.write_text(sidecar.read_text().replace("ux-portal", "renamed-portal"))
    bag = loader_dagbag()
    assert bag.import_errors == {}
    assert "service:ux-portal" in bag.dags[DAG_ID].tags  # the run's version
    mark_done(in_flight)
    assert "service:renamed-portal" in loader_dagbag().dags[DAG_ID].tags


def test_a_deleted_contract_retires_its_dag_only_once_the_run_is_done(in_flight: Snapshot) -> None:
    in_flight.contract_path.unlink()
    in_flight.contract_path.with_name("ALPHA-1.deploy.yaml").unlink()
    bag = loader_dagbag()
    assert DAG_ID in bag.dag_ids
    [message] = bag.import_errors.values()
    assert "contract deleted while run manual__1 of handoff_alpha_1 is in flight" in message
    mark_done(in_flight)
    bag = loader_dagbag()
    assert sorted(bag.dag_ids) == ["handoff_beta_2"] and bag.import_errors == {}
