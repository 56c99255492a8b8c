"""Drill: two handoffs for one service triggered at once under real Airflow take turns.

Two handoffs (two contracts, two DAGs) are accepted for one service. Real components
(api-server, scheduler, dag-processor, triggerer as separate processes) run both rehearsals,
triggered at the same instant, against the real engine and router, under keep-alive reads and
writes on the live listener. The service's lease decides the order: the first deploy to ask
takes it and keeps it until its handover; the other's deploy reschedules itself
(up_for_reschedule: no worker slot held) and deploys only once the lease is free. So whole
handoffs never interleave: the first's deploy .. handover ends before the second deploys.

Beforehand a lease is planted as a run that no longer exists would leave it (owned by a run id
Airflow does not know): the first deploy must break it, on Airflow's word that the run is
gone, and log who held it and why it was broken. And once the first handoff holds the lease,
a third handoff of the service is triggered whose environment allows only a short wait
(`lease.wait: 15s`): its deploy must give up with a clear failure and its abort must touch
nothing (the colour being deployed belongs to the lease holder).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.bluegreen.lease import ServiceLease
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from handoff.catalog import load_handoff
from tests.drills.components import airflow_components
from tests.drills.conftest import DrillRecorder, load_losses
from tests.e2e.conftest import E2E_DAGS, Airflow
from tests.e2e.test_watch_deferred import log_line
from tests.support.demo import V2, V3, ensure_demo_images, free_port, put_v1_live
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.slack_receiver import slack_receiver

pytestmark = pytest.mark.drill(name="two handoffs for one service at once (Airflow)", timeout_s=900)

HANDOFFS = {"DRILL-LEASE-A": V2, "DRILL-LEASE-B": V3}
DAGS = {f"handoff_{h.lower().replace('-', '_')}": h for h in HANDOFFS}
# The third handoff, in an environment whose lease.wait is short.
IMPATIENT, IMPATIENT_DAG, IMPATIENT_WAIT_S = "DRILL-LEASE-C", "handoff_drill_lease_c", 15
DEPLOY = "deploy.start_release"
HANDOVER = "handover.retire_old_colour"
# A lease left behind by a run that was deleted before its end point.
STALE_OWNER = "handoff_drill_lease_b/manual__deleted-before-its-handover"
TIME_SCALE = 7200
POLL_S = 10  # the environment's floor (apache/airflow#71172)


@dataclass(frozen=True)
class Record:
    """One line of a task log and when it was written."""

    at: datetime
    text: str


def task_records(airflow: Airflow, dag_id: str, run_id: str, task_id: str) -> list[Record]:
    """Return a task's log lines (try 1, every reschedule of it) with their timestamps."""
    answer = airflow.api(
        "GET",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
    )
    records = []
    for item in answer.get("content", []):
        if isinstance(item, dict) and item.get("timestamp"):
            at = datetime.fromisoformat(str(item["timestamp"]).replace("Z", "+00:00"))
            records.append(Record(at, log_line(item)))
    return records


def first(records: list[Record], needle: str) -> Record:
    """Return the first record containing ``needle``; fail the drill naming it otherwise."""
    for record in records:
        if needle in record.text:
            return record
    pytest.fail(f"no log line contains {needle!r}:\n" + "\n".join(r.text for r in records))


def task_instance(airflow: Airflow, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    return dict(airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))


