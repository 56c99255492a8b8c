"""The DAG loader under Airflow's own DagBag: one DAG per contract, broken ones reported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.airflow_env import loader_dagbag
from tests.support.handoffs import make_handoffs

pytestmark = pytest.mark.integration


@pytest.fixture
def handoff_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = make_handoffs(tmp_path, ["ALPHA-1", "BETA-2", "GAMMA-3"])
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    yield folder


def dagbag():  # type: ignore[no-untyped-def]
    return loader_dagbag()


def test_n_contracts_give_n_dags(handoff_dir: Path) -> None:
    bag = dagbag()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["handoff_alpha_1", "handoff_beta_2", "handoff_gamma_3"]
    dag = bag.dags["handoff_alpha_1"]
    assert dag.max_active_runs == 1
    assert "service:ux-portal" in dag.tags and "env:demo" in dag.tags
    assert dag.description.startswith("Execute production deployment of UX Phase 2")
    assert dag.default_args["owner"] == "SPARC SRE Engineer"
    assert "ALPHA-1" in (dag.doc_md or "")
    assert set(dag.params) >= {"deploy_at", "release", "time_scale", "emergency_reason"}


def test_one_broken_contract_is_one_import_error_and_the_others_load(handoff_dir: Path) -> None:
    broken = handoff_dir / "BETA-2.md"
    broken.write_text(broken.read_text().replace("2025-10-06T10:40:00.000Z", "last tuesday"))
    bag = dagbag()
    assert sorted(bag.dag_ids) == ["handoff_alpha_1", "handoff_gamma_3"]
    assert len(bag.import_errors) == 1
    [message] = bag.import_errors.values()
    assert (
        f"{broken}:10: error: Timestamp 'last tuesday' is not an ISO 8601 date and time" in message
    )


def test_duplicate_handoff_ids_name_both_files(handoff_dir: Path) -> None:
    twin = handoff_dir / "GAMMA-3.md"
    twin.write_text(twin.read_text().replace("GAMMA-3", "ALPHA-1"))
    (handoff_dir / "GAMMA-3.deploy.yaml").write_text(
        (handoff_dir / "GAMMA-3.deploy.yaml").read_text().replace("GAMMA-3", "ALPHA-1")
    )
    bag = dagbag()
    assert sorted(bag.dag_ids) == ["handoff_alpha_1", "handoff_beta_2"]
    [message] = bag.import_errors.values()
    assert (
        f"{twin}:7: error: handoff id 'ALPHA-1' is already used by {handoff_dir / 'ALPHA-1.md'}:7"
        in message
    )


def test_scheduled_handoff_uses_the_notice_timetable(handoff_dir: Path) -> None:
    sidecar = handoff_dir / "ALPHA-1.deploy.yaml"
    sidecar.write_text(
        sidecar.read_text().replace(
            "# deploy_at: 2026-11-28T09:00:00Z", "deploy_at: 2026-11-28T09:00:00Z"
        )
    )
    bag = dagbag()
    timetable = bag.dags["handoff_alpha_1"].timetable
    assert type(timetable).__name__ == "NoticeTimetable"
    assert timetable.summary == "notice 2026-11-27 09:00 UTC, deploy 2026-11-28 09:00 UTC"
    assert type(bag.dags["handoff_beta_2"].timetable).__name__ == "NullTimetable"  # on trigger


def test_every_dag_survives_serialization(handoff_dir: Path) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    sidecar = handoff_dir / "ALPHA-1.deploy.yaml"
    sidecar.write_text(sidecar.read_text().replace("# deploy_at:", "deploy_at:"))
    dags = dagbag().dags
    for dag in dags.values():
        restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
        assert restored.task_ids == dag.task_ids
    scheduled = DagSerialization.from_dict(DagSerialization.to_dict(dags["handoff_alpha_1"]))
    assert scheduled.timetable.summary == "notice 2026-11-27 09:00 UTC, deploy 2026-11-28 09:00 UTC"


def test_parsing_context_builds_only_the_asked_dag(handoff_dir: Path) -> None:
    os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = "handoff_beta_2"
    try:
        bag = dagbag()
    finally:
        del os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"]
    assert bag.dag_ids == ["handoff_beta_2"]


def test_notice_timetable_schedules_exactly_one_run_at_the_notice_time() -> None:
    from datetime import UTC, datetime

    from airflow.timetables.base import DataInterval, TimeRestriction

    from handoff.timetable import NoticeTimetable

    notice = datetime(2026, 11, 27, 9, tzinfo=UTC)
    timetable = NoticeTimetable(notice, datetime(2026, 11, 28, 9, tzinfo=UTC))
    anytime = TimeRestriction(earliest=None, latest=None, catchup=False)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=anytime)
    assert first is not None and first.run_after == notice
    done = DataInterval.exact(first.run_after)
    assert (
        timetable.next_dagrun_info(last_automated_data_interval=done, restriction=anytime) is None
    )
    too_late = TimeRestriction(
        earliest=None, latest=datetime(2026, 11, 26, tzinfo=UTC), catchup=False
    )
    assert (
        timetable.next_dagrun_info(last_automated_data_interval=None, restriction=too_late) is None
    )
    assert NoticeTimetable.deserialize(timetable.serialize()) == timetable


def test_a_broken_contract_is_reported_by_the_errors_loader_never_by_a_dag_file(
    handoff_dir: Path,
) -> None:
    # Airflow 3.3 marks every DAG of a file with an import error stale: the DAG files of the
    # shards must never carry one, or a broken contract would stop its neighbours' runs.
    broken = handoff_dir / "BETA-2.md"
    broken.write_text(broken.read_text().replace("2025-10-06T10:40:00.000Z", "last tuesday"))
    [loader] = loader_dagbag().import_errors
    assert Path(loader).name == "handoffs_errors.py"


def test_duplicate_ids_are_caught_across_loader_shards(handoff_dir: Path) -> None:
    from handoff.render.shards import Shard

    twin = handoff_dir / "BETA-2.md"
    original = handoff_dir / "ALPHA-1.md"
    shards = [Shard.of_loader(f"handoffs_{i}_of_2.py") for i in (1, 2)]
    assert [s.holds(original) for s in shards] != [s.holds(twin) for s in shards]
    twin.write_text(twin.read_text().replace("BETA-2", "ALPHA-1"))
    sidecar = handoff_dir / "BETA-2.deploy.yaml"
    sidecar.write_text(sidecar.read_text().replace("BETA-2", "ALPHA-1"))
    bag = dagbag()
    assert sorted(bag.dag_ids) == ["handoff_alpha_1", "handoff_gamma_3"]
    [message] = bag.import_errors.values()
    assert f"{twin}:7: error: handoff id 'ALPHA-1' is already used by {original}:7" in message


def test_an_edited_contract_is_reloaded_not_served_from_the_cache(handoff_dir: Path) -> None:
    assert dagbag().dags["handoff_gamma_3"].description.startswith("Execute production")
    contract = handoff_dir / "GAMMA-3.md"
    contract.write_text(contract.read_text().replace("Execute production", "Carry out production"))
    assert dagbag().dags["handoff_gamma_3"].description.startswith("Carry out production")
