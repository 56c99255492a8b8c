"""Drill: a run keeps the handoff it started with, under real components.

One rehearsal of a release that starts erroring in its monitoring window (time scale 1200):
while the validation window is deferred, a YAML syntax error is saved into the sidecar (an
edit in progress) and the validation watch is cleared (re-executed by Airflow). The run must
go on: the re-executed watch ends at the window's original end (counted from the switch),
the breach in the monitoring window rolls back to the old colour with the snapshot's
settings, the drift is logged, announced once and listed in the report with both hashes,
and no request fails that the release itself did not fail on purpose; no acknowledged write
is lost.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.bluegreen import Colour
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.components import (
    DAG_ID,
    HANDOFF_ID,
    Components,
    events_of_run,
    handoff_on_components,
)
from tests.drills.conftest import DrillRecorder, load_losses
from tests.e2e.conftest import Airflow
from tests.e2e.test_watch_deferred import log_line, run_state, task_state, trigger_run
from tests.support.demo import V1, V2
from tests.support.handoffs import rehearsal_conf

pytestmark = pytest.mark.drill(
    name="sidecar broken mid-run, watch re-executed, then a breach", timeout_s=900
)

VALIDATION = "validation_period.watch"
MONITORING = "monitoring_period.watch"
SCALE = 1200  # validation ends 72 s after the switch, monitoring 216 s after it
ENDS_AT = re.compile(r"window validation: .* ends at (\S+)")


def log_of(airflow: Airflow, run_id: str, task_id: str, try_number: int) -> str:
    answer = airflow.api(
        "GET",
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
    )
    content = answer.get("content", [])
    return content if isinstance(content, str) else "\n".join(log_line(i) for i in content)


def ti(airflow: Airflow, run_id: str, task_id: str) -> dict[str, Any]:
    return dict(airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}"))


def clear(airflow: Airflow, run_id: str, task_id: str) -> None:
    airflow.api(
        "POST",
        f"/dags/{DAG_ID}/clearTaskInstances",
        json={
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": [task_id],
            "only_failed": False,
            "include_downstream": False,
            "include_upstream": False,
            "reset_dag_runs": False,
        },
    )


def report_of(components: Components, run_id: str) -> dict[str, Any]:
    [path] = (components.home / "dags").rglob(
        f"runs/{DAG_ID}/{run_id.replace(':', '_').replace('+', '_')}/report.json"
    )
    return dict(json.loads(path.read_text()))


def test_broken_sidecar_and_reexecuted_watch_then_a_breach_rolls_back(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    service = f"rp-{uuid.uuid4().hex[:6]}"
    # 1.1.0 starts answering 500s (half of them) 150 s after it started: in the monitoring window.
    env = "  env:\n    DEMO_MODE: erroring\n    DEMO_ERROR_AFTER: '150'\n"
    edits = {"  health_path: /health\n": "  health_path: /health\n" + env}
    with handoff_on_components(tmp_path, service, edits) as live:
        airflow, components, engine = live.airflow, live.components, live.engine
        sidecar = components.home / "dags" / "handoffs" / f"{HANDOFF_ID}.deploy.yaml"
        config = engine.config
        spec = LoadSpec(
            config.router_host, config.live_port, connections=4, duration_s=900, rate_per_s=40
        )
        with LoadGenerator(spec) as load:
            run = trigger_run(airflow, DAG_ID, rehearsal_conf(release=V2, time_scale=SCALE))
            airflow.wait_for(
                "the validation window to be deferred",
                lambda: task_state(airflow, DAG_ID, run, VALIDATION) == "deferred",
                300,
                every_s=1,
            )
            original = sidecar.read_text()
            sidecar.write_text(original.replace("service:", "service: [", 1))  # mid-edit typo
            broken_at = datetime.now(UTC)
            time.sleep(3)
            clear(airflow, run, VALIDATION)
            cleared_at = datetime.now(UTC)

            def second_try_deferred() -> bool:
                t = ti(airflow, run, VALIDATION)
                return int(t.get("try_number") or 0) >= 2 and t.get("state") in {
                    "deferred",
                    "success",
                }

            airflow.wait_for(
                "the re-executed validation watch", second_try_deferred, 120, every_s=1
            )
            airflow.wait_for(
                "the run to end",
                lambda: run_state(airflow, DAG_ID, run) in {"success", "failed"},
                600,
                every_s=2,
            )
            airflow.wait_for(
                "the report",
                lambda: ti(airflow, run, "report").get("state") in {"success", "failed"},
                120,
            )
        assert load.report is not None
        requests, failed, acknowledged, lost = load_losses(load.report, engine)
        # Answers of the erroring release (green): its injected 500s, and the 400s its server
        # gives on a keep-alive connection whose POST body it left unread with a 500. Anything
        # else (no answer, or a failure from blue) would be the switch's or the rollback's.
        injected = sum(1 for s in load.report.failures if s.status and "green" in (s.server or ""))
        system_failed = failed - injected
        states = {
            t: ti(airflow, run, t).get("state")
            for t in (
                VALIDATION,
                MONITORING,
                "rollback.roll_back",
                "finalize",
                "report",
                "preflight",
            )
        }
        watch = ti(airflow, run, VALIDATION)
        ends = [ENDS_AT.findall(log_of(airflow, run, VALIDATION, n)) for n in (1, 2)]
        report = report_of(components, run)
        status = engine.status()
        bodies = list(live.slack.inbox.bodies)
        sidecar.write_text(original)

    events = events_of_run(bodies, run)
    drift_messages = [
        b
        for b in bodies
        if run in json.dumps(b)
        and "sidecar" in json.dumps(b)
        and "changed during the run" in json.dumps(b)
    ]
    planned_end = datetime.fromisoformat(ends[0][0]) if ends[0] else None
    watch_end = datetime.fromisoformat(watch["end_date"]) if watch.get("end_date") else None
    late = (watch_end - planned_end).total_seconds() if planned_end and watch_end else None
    drift = report.get("drift", [])
    drifted = [(d["role"], d["snapshot_sha256"][:12], d["live_sha256"][:12]) for d in drift]
    live_now = f"{status.live.colour.value} {status.live.release}" if status.live else "nothing"
    drill.record(
        injected=(
            "under real components, a YAML syntax error saved into the sidecar while the "
            f"validation window was deferred (time scale {SCALE}), the validation watch cleared "
            f"{(cleared_at - broken_at).total_seconds():.0f} s later (re-executed), and the "
            "release erroring from its monitoring window"
        ),
        observed=(
            f"every later task started; the re-executed watch (try {watch.get('try_number')}) "
            f"kept the end {ends[0][:1]} (try 2: {ends[1][:1]}) and ended {late:.1f} s after it; "
            f"monitoring {states[MONITORING]}, rollback {states['rollback.roll_back']}, live "
            f"{live_now}; drift in the report: {drifted}; "
            f"{len(drift_messages)} drift message in Slack; {requests} requests "
            f"({injected} failed answers of the erroring release itself), {acknowledged} "
            "acknowledged writes"
        ),
        requests_failed=system_failed,
        data_lost=lost,
    )
    assert states["preflight"] == "success"
    assert states[VALIDATION] == "success", states
    assert int(watch["try_number"]) >= 2
    assert ends[0] and ends[1] and ends[0][0] == ends[1][0], ends  # the same end, from the switch
    assert late is not None and -2.0 <= late < 10.0, late
    assert states[MONITORING] == "failed" and states["rollback.roll_back"] == "success", states
    assert states["report"] == "success", states
    assert (
        status.live is not None and status.live.colour is Colour.BLUE and status.live.release == V1
    )
    assert [d["role"] for d in drift] == ["sidecar"], drift
    assert drift[0]["snapshot_sha256"] and drift[0]["live_sha256"]
    assert drift[0]["snapshot_sha256"] != drift[0]["live_sha256"]
    assert len(drift_messages) == 1, drift_messages
    assert "rollback finished" in events, events
    assert system_failed == 0, load.report.describe_failures()
    assert lost == 0
