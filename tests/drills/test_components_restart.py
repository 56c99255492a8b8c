"""Drill: scheduler and triggerer restarted during a watch window; and two runs of one handoff.

Real components (api-server, scheduler, dag-processor, triggerer as separate processes) run
the seed handoff against the real engine and router, time-compressed, its service watched by
the machine's Prometheus (registered at deploy) under steady load. Two runs are triggered at
once: the second must wait queued (the DAG's max_active_runs=1) and start only after the
first ended. While the first run's monitoring window sits deferred in the triggerer, the
scheduler and the triggerer are stopped (SIGTERM) and started again. The window must resume in
the new triggerer with the same end (its trigger carries an absolute end time) and with every
metric measurement since the window's start recovered from Prometheus (the trigger keeps no
statistics of its own), the run must succeed, and Slack must receive each message of the run
exactly once.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.components import DAG_ID, events_of_run, handoff_on_components
from tests.drills.conftest import DrillRecorder, load_losses
from tests.e2e.conftest import Airflow
from tests.e2e.test_watch_deferred import run_state, task_log, task_state, trigger_run
from tests.integration.dags.test_rehearsal import SUCCESS_EVENTS
from tests.support.demo import V2
from tests.support.handoffs import rehearsal_conf

pytestmark = pytest.mark.drill(
    name="scheduler + triggerer restarted in a watch window", timeout_s=900
)

WATCH = "monitoring_period.watch"
# Run 1: the monitoring window ends 72 h ÷ 1800 = 144 s after the switch (windows count from
# the switch), some 90 s after it starts (deferred; a restart takes up to ~30 s here);
# run 2 goes faster.
FIRST_SCALE, SECOND_SCALE = 1800, 7200
PROBING = re.compile(r"window monitoring: probing .* until (\S+) \((-?\d+) s from now\)")
# The restart comes about half-way through the window (measured: 19 of one analysis in
# all, 20 recovered across the analyses); a verdict that lost the first half would have ~9.
MIN_MEASURED = 14
RECOVERED = re.compile(r"(\d+) measurement\(s\) since the window's start recovered")


def dag_run(airflow: Airflow, run_id: str) -> dict[str, Any]:
    return dict(airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}"))


def test_restarts_in_a_watch_window_and_a_second_run_that_waits(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    service = f"dr-{int(time.time() * 1000) % 10**8}"
    with handoff_on_components(tmp_path, service, observed=True) as live:
        airflow, components, engine = live.airflow, live.components, live.engine
        config = engine.config
        spec = LoadSpec(
            config.router_host, config.live_port, connections=4, duration_s=600, rate_per_s=40
        )
        with LoadGenerator(spec) as load:
            conf = rehearsal_conf(release=V2)
            first = trigger_run(airflow, DAG_ID, {**conf, "time_scale": FIRST_SCALE})
            # The second run waits queued for minutes: a deploy_at fixed now would leave it
            # less than the contract's notice at its preflight (refused, as it must be).
            # Without one, its preflight gives it the full notice from then.
            queued = {k: v for k, v in conf.items() if k != "deploy_at"}
            second = trigger_run(airflow, DAG_ID, {**queued, "time_scale": SECOND_SCALE})
            second_states: set[str] = set()

            def probing() -> bool:
                # Deferred is not enough: the restart must hit a trigger that a triggerer
                # already runs (its first "probing" line is in the task log), or there is
                # only one trigger instance to observe.
                second_states.add(run_state(airflow, DAG_ID, second))
                return task_state(airflow, DAG_ID, first, WATCH) == "deferred" and bool(
                    PROBING.findall(task_log(airflow, DAG_ID, first, WATCH))
                )

            airflow.wait_for("the validation window to be probed", probing, 300, every_s=1)
            restart_at = datetime.now(UTC)
            stopped = {n: components.stop(n) for n in ("scheduler", "triggerer")}
            time.sleep(3.0)  # both are down at once for a moment
            for name in ("scheduler", "triggerer"):
                components.restart(name)
            back_at = datetime.now(UTC)

            def first_done() -> bool:
                second_states.add(run_state(airflow, DAG_ID, second))
                return run_state(airflow, DAG_ID, first) in {"success", "failed"}

            airflow.wait_for("the first run to end", first_done, 400, every_s=1)
            airflow.wait_for(
                "the second run to end",
                lambda: run_state(airflow, DAG_ID, second) in {"success", "failed"},
                400,
                every_s=2,
            )
        assert load.report is not None
        requests, failed, acknowledged, lost = load_losses(load.report, engine)
        runs = {r: dag_run(airflow, r) for r in (first, second)}
        watch = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{first}/taskInstances/{WATCH}")
        log = task_log(airflow, DAG_ID, first, WATCH)
        verdict = airflow.api(
            "GET", f"/dags/{DAG_ID}/dagRuns/{first}/taskInstances/{WATCH}/xcomEntries/verdict"
        )["value"]
        probing = PROBING.findall(log)
        recovered = [int(n) for n in RECOVERED.findall(log)]
        ends = [end for end, _ in probing]
        left = [int(seconds) for _, seconds in probing]
        bodies = list(live.slack.inbox.bodies)

    error_rate = next(a for a in verdict["analyses"] if a["metric"] == "router_error_rate")
    measured = sum(error_rate["counts"][k] for k in ("successful", "failed", "inconclusive"))
    first_events = events_of_run(bodies, first)
    second_events = events_of_run(bodies, second)
    planned_end = datetime.fromisoformat(ends[0]) if ends else None
    watch_end = datetime.fromisoformat(watch["end_date"])
    resumed_late_s = (watch_end - planned_end).total_seconds() if planned_end else None
    first_end = datetime.fromisoformat(runs[first]["end_date"])
    second_start = datetime.fromisoformat(runs[second]["start_date"])
    drill.record(
        injected=(
            f"scheduler and triggerer stopped (SIGTERM, {stopped['scheduler']:.1f} s and "
            f"{stopped['triggerer']:.1f} s) and started again "
            f"{(back_at - restart_at).total_seconds():.0f} s later, while the first run's "
            "monitoring window was deferred"
        ),
        observed=(
            f"the window was probed by {len(ends)} trigger instances, all until the same end "
            f"({len(set(ends))} distinct), the new one with {left[-1] if left else '?'} s left; "
            f"it ended {resumed_late_s:.1f} s after its planned "
            f"end, try {watch['try_number']}; run 1 {runs[first]['state']}, Slack got "
            f"{len(first_events)} messages, "
            f"{'the planned sequence' if first_events == SUCCESS_EVENTS else first_events}"
            f"; {requests} requests, {acknowledged} acknowledged writes; the new trigger "
            f"recovered {recovered[-1] if recovered else 0} measurements from Prometheus, the "
            f"error rate judged on {measured} ({error_rate['status']})"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    drill.record(
        drill="two runs of one handoff at once",
        injected="a second run of the same handoff triggered right after the first",
        observed=(
            f"second run states seen while the first ran: {sorted(second_states)}; it started "
            f"{(second_start - first_end).total_seconds():.1f} s after the first ended and "
            f"ended {runs[second]['state']}; Slack got "
            f"{len(second_events)} messages for it"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert runs[first]["state"] == "success", runs
    assert len(ends) >= 2 and len(set(ends)) == 1, ends  # re-created with the same end
    # The new trigger asked Prometheus for every point since the window's start (the
    # switch), those the old one had measured included, and judged them all. Every instance
    # logs its count, 0 included (the first one may start before any point is due).
    assert len(recovered) == len(ends) and recovered[-1] > recovered[0], (recovered, ends)
    assert error_rate["status"] == "passed", error_rate
    assert measured >= MIN_MEASURED, (measured, recovered, error_rate)
    assert left[-1] > 0, left  # it resumed inside the window, not after it
    assert resumed_late_s is not None and -1.0 <= resumed_late_s < 30.0
    assert watch["try_number"] == 1
    assert first_events == SUCCESS_EVENTS, first_events
    assert second_states <= {"queued"}, second_states
    assert second_start >= first_end
    assert runs[second]["state"] == "success", runs
    assert second_events == SUCCESS_EVENTS, second_events
    assert failed == 0 and lost == 0
