"""Steps take their arguments as data, and the serialized DAG still names its contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.airflow_env import loader_dagbag
from tests.support.handoffs import make_handoffs


def test_the_serialized_preflight_names_the_contract_and_templates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    folder = make_handoffs(tmp_path, ["STEP-1"])
    monkeypatch.setenv("HANDOFF_DIR", str(folder))
    bag = loader_dagbag()
    dag = bag.dags["handoff_step_1"]
    preflight = dag.get_task("preflight")
    assert preflight.template_fields == ()
    assert preflight.contract_path == str(folder / "STEP-1.md")

    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert restored.get_task("preflight").contract_path == str(folder / "STEP-1.md")
