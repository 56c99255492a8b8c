"""Drill: under real Airflow, the worker process running the switch task is killed (SIGKILL).

Real components run the seed handoff (time scale 7200) against the real engine and router.
As soon as `switch.move_live_traffic` runs, the drill kills its task process (the pid the
task instance records) with SIGKILL. Airflow retries the task (it has one retry for crashes;
failures the step decides are never retried), the retry runs the same switch, which
converges; the run succeeds without a rollback, Slack gets each message once, and no request
on the live listener fails.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import docker.errors
import psutil
import pytest

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.bluegreen.config import LABEL_LOCK_OWNER
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.components import DAG_ID, events_of_run, handoff_on_components
from tests.drills.conftest import DrillRecorder, load_losses
from tests.e2e.conftest import Airflow
from tests.e2e.test_watch_deferred import run_state, trigger_run
from tests.integration.dags.test_rehearsal import SUCCESS_EVENTS
from tests.support.demo import V2
from tests.support.handoffs import rehearsal_conf

pytestmark = pytest.mark.drill(name="Airflow worker killed mid-switch", timeout_s=600)

SWITCH = "switch.move_live_traffic"


def switch_ti(airflow: Airflow, run_id: str) -> dict[str, Any]:
    return dict(airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{SWITCH}"))


def switch_holds_lock(engine: BlueGreenEngine) -> str | None:
    """Return the lock's owner while a switch holds the service's lock, else None."""
    try:
        lock = engine.client.containers.get(engine.config.lock_name)
    except docker.errors.NotFound:
        return None
    labels = lock.labels or {}
    if labels.get("handoff.lock.operation") != "switch":
        return None
    return str(labels.get(LABEL_LOCK_OWNER, "?"))


def test_a_killed_switch_task_is_retried_and_converges(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    service = f"dk-{int(time.time() * 1000) % 10**8}"
    with handoff_on_components(tmp_path, service) as handoff:
        airflow, engine, slack = handoff.airflow, handoff.engine, handoff.slack
        config = engine.config
        spec = LoadSpec(
            config.router_host, config.live_port, connections=4, duration_s=400, rate_per_s=40
        )
        with LoadGenerator(spec) as load:
            run_id = trigger_run(
                airflow,
                DAG_ID,
                rehearsal_conf(release=V2, time_scale=7200),
            )

            def running() -> dict[str, Any] | None:
                ti = switch_ti(airflow, run_id)
                return ti if ti.get("state") == "running" and ti.get("pid") else None

            ti = airflow.wait_for("the switch task to run", running, 300, every_s=0.1)
            pid = int(ti["pid"])
            process = psutil.Process(pid)
            what = " ".join(process.cmdline())[:80]
            holding = airflow.wait_for(
                "the switch to take the service's lock",
                lambda: switch_holds_lock(engine),
                60,
                every_s=0.02,
            )
            time.sleep(0.1)  # inside the switch: discovery, router step, verification
            os.kill(pid, signal.SIGKILL)
            after_kill = engine.status().router
            airflow.wait_for(
                "the run to end",
                lambda: run_state(airflow, DAG_ID, run_id) in {"success", "failed"},
                400,
                every_s=1,
            )
        assert load.report is not None
        requests, failed, acknowledged, lost = load_losses(load.report, engine)
        final = switch_ti(airflow, run_id)
        states = {
            t["task_id"]: t["state"]
            for t in airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")[
                "task_instances"
            ]
        }
        events = events_of_run(list(slack.inbox.bodies), run_id)
        state = run_state(airflow, DAG_ID, run_id)
        live = engine.status().live
    drill.record(
        injected=(
            f"SIGKILL of the task process of {SWITCH} (pid {pid}: {what.split(' -- ')[0]}) "
            f"0.1 s after it took the service's lock for the switch ({holding})"
        ),
        observed=(
            f"after the kill live={after_kill.live.value if after_kill.live else 'none'}, "
            f"file={after_kill.persisted_live.value if after_kill.persisted_live else 'none'}; "
            f"Airflow retried it: try {final['try_number']} {final['state']}; run {state}, "
            f"rollback {states.get('rollback.roll_back')}; live "
            f"{live.colour.value if live else 'none'} runs {live.release if live else '-'} "
            f"(blue retired at handover); Slack got {len(events)} messages"
            f"{', the planned sequence' if events == SUCCESS_EVENTS else f': {events}'}; "
            f"{requests} requests, {acknowledged} acknowledged writes"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert final["try_number"] == 2 and final["state"] == "success", final
    assert state == "success", states
    assert states.get("rollback.roll_back") == "skipped"
    assert events == SUCCESS_EVENTS, events
    assert live is not None and live.colour is Colour.GREEN and live.release == V2
    assert failed == 0 and lost == 0