@contextmanager
def two_handoffs_for_one_service(
    root: Path, service: str
) -> Iterator[tuple[Airflow, BlueGreenEngine]]:
    """Run components over two handoffs of one fresh service, 1.0.0 live; remove it all after."""
    ensure_demo_images()
    home = root / "airflow"
    dags = home / "dags"
    dags.mkdir(parents=True)
    shutil.copy(E2E_DAGS / "handoff_gates_e2e.py", dags / "handoff_loader.py")
    shutil.copy(E2E_DAGS / "handoff_errors_e2e.py", dags / "handoff_errors.py")
    folder = make_handoffs(
        dags,
        [*HANDOFFS, IMPATIENT],
        sidecar_edits={"name: ux-portal": f"name: {service}", "ux-portal-data": f"{service}-data"},
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "ready_timeout: 2 minutes": "ready_timeout: 30s",
            "poll: 1 minute": f"poll: {POLL_S}s",
        },
        accepted_now=True,
    )
    environments = folder.parent / "environments"
    (environments / "impatient.yaml").write_text(
        (environments / "demo.yaml")
        .read_text()
        .replace("\nname: demo\n", "\nname: impatient\n")
        .replace("wait: 6 hours", f"wait: {IMPATIENT_WAIT_S}s")
    )
    sidecar = folder / f"{IMPATIENT}.deploy.yaml"
    sidecar.write_text(sidecar.read_text().replace("environment: demo", "environment: impatient"))
    engine = put_v1_live(load_handoff(folder / f"{next(iter(HANDOFFS))}.md"))
    try:
        with (
            slack_receiver() as slack,
            airflow_components(home, dags, slack.url) as (airflow, _components),
        ):
            airflow.wait_for(
                "the handoff DAGs to be parsed",
                lambda: (
                    {d["dag_id"] for d in airflow.api("GET", "/dags")["dags"]}
                    >= {*DAGS, IMPATIENT_DAG}
                ),
                180,
                every_s=2,
            )
            yield airflow, engine
    finally:
        engine.teardown(remove_data=True, force=True)


def trigger(airflow: Airflow, dag_id: str, release: str) -> str:
    """Trigger a rehearsal of a handoff with a release; return the run id."""
    conf = rehearsal_conf(release=release, time_scale=TIME_SCALE)
    run = airflow.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    return str(run["dag_run_id"])


