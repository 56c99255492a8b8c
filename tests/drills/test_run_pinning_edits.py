"""Drill: a valid edit mid-run waits for the next run; a contract deleted mid-run retires after.

Under real components (time scale 7200). Run 1 deploys the sidecar's release; during its
validation window the sidecar is edited validly: another release image, another latency
budget, the service renamed. Run 1 must finish with its original release, budget and
service, and report the drift; the next parse shows the new version. Run 2 then deploys the
new release to the renamed service; right after its preflight the contract and its sidecar
are deleted. Run 2 must complete, and only then does the DAG go.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.catalog import load_handoff
from tests.drills.components import DAG_ID, HANDOFF_ID, handoff_on_components
from tests.drills.conftest import DrillRecorder
from tests.e2e.conftest import Airflow
from tests.e2e.test_watch_deferred import run_state, task_state, trigger_run
from tests.support.demo import V2, V3, put_v1_live
from tests.support.handoffs import rehearsal_conf

pytestmark = pytest.mark.drill(name="valid edit mid-run, then the contract deleted", timeout_s=900)

SCALE = 7200


def report_of(dags: Path, run_id: str) -> dict[str, Any]:
    safe = run_id.replace(":", "_").replace("+", "_")
    [path] = dags.rglob(f"runs/{DAG_ID}/{safe}/report.json")
    return dict(json.loads(path.read_text()))


def dag_tags(airflow: Airflow) -> set[str]:
    answer = airflow.session.get(f"{airflow.url}/api/v2/dags/{DAG_ID}", timeout=30)
    if answer.status_code == 404:
        return set()
    data = answer.json()
    if data.get("is_stale"):
        return set()
    return {t["name"] if isinstance(t, dict) else str(t) for t in data.get("tags", [])}


def ended(airflow: Airflow, run: str) -> bool:
    return run_state(airflow, DAG_ID, run) in {"success", "failed"}


def report_done(airflow: Airflow, run: str) -> bool:
    return task_state(airflow, DAG_ID, run, "report") in {"success", "failed"}


def test_valid_edit_waits_for_the_next_run_and_a_deleted_contract_retires_after_its_run(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    first_service = f"rq-{uuid.uuid4().hex[:6]}"
    renamed = f"{first_service}-renamed"
    with handoff_on_components(tmp_path, first_service) as live:
        airflow, components, engine = live.airflow, live.components, live.engine
        dags = components.home / "dags"
        contract = dags / "handoffs" / f"{HANDOFF_ID}.md"
        sidecar = contract.with_name(f"{HANDOFF_ID}.deploy.yaml")
        renamed_engine = None
        try:
            run1 = trigger_run(airflow, DAG_ID, rehearsal_conf(time_scale=SCALE))
            airflow.wait_for(
                "run 1's validation window",
                lambda: (
                    task_state(airflow, DAG_ID, run1, "validation_period.watch")
                    in {"running", "deferred", "success"}
                ),
                300,
                every_s=0.5,
            )
            text = sidecar.read_text()
            assert f"image: {V2}" in text and "p95_ms: 3000" in text
            sidecar.write_text(
                text.replace(f"image: {V2}", f"image: {V3}")
                .replace("p95_ms: 3000", "p95_ms: 2500")
                .replace(f"name: {first_service}", f"name: {renamed}")
                .replace(f"{first_service}-data", f"{renamed}-data")
            )
            airflow.wait_for("run 1 to end", lambda: ended(airflow, run1), 400, every_s=2)
            airflow.wait_for("run 1's report", lambda: report_done(airflow, run1), 120)
            state1 = run_state(airflow, DAG_ID, run1)
            report1 = report_of(dags, run1)
            live1 = engine.status().live
            airflow.wait_for(
                "the DAG to show the renamed service",
                lambda: f"service:{renamed}" in dag_tags(airflow),
                180,
                every_s=2,
            )
            # The renamed service takes over the environment's router ports: the old one goes,
            # and the renamed one starts where a team would start it, 1.0.0 live on blue.
            engine.teardown(remove_data=True, force=True)
            renamed_engine = put_v1_live(load_handoff(contract))
            run2 = trigger_run(airflow, DAG_ID, rehearsal_conf(time_scale=SCALE))
            airflow.wait_for(
                "run 2's preflight",
                lambda: task_state(airflow, DAG_ID, run2, "preflight") == "success",
                300,
                every_s=0.5,
            )
            contract.unlink()
            sidecar.unlink()
            deleted_at = time.monotonic()
            seen_during: set[bool] = set()

            def run2_over() -> bool:
                seen_during.add(bool(dag_tags(airflow)))
                return ended(airflow, run2)

            airflow.wait_for("run 2 to end", run2_over, 400, every_s=2)
            airflow.wait_for("run 2's report", lambda: report_done(airflow, run2), 120)
            state2 = run_state(airflow, DAG_ID, run2)
            report2 = report_of(dags, run2)
            live2 = renamed_engine.status().live
            airflow.wait_for("the DAG to retire", lambda: not dag_tags(airflow), 180, every_s=2)
            retired_after = time.monotonic() - deleted_at
        finally:
            if renamed_engine is not None:
                renamed_engine.teardown(remove_data=True, force=True)

    header1, header2 = report1["header"], report2["header"]
    drift1 = [d["role"] for d in report1.get("drift", [])]
    drift2 = [d["role"] for d in report2.get("drift", [])]
    drill.record(
        injected=(
            f"under real components (time scale {SCALE}), run 1's sidecar edited in its "
            f"validation window: image {V2} -> {V3}, p95 budget 3000 -> 2500 ms, service "
            f"renamed; run 2's contract and sidecar deleted right after its preflight"
        ),
        observed=(
            f"run 1 {state1} with {header1['service']} / {header1['release']} (live: "
            f"{live1.release if live1 else None}), drift reported {drift1}; the DAG then showed "
            f"service:{renamed}; run 2 {state2} with {header2['service']} / {header2['release']} "
            f"(live: {live2.release if live2 else None}), drift {drift2}; the DAG stayed while "
            f"run 2 ran ({sorted(seen_during)}), and retired {retired_after:.0f} s after the "
            "deletion, once run 2 had ended"
        ),
        requests_failed="n/a (no load)",
        data_lost="n/a",
    )
    assert state1 == "success", report1["outcome_detail"]
    assert (header1["service"], header1["release"]) == (first_service, V2)
    assert live1 is not None and live1.release == V2
    assert drift1 == ["sidecar"]
    assert "budget 3000 ms" in json.dumps(report1["criteria"])  # the budget it started with
    assert "budget 2500 ms" not in json.dumps(report1["criteria"])
    assert state2 == "success", report2["outcome_detail"]
    assert (header2["service"], header2["release"]) == (renamed, V3)
    assert live2 is not None and live2.release == V3
    assert "budget 2500 ms" in json.dumps(report2["criteria"])
    assert sorted(drift2) == ["contract", "sidecar"]
    assert True in seen_during
