"""Issue 14, item 4 under Airflow's own DagBag: a bad file is its own import error.

Each reproducer is planted beside a good handoff: the good DAG loads and the shard that owns
the bad file records exactly one import error, naming it with its line. Before the fix each
of these made the whole loader file fail (the 50,000 `>` one killed the process), and a
contract ending in ".md" failed as `OSError: File name too long` from doc_md.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.airflow_env import loader_dagbag
from tests.support.bad_input import CASES, ENDS_IN_DOT_MD, BadInput
from tests.support.handoffs import make_handoffs

pytestmark = pytest.mark.integration


@pytest.fixture
def handoff_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = make_handoffs(tmp_path, ["GOOD-1"])
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    yield folder


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_bad_file_is_one_import_error_and_the_good_dag_loads(
    case: BadInput, handoff_dir: Path
) -> None:
    bad = case.plant(handoff_dir)
    bag = loader_dagbag()
    assert "handoff_good_1" in bag.dag_ids
    assert len(bag.import_errors) == 1, bag.import_errors
    [message] = bag.import_errors.values()
    where = f"{bad}:{case.line}" if case.line else str(bad)
    assert f"{where}: error: {case.message}" in message
    assert "Traceback" not in message


def test_a_contract_ending_in_dot_md_gets_its_dag(handoff_dir: Path) -> None:
    BadInput("ends", ENDS_IN_DOT_MD, None, "").plant(handoff_dir)
    bag = loader_dagbag()
    assert bag.import_errors == {}
    dag = bag.dags["handoff_ends_in_md"]
    assert (dag.doc_md or "").endswith(".md\n")
    assert "runbook-runbook" in (dag.doc_md or "")


def test_an_unforeseen_exception_while_building_is_the_contracts_import_error(
    handoff_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(handoff_dir / "GOOD-1.md", handoff_dir / "BAD-2.md")
    (handoff_dir / "BAD-2.md").write_text(
        (handoff_dir / "GOOD-1.md").read_text().replace("GOOD-1", "BAD-2")
    )
    (handoff_dir / "BAD-2.deploy.yaml").write_text(
        (handoff_dir / "GOOD-1.deploy.yaml").read_text().replace("GOOD-1", "BAD-2")
    )
    import handoff.render.loader as loader

    real = loader.build_dag

    def explode(handoff, **kwargs):  # type: ignore[no-untyped-def]
        if handoff.contract_path.name == "BAD-2.md":
            raise ZeroDivisionError("division by zero")
        return real(handoff, **kwargs)

    monkeypatch.setattr(loader, "build_dag", explode)
    bag = loader_dagbag()
    assert "handoff_good_1" in bag.dag_ids and "handoff_bad_2" not in bag.dag_ids
    [message] = bag.import_errors.values()
    assert (
        f"{handoff_dir / 'BAD-2.md'}: error: unexpected ZeroDivisionError while building its "
        "DAG: division by zero" in message
    )