def test_two_handoffs_for_one_service_take_turns_under_airflow(
    tmp_path: Path, drill: DrillRecorder
) -> None:
    service = f"dl-{int(time.time() * 1000) % 10**8}"
    with two_handoffs_for_one_service(tmp_path, service) as (airflow, engine):
        lease = ServiceLease(engine.client, engine.config)
        lease.acquire(STALE_OWNER, "a handoff whose run was deleted", lambda owner: None)
        config = engine.config
        spec = LoadSpec(
            config.router_host, config.live_port, connections=4, duration_s=800, rate_per_s=40
        )
        holders: list[str] = []
        deploy_states: dict[str, list[str]] = {dag: [] for dag in DAGS}
        with LoadGenerator(spec) as load:
            for dag_id in [*DAGS, IMPATIENT_DAG]:
                airflow.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
            runs = {dag_id: trigger(airflow, dag_id, HANDOFFS[h]) for dag_id, h in DAGS.items()}
            impatient: list[str] = []

            def all_ended() -> bool:
                holder = lease.holder()
                owner = holder.owner if holder else "free"
                if not holders or holders[-1] != owner:
                    holders.append(owner)
                if not impatient and owner in {f"{d}/{r}" for d, r in runs.items()}:
                    impatient.append(trigger(airflow, IMPATIENT_DAG, V2))
                ended = bool(impatient) and airflow.api(
                    "GET", f"/dags/{IMPATIENT_DAG}/dagRuns/{impatient[0]}"
                )["state"] in {"success", "failed"}
                for dag_id, run_id in runs.items():
                    state = task_instance(airflow, dag_id, run_id, DEPLOY).get("state") or "none"
                    seen = deploy_states[dag_id]
                    if not seen or seen[-1] != state:
                        seen.append(state)
                    run = airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
                    ended = ended and run["state"] in {"success", "failed"}
                return ended

            airflow.wait_for("the three runs to end", all_ended, 780, every_s=1)
            time.sleep(0.5)
        assert load.report is not None
        requests, failed, acknowledged, lost = load_losses(load.report, engine)
        states = {d: airflow.api("GET", f"/dags/{d}/dagRuns/{r}")["state"] for d, r in runs.items()}
        owners = {f"{d}/{r}": d for d, r in runs.items()}
        c_run = impatient[0]
        c_state = airflow.api("GET", f"/dags/{IMPATIENT_DAG}/dagRuns/{c_run}")["state"]
        c_deploy = task_records(airflow, IMPATIENT_DAG, c_run, DEPLOY)
        c_abort = task_records(airflow, IMPATIENT_DAG, c_run, "abort")
        c_tries = task_instance(airflow, IMPATIENT_DAG, c_run, DEPLOY)
        logs = {d: task_records(airflow, d, r, DEPLOY) for d, r in runs.items()}
        taken_at = {d: first(logs[d], f"lease of {service}: taken").at for d in DAGS}
        one, two = sorted(DAGS, key=lambda d: taken_at[d])  # in the order they got the lease
        handover_one = task_instance(airflow, one, runs[one], HANDOVER)
        deploy_one = task_instance(airflow, one, runs[one], DEPLOY)
        live = engine.status().live

    one_log, two_log = logs[one], logs[two]
    waits = [r for r in two_log if "is leased by" in r.text]
    taken = first(two_log, f"lease of {service}: taken")
    deploying = first(two_log, "deploying ")
    broken = [r for r in one_log + two_log if "broke the stale lease" in r.text]
    broke = first(broken, STALE_OWNER)
    one_start = datetime.fromisoformat(deploy_one["start_date"])
    one_end = datetime.fromisoformat(handover_one["end_date"])
    waited_s = (taken.at - waits[0].at).total_seconds() if waits else 0.0
    c_waits = [r for r in c_deploy if "is leased by" in r.text]
    c_gave_up = first(c_deploy, "gives up")
    c_untouched = first(c_abort, "nothing is removed or touched")
    c_waited_s = (c_gave_up.at - c_waits[0].at).total_seconds() if c_waits else 0.0
    name = {d: DAGS[d].removeprefix("DRILL-LEASE-") for d in DAGS}
    labels = [
        name[owners[h]] if h in owners else "stale" if h == STALE_OWNER else h for h in holders
    ]
    drill.record(
        injected=(
            f"two handoffs for one service ({name[one]}: {HANDOFFS[DAGS[one]]}, "
            f"{name[two]}: {HANDOFFS[DAGS[two]]}) triggered at the same instant under real "
            "Airflow components, after a stale lease left by a run Airflow no longer knows; "
            f"a third (C, lease.wait {IMPATIENT_WAIT_S} s) triggered once {name[one]} held it"
        ),
        observed=(
            f"stale lease broken by {name[one] if broke in one_log else name[two]} "
            f'("{broke.text.partition(" ago: ")[2]}"); lease holders seen in turn: '
            f"{' -> '.join(labels)}; "
            f"{name[two]}'s deploy waited {waited_s:.0f} s in {len(waits)} looks at the lease, "
            f"each naming {name[one]}'s run and ending up_for_reschedule (no worker slot held), "
            f"deployed {(deploying.at - one_end).total_seconds():.1f} s after {name[one]}'s "
            f"handover ended; runs {states[one]} and {states[two]}; C waited "
            f"{c_waited_s:.0f} s ({len(c_waits)} looks), then its deploy failed naming the holder "
            f"and its abort touched nothing, run {c_state}; "
            f"live ends {live.colour.value if live else 'none'} ({live.release if live else '-'}); "
            f"{requests} requests, {acknowledged} acknowledged writes"
        ),
        requests_failed=failed,
        data_lost=lost,
    )
    # Only the planted lease was broken (by one or both deploys racing for it): a lease of a
    # running run never is.
    assert all(STALE_OWNER in r.text for r in broken) and "does not exist" in broke.text, broken
    assert "up_for_reschedule" in deploy_states[two], deploy_states
    assert waits and all(runs[one] in w.text for w in waits), waits
    # No interleaving: the second deployed nothing until the first's handover was done.
    assert one_start < one_end <= taken.at <= deploying.at, (one_start, one_end, taken, deploying)
    assert states == {one: "success", two: "success"}, states
    assert live is not None and live.release == HANDOFFS[DAGS[two]]
    # The third gave up within its limit (plus one poll), deployed nothing, touched nothing.
    assert c_state == "failed" and c_tries["state"] == "failed", (c_state, c_tries)
    assert IMPATIENT_WAIT_S <= c_waited_s < IMPATIENT_WAIT_S + 4 * POLL_S, c_waited_s
    assert not any("deploying " in r.text for r in c_deploy)
    assert runs[one] in c_untouched.text or runs[two] in c_untouched.text, c_untouched
    assert failed == 0, load.report.describe_failures()
    assert lost == 0
