"""The errors loader reads the shards' build outcomes instead of building every DAG again.

It still names a contract whose DAG fails to build when no shard has recorded that contract
(a fresh start, or a contract edited since the shards' last parse): then it builds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.airflow_env import configure_airflow
from tests.support.handoffs import make_handoffs

pytestmark = pytest.mark.integration

FAILURE = "error: unexpected ZeroDivisionError while building its DAG: division by zero"


@pytest.fixture
def handoff_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = make_handoffs(tmp_path, ["GOOD-1", "BAD-2", "GOOD-3"])
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    monkeypatch.setenv("HANDOFF_CACHE_DIR", str(tmp_path / "cache"))
    yield folder


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Count the loader's DAG builds; `failing` names the contracts whose build raises."""
    import handoff.render.loader as loader

    real = loader.build_dag
    state: dict[str, Any] = {"count": 0, "failing": set()}

    def counted(handoff, **kwargs):  # type: ignore[no-untyped-def]
        state["count"] += 1
        if handoff.contract_path.name in state["failing"]:
            raise ZeroDivisionError("division by zero")
        return real(handoff, **kwargs)

    monkeypatch.setattr(loader, "build_dag", counted)
    return state


def parse(*names: str) -> Any:
    """Fill a DagBag from some of the loader files, in this order."""
    from airflow.dag_processing.dagbag import DagBag

    folder = configure_airflow()
    first, *others = names
    bag = DagBag(dag_folder=str(folder / first))
    for name in others:
        bag.collect_dags(dag_folder=str(folder / name))
    return bag


SHARDS = ("handoffs_1_of_2.py", "handoffs_2_of_2.py")


def test_after_the_shards_the_errors_loader_builds_nothing(
    handoff_dir: Path, builds: dict[str, Any]
) -> None:
    parse(*SHARDS)
    assert builds["count"] == 3
    bag = parse("handoffs_errors.py")
    assert builds["count"] == 3
    assert bag.import_errors == {} and bag.dags == {}


def test_a_failure_the_shards_recorded_is_named_without_building(
    handoff_dir: Path, builds: dict[str, Any]
) -> None:
    builds["failing"] = {"BAD-2.md"}
    shards = parse(*SHARDS)
    assert "handoff_bad_2" not in shards.dag_ids and shards.import_errors == {}
    builds["failing"] = set()  # a build now would succeed: the record is what is read
    [(loader, message)] = parse("handoffs_errors.py").import_errors.items()
    assert Path(loader).name == "handoffs_errors.py"
    assert f"{handoff_dir / 'BAD-2.md'}: {FAILURE}" in message


def test_on_a_fresh_start_the_errors_loader_builds_what_no_shard_recorded(
    handoff_dir: Path, builds: dict[str, Any]
) -> None:
    builds["failing"] = {"BAD-2.md"}
    [message] = parse("handoffs_errors.py").import_errors.values()
    assert builds["count"] == 3
    assert f"{handoff_dir / 'BAD-2.md'}: {FAILURE}" in message


def test_a_contract_edited_since_the_shards_parsed_is_built_again(
    handoff_dir: Path, builds: dict[str, Any]
) -> None:
    parse(*SHARDS)
    contract = handoff_dir / "BAD-2.md"
    contract.write_text(contract.read_text().replace("Execute production", "Carry out production"))
    builds["failing"] = {"BAD-2.md"}
    [message] = parse("handoffs_errors.py").import_errors.values()
    assert builds["count"] == 4  # only the edited contract
    assert f"{contract}: {FAILURE}" in message


def test_the_errors_loader_names_the_same_problems_in_the_same_order_either_way(
    handoff_dir: Path, builds: dict[str, Any]
) -> None:
    broken = handoff_dir / "GOOD-3.md"
    broken.write_text(broken.read_text().replace("2025-10-06T10:40:00.000Z", "last tuesday"))
    builds["failing"] = {"BAD-2.md", "GOOD-1.md"}
    [fresh] = parse("handoffs_errors.py").import_errors.values()
    [recorded] = parse(*SHARDS, "handoffs_errors.py").import_errors.values()
    assert fresh == recorded
    assert fresh.index("BAD-2.md") < fresh.index("GOOD-1.md") < fresh.index("GOOD-3.md:10")


def test_the_errors_loader_awaits_a_shard_that_is_building_instead_of_building(
    handoff_dir: Path, builds: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import handoff.render.loader as loader
    from handoff import handoff_cache
    from handoff.render.outcomes import Recorded
    from handoff.render.shards import Shard

    reads: list[int] = []

    def a_shard_records_them_on_its_second_look(folder: Path) -> Recorded:
        reads.append(1)
        if len(reads) == 1:  # a shard that owns every contract is building them, none done
            return Recorded({}, (Shard(),))
        paths = [handoff_dir / name for name in ("GOOD-1.md", "BAD-2.md", "GOOD-3.md")]
        return Recorded({handoff_cache.key_loaded_under(p) or "": None for p in paths}, ())

    monkeypatch.setattr(loader, "recorded", a_shard_records_them_on_its_second_look)
    monkeypatch.setattr(loader, "WAIT_STEP", 0.0)
    assert parse("handoffs_errors.py").import_errors == {}
    assert builds["count"] == 0 and len(reads) == 2


def test_the_errors_loader_stops_awaiting_at_its_deadline(
    handoff_dir: Path, builds: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import handoff.render.loader as loader
    from handoff.render.outcomes import Recorded
    from handoff.render.shards import Shard

    monkeypatch.setattr(loader, "recorded", lambda folder: Recorded({}, (Shard(),)))
    monkeypatch.setattr(loader, "WAIT_AT_MOST", 0.2)
    monkeypatch.setattr(loader, "WAIT_STEP", 0.05)
    builds["failing"] = {"BAD-2.md"}
    [message] = parse("handoffs_errors.py").import_errors.values()
    assert builds["count"] == 3
    assert f"{handoff_dir / 'BAD-2.md'}: {FAILURE}" in message
