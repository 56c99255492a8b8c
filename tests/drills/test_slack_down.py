"""Drill: the Slack receiver is down for the whole run; the deployment goes on, failures recorded.

The seed handoff is rehearsed with Airflow's dag.test() against the real engine and router
(time scale 7200), its Slack connection pointing at a port nobody listens on, while a
keep-alive load of reads and writes runs on the live listener from start to finish.
"""

from __future__ import annotations

import pytest

from handoff.bluegreen import Colour
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from tests.drills.conftest import DrillRecorder, load_losses
from tests.integration.dags.test_rehearsal import Rehearsal, ledger_rows, run_dag
from tests.support.demo import V2
from tests.support.slack_receiver import conn_json, down_url

pytestmark = pytest.mark.drill(name="Slack receiver down for the whole run", timeout_s=420)


def test_slack_down_changes_nothing_and_every_failure_is_recorded(
    rehearsal: Rehearsal, monkeypatch: pytest.MonkeyPatch, drill: DrillRecorder
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(down_url()))
    cfg = rehearsal.engine.config
    spec = LoadSpec(
        cfg.router_host, cfg.live_port, connections=4, duration_s=400.0, rate_per_s=40.0
    )
    with LoadGenerator(spec) as load:
        state, states, _ = run_dag(rehearsal, time_scale=7200, release=V2)
    assert load.report is not None
    requests, failed, acknowledged, lost = load_losses(load.report, rehearsal.engine)
    rows = ledger_rows(rehearsal)
    live = rehearsal.engine.status().live
    all_failed = all(status == "failed" and attempts == 3 for _, status, attempts in rows)
    drill.record(
        injected="Slack webhook connection points at a closed port for the whole run",
        observed=(
            f"run {state}; rollback {states['rollback.roll_back']}, abort {states['abort']}; "
            f"live {live.colour.value if live else 'none'} runs "
            f"{live.release if live else '-'}; ledger: {len(rows)} messages, all "
            f"{'failed after 3 tries' if all_failed else rows}"
            f"; {requests} requests, {acknowledged} acknowledged writes on live during the run"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    assert state == "success", states
    assert states["rollback.roll_back"] == "skipped" and states["abort"] == "skipped"
    assert live is not None and live.colour is Colour.GREEN and live.release == V2
    assert [event for event, _, _ in rows] == [
        "NOTICE",
        "DEPLOY_STARTED",
        "PHASE",
        "SWITCH_DONE",
        "ALL_CLEAR",
        "VALIDATION_PASSED",
        "PHASE",
        "HANDOVER_COMPLETE",
    ]
    assert all_failed, rows
    assert rehearsal.slack.inbox.requests == 0
    assert failed == 0, load.report.describe_failures()
    assert lost == 0
