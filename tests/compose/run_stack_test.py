"""The docker-compose stack for real: up, a seed rehearsal completed by a Celery worker, down.

Run by `make compose-test` after the images are built (the target builds them). The stack is
the project's docker-compose.yaml under its own project name, free loopback ports and fresh
secrets, reading a copy of the seed with its own service name and router ports. The demo
profile's one-shot puts release 1.0.0 live; the test then triggers a rehearsal of 1.1.0 through
the api-server's REST API, as the UI does, and waits for it to succeed. It then checks that a
Celery worker ran every task (the worker's own log names each task instance), that the
communication plan reached the local Slack receiver, and that 1.1.0 serves users. The
handoff is observed by the stack's own Prometheus, as in the main suite's seed rehearsal: the
deploy registers the service (router on the stack's observability network, targets files in
its volume), every acceptance criterion is measured (none "not verified", none failed), the
monitoring coverage is 100 %, and the Error Tracking test alert goes through the stack's
Alertmanager to the same Slack receiver. Whatever happens, the stack goes down with its
volumes and the service's containers are removed.
Exit status 0 on success; the last line gives the duration.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from handoff.analysis.alert_test import TEST_ALERT
from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import load_handoff
from handoff.plan.graph import DEPLOY_TASK
from handoff.plan.naming import dag_id_for
from handoff.runtime.engine_factory import engine_config
from tests.compose.stack import Deadline, Stack, default_bridge_gateway, stack_settings
from tests.e2e.seed_rehearsal import EVIDENCE_RECORD, task_logs
from tests.integration.dags.test_rehearsal import SUCCESS_EVENTS
from tests.support.demo import V1, V2, free_port
from tests.support.handoffs import make_handoffs, rehearsal_conf
from tests.support.slack_receiver import (
    WEBHOOK_PATH,
    Receiver,
    alertmanager_messages,
    event_of,
    slack_receiver,
)

PROJECT = "handoff-compose-test"
HANDOFF_ID = "COMPOSE-E2E"
# The stack's observability network; `make observability`'s may hold the default name.
OBSERVABILITY_NETWORK = f"{PROJECT}-observability"
# Every hour of the timeline lasts one second: the 24 h and 72 h windows take 96 s in all.
TIME_SCALE = 3600
BUDGET_S = 1500  # the whole run once the images exist: start, rehearsal, checks
HARDENED_AIRFLOW = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "demo",
)


def say(message: str) -> None:
    print(f"compose-test [{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Api:
    """The api-server's REST API v2 with the admin's token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def login(self, password: str) -> None:
        answer = requests.post(
            f"{self.url}/auth/token", json={"username": "admin", "password": password}, timeout=30
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()


def healthy(api: Api) -> bool:
    """Tell whether the metadata database, scheduler, triggerer and dag-processor are healthy."""
    health = requests.get(f"{api.url}/api/v2/monitor/health", timeout=5).json()
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((health.get(part) or {}).get("status") == "healthy" for part in parts)


def write_handoff(root: Path) -> tuple[Path, str]:
    """Write the seed's copy (own service, volume, router ports); return it and the service."""
    service = f"compose-e2e-{secrets.token_hex(3)}"
    folder = make_handoffs(
        root,
        [HANDOFF_ID],
        sidecar_edits={"name: ux-portal": f"name: {service}", "ux-portal-data": f"{service}-data"},
        environment_edits={
            "live_port: 18080": f"live_port: {free_port()}",
            "preview_port: 18081": f"preview_port: {free_port()}",
            "network: handoff-observability": f"network: {OBSERVABILITY_NETWORK}",
        },
        accepted_now=True,
        observed=True,
    )
    return folder / f"{HANDOFF_ID}.md", service


def engine_of(contract: Path) -> BlueGreenEngine:
    handoff = load_handoff(contract)
    assert handoff.acceptance is not None and handoff.environment is not None
    return BlueGreenEngine(engine_config(handoff.acceptance, handoff.environment))


def start(stack: Stack, api: Api, deadline: Deadline) -> None:
    """Bring the stack up and wait until it is healthy and the demo's blue is live."""
    say(f"starting the stack (project {stack.project}, API on {stack.api_url})")
    stack.compose("up", "--detach", timeout=deadline.left())
    deadline.wait_for("the api-server and the components' heartbeats", lambda: healthy(api), 300)
    api.login(stack.settings["HANDOFF_ADMIN_PASSWORD"])
    say("stack healthy; admin logged in")

    def demo_done() -> bool:
        state = stack.container_state("demo")
        if state is None or state.get("Running"):
            return False
        if state.get("ExitCode") != 0:
            raise RuntimeError(f"the demo one-shot failed:\n{stack.logs('demo')}")
        return True

    deadline.wait_for("the demo profile's one-shot", demo_done, 300)
    say(stack.logs("demo").strip().splitlines()[-1])


# Only the proxy mounts the engine's socket; nothing else may.
ENGINE_SOCKET = "/var/run/docker.sock"
# What a service may add back after cap_drop ALL (docker-compose.yaml says why).
CAPS_ADDED = {"postgres": ["CHOWN", "FOWNER", "SETGID", "SETUID"]}


def check_hardening(stack: Stack) -> None:
    """Every container drops its capabilities, has no-new-privileges; only the proxy has the
    engine's socket, and the worker's and triggerer's log ports answer on no interface."""
    for service in ("socket-proxy", "postgres", "redis", *HARDENED_AIRFLOW):
        host, mounts = stack.inspect(service, "{{json .HostConfig}}", "{{json .Mounts}}")
        assert host["CapDrop"] == ["ALL"], (service, host["CapDrop"])
        assert sorted(host.get("CapAdd") or []) == CAPS_ADDED.get(service, []), (service, host)
        assert "no-new-privileges:true" in (host.get("SecurityOpt") or []), (service, host)
        assert not host.get("Privileged"), service
        engine = [m for m in mounts if m.get("Source") == ENGINE_SOCKET]
        assert bool(engine) == (service == "socket-proxy"), (service, mounts)
    for name in ("HANDOFF_WORKER_LOG_PORT", "HANDOFF_TRIGGER_LOG_PORT"):
        port = int(stack.settings[name])
        for address in ("127.0.0.1", host_address()):
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((address, port)) != 0, f"{name} {port} on {address}"
    say("every container: cap_drop ALL, no-new-privileges; engine socket only in the proxy; "
        "no log server listening")  # fmt: skip


def host_address() -> str:
    """Return this machine's address on its default route (not loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the route is looked up
        return str(sock.getsockname()[0])


def rehearse(api: Api, dag_id: str, deadline: Deadline) -> str:
    """Trigger the rehearsal as the UI does and wait for its end; return the run id."""
    deadline.wait_for(
        f"the dag-processor to parse {dag_id}",
        lambda: any(d["dag_id"] == dag_id for d in api.call("GET", "/dags")["dags"]),
        180,
    )
    errors = api.call("GET", "/importErrors")
    assert errors["total_entries"] == 0, errors
    api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    # A full notice from now (the window and the notice hold in a rehearsal) and the
    # answers a person would type into the form's empty answer fields.
    conf = rehearsal_conf(release=V2, time_scale=TIME_SCALE, emergency_reason="")
    run = api.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    run_id = str(run["dag_run_id"])
    say(f"triggered {dag_id} run {run_id} (time_scale {TIME_SCALE})")
    seen: dict[str, str] = {}

    def finished() -> bool:
        for ti in task_instances(api, dag_id, run_id):
            state = ti.get("state") or "none"
            if seen.get(ti["task_id"]) != state:
                seen[ti["task_id"]] = state
                say(f"  {ti['task_id']}: {state}")
        state = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
        return state in ("success", "failed")

    deadline.wait_for("the rehearsal to finish", finished, 900, every_s=3)
    state = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
    assert state == "success", f"the rehearsal ended {state}: {seen}"
    return run_id


def task_instances(api: Api, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    answer = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
    return list(answer["task_instances"])


def check_celery_ran_it(stack: Stack, api: Api, dag_id: str, run_id: str) -> None:
    """Every task that ran did so on a Celery worker: the worker's log names its instance."""
    worker_log = stack.logs("airflow-worker").splitlines()
    ran = [ti for ti in task_instances(api, dag_id, run_id) if ti["state"] == "success"]
    missing = [ti["task_id"] for ti in ran if not any(ti["id"] in line for line in worker_log)]
    assert ran and not missing, f"not in the Celery worker's log: {missing}"
    example = next(line for line in worker_log if ran[0]["id"] in line)
    hosts = sorted({f"{ti.get('hostname')} ({ti.get('executor')})" for ti in ran})
    say(f"a Celery worker ran all {len(ran)} successful tasks; hosts: {', '.join(hosts)}")
    say(f"  e.g. {ran[0]['task_id']}: {example.strip()[:300]}")


def check_preflight_log(api: Api, dag_id: str, run_id: str) -> None:
    """The api-server serves the log the worker wrote (shared logs volume): the worker saw the
    demo profile's blue live through the host's Docker engine."""
    answer = api.call(
        "GET",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/preflight/logs/1",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
    )
    content = answer.get("content") or []
    events = [str(item.get("event", "")) if isinstance(item, dict) else item for item in content]
    expected = f"live: blue runs {V1}"
    assert expected in events, events[-20:]
    say(f"preflight's log through the REST API ({len(events)} lines) says '{expected}'")


def check_observed(api: Api, dag_id: str, run_id: str, contract: Path, receiver: Receiver) -> None:
    """The stack's Prometheus watched the release: every criterion measured, coverage 100 %,
    the test alert through the stack's Alertmanager to the Slack receiver."""
    logs = task_logs(api.call, dag_id, run_id)
    network = f"registered with Prometheus on {OBSERVABILITY_NETWORK}"
    assert network in logs[DEPLOY_TASK], logs[DEPLOY_TASK][-3000:]
    everything = "\n".join(logs.values())
    records = [m.groupdict() for m in EVIDENCE_RECORD.finditer(everything)]
    failed = [r["criterion"] for r in records if r["status"] == "failed"]
    assert not failed, failed
    parsed = load_handoff(contract).contract
    assert parsed is not None
    names = {c.name for c in parsed.acceptance_criteria}
    judged = [r for r in records if r["criterion"] in names]
    unverified = sorted({r["criterion"] for r in judged if r["status"] == "not verified"})
    assert {r["criterion"] for r in judged} == names and not unverified, unverified
    coverage = re.search(r"monitoring: coverage (\d+)% of the critical metrics", everything)
    assert coverage and coverage.group(1) == "100", coverage
    alerts = alertmanager_messages(receiver.inbox)
    assert any(m.alertname == TEST_ALERT and m.handoff == HANDOFF_ID for m in alerts), alerts
    say(f"{len(names)} of {len(names)} criteria measured by the stack's Prometheus, coverage "
        f"100 %; the test alert reached Slack through its Alertmanager")  # fmt: skip


def check_outcome(receiver: Receiver, engine: BlueGreenEngine) -> None:
    """The communication plan reached Slack and 1.1.0 serves users on green."""
    # The handoff's own messages have blocks; Alertmanager's (the test alert) attachments.
    events = [event_of(body) for body in receiver.inbox.bodies if body.get("blocks")]
    assert events == SUCCESS_EVENTS, events
    live = engine.status().live
    assert live is not None and live.colour is Colour.GREEN and live.release == V2, live
    say(f"Slack got {len(events)} messages in plan order; {V2} live on green")


def tear_down(stack: Stack, contract: Path, failed: bool) -> bool:
    """Take the stack down with its volumes and remove the service's containers and data;
    return whether the stack's observability network is gone too (nothing left behind)."""
    if failed:
        for service in ("airflow-init", "airflow-worker", "airflow-scheduler", "demo"):
            print(f"---- {service} (last lines)\n{stack.logs(service, tail=40)}", flush=True)
    # The service's router is attached to the stack's observability network: it goes first,
    # or the stack's down cannot remove that network.
    try:
        engine_of(contract).teardown(remove_data=True, force=True)
    except Exception as error:  # report it; the stack's own removal below still runs
        say(f"could not remove the service's containers: {error}")
    say("taking the stack down (volumes removed)")
    done = stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False)
    if done.returncode != 0 or "error while removing" in done.stderr:
        print(done.stdout, done.stderr, file=sys.stderr, flush=True)
    left = subprocess.run(
        ["docker", "network", "inspect", OBSERVABILITY_NETWORK], capture_output=True, timeout=60
    )
    if left.returncode == 0:
        say(f"FAILED: the network {OBSERVABILITY_NETWORK} is still there after the stack's down")
    return left.returncode != 0


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception so the stack still goes down."""
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_signal)
    started = time.monotonic()
    deadline = Deadline(BUDGET_S)
    workdir = Path(tempfile.mkdtemp(prefix="handoff-compose-test-"))
    failed = True
    # On Docker's default bridge gateway: the workers (host network) post there, and so does
    # the stack's Alertmanager (host.docker.internal), which the loopback would not reach.
    with slack_receiver(host=default_bridge_gateway()) as receiver:
        contract, service = write_handoff(workdir)
        webhook = f"{receiver.url}/{WEBHOOK_PATH}"
        settings = stack_settings(contract.parent, webhook, OBSERVABILITY_NETWORK)
        settings["HANDOFF_DEMO_RELEASE"] = V1
        stack = Stack(PROJECT, workdir, settings)
        stack.write_files()
        api = Api(stack.api_url)
        dag_id = dag_id_for(HANDOFF_ID)
        say(f"handoff {HANDOFF_ID} (service {service}) in {contract.parent}")
        try:
            start(stack, api, deadline)
            up_s = time.monotonic() - started
            check_hardening(stack)
            run_id = rehearse(api, dag_id, deadline)
            check_celery_ran_it(stack, api, dag_id, run_id)
            check_preflight_log(api, dag_id, run_id)
            check_observed(api, dag_id, run_id, contract, receiver)
            check_outcome(receiver, engine_of(contract))
            failed = False
            say(f"stack up in {up_s:.0f} s; rehearsal done {time.monotonic() - started:.0f} s in")
        except (AssertionError, TimeoutError, RuntimeError, requests.RequestException) as error:
            say(f"FAILED: {type(error).__name__}: {error}")
        finally:
            failed = not tear_down(stack, contract, failed) or failed
            shutil.rmtree(workdir, ignore_errors=True)
            outcome = "FAILED" if failed else "passed"
            say(f"{outcome} in {time.monotonic() - started:.0f} s (images built beforehand)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
