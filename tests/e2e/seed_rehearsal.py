"""What a rehearsal of the seed handoff under real components must show, read through the
REST API: every task's log and its evidence, what Prometheus and Alertmanager saw, the
service's colours and the Slack messages. The browser test triggers that rehearsal from the
UI's form and checks it here.

The seed contract runs as handed over, accepted for a service, ports and environment of its
own (see conftest.write_seed_handoff), on the real Docker engine and router.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from handoff.analysis.alert_test import TEST_ALERT
from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import load_handoff
from handoff.plan.graph import DEPLOY_TASK
from tests.e2e.conftest import Airflow
from tests.e2e.test_watch_deferred import log_line, run_state
from tests.integration.dags.test_rehearsal import SUCCESS_EVENTS
from tests.support.demo import V2
from tests.support.slack_receiver import alertmanager_messages, event_of

DAG_ID = "handoff_prod_deployment_001"
HANDOFF_ID = "PROD-DEPLOYMENT-001"
#: The seed contract's acceptance criteria (functional, performance, security, monitoring...).
SEED_CRITERIA = 15
# 7200: the 24 h validation window lasts 12 s and the 72 h monitoring window 36 s.
TIME_SCALE = 7200

# Evidence the steps log today, one pattern per acceptance check they stand for.
EVIDENCE_LINES = {
    "health via preview": r"health via preview: \d+ healthy of \d+ answers from green, "
    r"threshold \d+ consecutive -> passed",
    "health via live": r"health via live: \d+ healthy of \d+ answers from green, "
    r"threshold \d+ consecutive -> passed",
    "zero downtime": r"zero-downtime probe: [1-9]\d* requests, 0 failed \(threshold 0\)",
    "data integrity": r'^EVIDENCE "[^"]+": passed — \d+ writes acknowledged during the switch, '
    r"0 missing",
}
# One line per acceptance criterion a gate judged (the record's log_marker).
EVIDENCE_RECORD = re.compile(
    r'^EVIDENCE "(?P<criterion>[^"]+)": (?P<status>passed|failed|not verified)\b', re.M
)


def wait_for_seed_dag(airflow: Airflow) -> None:
    airflow.wait_for(
        "the seed DAG to be parsed",
        lambda: any(d["dag_id"] == DAG_ID for d in airflow.api("GET", "/dags")["dags"]),
        120,
        every_s=2,
    )


def run_finished(airflow: Airflow, run_id: str) -> bool:
    """Tell whether the run ended; an API answer slower than its timeout counts as "not yet".

    On a loaded 2-core machine the API server sometimes takes longer than a request's
    timeout; the wait's deadline, not one slow answer, decides.
    """
    try:
        return run_state(airflow, DAG_ID, run_id) in ("success", "failed")
    except requests.RequestException:
        return False


def task_logs(call: Callable[..., Any], dag_id: str, run_id: str) -> dict[str, str]:
    """Every task's log of a run (its latest try), read through the REST API.

    ``call(method, path, **requests_kwargs)`` answers the API's JSON (``Airflow.api`` here,
    the compose test's ``Api.call`` there).
    """
    instances = call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
    logs = {}
    for ti in instances["task_instances"]:
        if ti["try_number"] < 1:
            continue
        answer = call(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/logs/{ti['try_number']}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        logs[ti["task_id"]] = "\n".join(log_line(item) for item in answer.get("content") or [])
    return logs


def run_logs(airflow: Airflow, run_id: str) -> dict[str, str]:
    """Every task's log of a run of the seed DAG."""
    return task_logs(airflow.api, DAG_ID, run_id)


def check_seed_rehearsal(airflow: Airflow, run_id: str, seed_service: BlueGreenEngine) -> None:
    """Check a finished seed rehearsal of the given run through the REST API."""
    logs = run_logs(airflow, run_id)
    assert run_state(airflow, DAG_ID, run_id) == "success", failed_logs(airflow, run_id, logs)

    everything = "\n".join(logs.values())
    for check, pattern in EVIDENCE_LINES.items():
        assert re.search(pattern, everything, re.M), f"no {check} evidence in the task logs"
    assert f"rehearsal: every wait and window is divided by {TIME_SCALE}" in logs["preflight"]
    evidence = [m.groupdict() for m in EVIDENCE_RECORD.finditer(everything)]
    for record in evidence:
        print(f'EVIDENCE "{record["criterion"]}": {record["status"]}')
    assert evidence, "no EVIDENCE lines in the task logs"
    failed = [
        line for line in everything.splitlines() if re.search(r'^EVIDENCE ".*": failed', line)
    ]
    assert not failed, "\n".join(failed)
    # Prometheus watched the release (registered at deploy): every criterion was measured,
    # none is left "not verified", and the monitoring coverage is a figure.
    # (The contract's Dependencies items have EVIDENCE lines of their own: not criteria.)
    contract = load_handoff(airflow.home / "dags" / "handoffs" / f"{HANDOFF_ID}.md").contract
    assert contract is not None
    names = {c.name for c in contract.acceptance_criteria}
    assert len(names) == SEED_CRITERIA, names
    judged = [r for r in evidence if r["criterion"] in names]
    unverified = {r["criterion"] for r in judged if r["status"] == "not verified"}
    print(f"{len(names)} criteria, {len(names) - len(unverified)} measured")
    assert {r["criterion"] for r in judged} == names and not unverified, sorted(unverified)
    assert re.search(r"registered with Prometheus on handoff-observability", logs[DEPLOY_TASK])
    coverage = re.search(r"monitoring: coverage (\d+)% of the critical metrics", everything)
    assert coverage and coverage.group(1) == "100", coverage
    # The Error Tracking test alert went through Alertmanager to the test's receiver.
    assert airflow.alerts is not None
    alerts = alertmanager_messages(airflow.alerts.inbox)
    assert any(m.alertname == TEST_ALERT and m.handoff == HANDOFF_ID for m in alerts), alerts

    # The release serves live on green; blue, retired at handover, is gone.
    service = seed_service.status()
    assert service.live is not None and service.live.colour is Colour.GREEN
    assert service.live.release == V2
    assert service.colour(Colour.BLUE) is None
    # The communication plan reached the local Slack receiver, each message linking the run.
    assert airflow.slack is not None
    run_url = f"{airflow.url}/dags/{DAG_ID}/runs/{quote(run_id)}"
    events = [event_of(b) for b in airflow.slack.inbox.bodies if run_url in b["text"]]
    assert events == SUCCESS_EVENTS


def failed_logs(airflow: Airflow, run_id: str, logs: dict[str, str]) -> str:
    """The logs of the tasks that did not succeed, for the failure message."""
    instances = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
    bad = [t["task_id"] for t in instances["task_instances"] if t["state"] == "failed"]
    return "\n\n".join(f"--- {task}\n{logs.get(task, '')[-3000:]}" for task in bad)
