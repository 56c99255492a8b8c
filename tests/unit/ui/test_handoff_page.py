"""The handoff page: each state's headline, the plan against the run, every text escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.catalog import load_handoff
from handoff.console.run_metrics import FiringAlert, RunMetrics
from handoff.plan.graph import ROLLBACK_TASK, SWITCH_TASK, WAIT_TASK, WATCH_TASKS, build_graph
from handoff.report.timings import TryTiming
from handoff.runtime.drift import Drift
from handoff.ui.handoff_page import LiveView, render_handoff_page, render_live
from handoff.ui.run_view import (
    Gate,
    RunInfo,
    TaskRun,
    chart_marks,
    merge_tasks,
    phase,
    timeline,
    waiting_gates,
)
from tests.support.handoffs import SEED

T = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>'
RUN = RunInfo("manual__1", "running", T, None, {"time_scale": 3600})


def tasks_of(states: dict[str, str]) -> dict[str, TaskRun]:
    handoff = load_handoff(SEED)
    assert handoff.plan is not None
    ids = [t.id for t in build_graph(handoff.plan).tasks]
    runs = {
        t: TaskRun(t, s, T, T + timedelta(seconds=5) if s == "success" else None)
        for t, s in states.items()
    }
    return merge_tasks(ids, runs, {})


def view(**changes: object) -> LiveView:
    base = LiveView(
        dag_id="handoff_prod_deployment_001",
        handoff_id="PROD-DEPLOYMENT-001",
        base_url="http://airflow",
        run=RUN,
        phase="window open: validation period",
        steps=(),
        window=None,
        gates=(),
        metrics=RunMetrics(),
        bands=(),
        markers=(),
        drift=(),
        reports=(),
        now=T,
    )
    return LiveView(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_each_state_has_its_headline() -> None:
    assert phase(None, {}, []) == "no run yet"
    assert phase(RUN, tasks_of({WAIT_TASK: "deferred"}), []) == "waiting for the deploy time"
    assert (
        phase(RUN, tasks_of({WATCH_TASKS[1]: "deferred"}), []) == "window open: validation period"
    )
    breached = tasks_of({WATCH_TASKS[1]: "failed", ROLLBACK_TASK: "success"})
    assert phase(RUN, breached, []) == "breach in validation period, rolled back"
    gate = tasks_of({"handover.sign_off": "awaiting_input"})
    gates = waiting_gates(gate, [])
    assert [g.task_id for g in gates] == ["handover.sign_off"]
    assert phase(RUN, gate, gates) == "waiting for a person"
    handed = tasks_of({"handover.sign_off": "success", "handover.retire_old_colour": "success"})
    assert phase(RunInfo("r", "success", T, T, {}), handed, []) == "handed over"


def test_recorded_timings_fill_in_what_airflow_lacks() -> None:
    recorded = {WAIT_TASK: TryTiming(WAIT_TASK, 1, T, None, None)}
    merged = merge_tasks([WAIT_TASK, "preflight"], {}, recorded)
    assert merged[WAIT_TASK].state == "running" and merged[WAIT_TASK].start == T
    assert merged["preflight"].state == "not started"


def test_plan_against_the_run_scales_the_plan() -> None:
    handoff = load_handoff(SEED)
    assert handoff.plan is not None
    tasks = tasks_of({"preflight": "success", WATCH_TASKS[0]: "deferred"})
    lines = {line.step: line for line in timeline(handoff.plan, tasks, T, 3600)}
    all_clear = lines["all-clear"]
    # The contract's all-clear comes 1 h after the switch: 1 s at scale 3600.
    assert all_clear.planned_end == T + timedelta(seconds=1)
    assert all_clear.state == "deferred" and all_clear.actual_end is None
    assert lines["preflight"].actual_end == T + timedelta(seconds=5)


def test_windows_and_switch_are_marked() -> None:
    tasks = tasks_of({SWITCH_TASK: "success", WATCH_TASKS[0]: "deferred"})
    bands, markers = chart_marks(tasks, T + timedelta(minutes=1))
    assert [b.label for b in bands] == ["all clear"]
    assert [m.label for m in markers] == ["switch"]


def test_every_text_is_escaped_and_gates_link_to_airflow() -> None:
    drift = Drift("sidecar", f"/x/{HOSTILE}.yaml", "a" * 64, "b" * 64, "now", "deploy")
    alert = FiringAlert(HOSTILE, "page", "green", HOSTILE, "2026-12-03T06:00:00Z")
    html = render_handoff_page(
        view(
            phase=HOSTILE,
            gates=[Gate("go_no_go", HOSTILE, HOSTILE, ("Approve", HOSTILE), T)],
            metrics=RunMetrics(alerts=(alert,)),
            drift=[drift],
        ),
        HOSTILE,
        HOSTILE,
        30,
        HOSTILE,
    )
    assert "<script>alert" not in html
    assert html.count('<script src="assets/refresh.js" defer></script>') == 1
    assert (
        'href="http://airflow/dags/handoff_prod_deployment_001/runs/manual__1/tasks/go_no_go/'
        'required_actions"' in html
    )
    assert "this run keeps the version it started with" in html
    assert "<main>" in html and 'aria-labelledby="gates-h"' in html


def test_prometheus_down_still_renders_and_says_so() -> None:
    html = render_live(view(metrics=RunMetrics(problem="Prometheus did not answer (unreachable)")))
    assert "No charts: Prometheus did not answer (unreachable)" in html
    assert "Unknown: Prometheus did not answer" in html
    not_observed = render_live(view(metrics=None))
    assert "not observed by Prometheus" in not_observed
    assert 'aria-labelledby="window-h"' in not_observed and "No window open." in not_observed


def test_charts_show_both_colours_with_the_switch() -> None:
    points = ((T.timestamp(), 0.01), (T.timestamp() + 60, 0.02))
    html = render_live(
        view(
            metrics=RunMetrics(error_rate={"blue": points, "green": ()}, p95={"blue": points}),
            markers=[m for m in chart_marks(tasks_of({SWITCH_TASK: "success"}), T)[1]],
        )
    )
    assert 'id="chart-errors"' in html and 'id="chart-p95"' in html
    assert "green: no data." in html and "switch at" in html
    assert render_live(view(run=RunInfo("r", "failed", T, T, {}))).startswith(
        '<div data-final="true"'
    )
