"""Preflight's Dependencies on the real engine: each passes, each fail stops with nothing deployed.

One service, blue live with 1.0.0 (the state a handoff starts from). Preflight runs three
times against it, each time from its own copy of the seed handoff: everything holding
(certificate valid past the monitoring window, connections answering, a third party reached
from inside the service network, memory to spare), then two sets of failures: an expired
certificate, a connection nobody defined, a third party that refuses, too little memory;
and a certificate that expires inside the 72 h window and names another host. Each failed
preflight names every reason, leaves no colour but blue and no probe container, and the
escalation it triggers (the task's failure callback) carries the reasons to Slack.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docker
import pytest
from airflow.sdk.exceptions import AirflowFailException

from handoff.bluegreen import BlueGreenEngine, Colour
from handoff.catalog import Handoff, load_handoff
from handoff.checks.http import exchange
from handoff.demo_ca import Issued, make_ca, make_server, write_material
from handoff.evidence import Evidence, EvidenceStore, run_dir
from handoff.render.dag import build_dag
from handoff.tasks import notify, steps
from handoff.tasks.context import live_client
from handoff.watch.evaluate import Verdict
from handoff.watch.operator import WatchWindowOperator
from handoff.watch.trigger import WatchTrigger
from tests.support.demo import V1, ensure_demo_images, free_port, put_v1_live
from tests.support.fake_target import FakeTI, running_task
from tests.support.handoffs import make_handoffs
from tests.support.slack_receiver import Receiver, conn_json, slack_receiver

pytestmark = pytest.mark.integration

HANDOFF_ID = "PROD-DEPLOYMENT-001"
DOMAIN = "ux-portal.demo.test"
SEED_DEPENDENCIES = """    access:
      connections: []
"""


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with slack_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HANDOFF_SLACK", conn_json(receiver.url))
        yield receiver


# One CA for every certificate: the router keeps serving the good one (a file that changes is
# only installed by a renewal), and live's probes trust the CA each copy names.
CA: Issued = make_ca()


def _certificate(folder: Path, names: list[str], start: timedelta, end: timedelta) -> str:
    """Write the CA and a certificate valid from now+start to now+end; return router.tls."""
    ca = CA
    now = datetime.now(UTC)
    paths = write_material(folder, ca, make_server(ca, names, now + start, now + end))
    return (
        "  tls:\n"
        f"    ca_file: {paths['ca']}\n    cert_file: {paths['cert']}\n"
        f"    key_file: {paths['key']}\n"
    )


def _handoff(
    root: Path, service: str, ports: tuple[int, int], tls: str, dependencies: str,
    headroom_mb: int = 256,
) -> str:  # fmt: skip
    """Write the seed handoff for ``service`` with its own router.tls and dependencies."""
    folder = make_handoffs(
        root,
        [HANDOFF_ID],
        sidecar_edits={
            "name: ux-portal": f"name: {service}",
            "ux-portal-data": f"{service}-data",
            SEED_DEPENDENCIES: dependencies,
            "memory_headroom_mb: 256": f"memory_headroom_mb: {headroom_mb}",
        },
        environment_edits={
            "live_port: 18080": f"live_port: {ports[0]}",
            "preview_port: 18081": f"preview_port: {ports[1]}\n{tls}",
            "report_dir: reports": f"report_dir: {root}/reports",
        },
        accepted_now=True,
    )
    return str(folder / f"{HANDOFF_ID}.md")


def _dependencies(connections: str, third_party_url: str) -> str:
    return f"""    access:
      connections: {connections}
    tls:
      domain: {DOMAIN}
      margin: 1 day
    third_parties:
      - name: inventory
        url: "{third_party_url}"
        timeout: 3s
"""


def _preflight(contract: str, root: Path) -> tuple[str, dict[str, list[Evidence]]]:
    """Run preflight; on failure run its escalation callback too. Return error, records."""
    ti = FakeTI(task_id="preflight", run_id=f"manual__{uuid.uuid4().hex[:6]}")
    error = ""
    with running_task(ti) as running:
        try:
            steps.preflight(contract)
        except AirflowFailException as e:
            error = str(e)
            context: dict[str, Any] = {"ti": running, "exception": e, "params": {}}
            notify.escalate(contract, context)
    store = EvidenceStore(run_dir(root / "reports", ti.dag_id, ti.run_id))
    by_item: dict[str, list[Evidence]] = {}
    for record in store.read_all():
        if record.group == "Dependencies":
            by_item.setdefault(record.criterion, []).append(record)
    return error, by_item


def _https_on_live(handoff: Handoff) -> None:
    """The router terminates TLS from the environment's files; every live client verifies."""
    assert handoff.environment is not None
    router = handoff.environment.router
    trusted = live_client(handoff)
    assert trusted is not None and trusted[0] == DOMAIN
    assert exchange(router.host, router.live_port, "/health", tls=trusted).status == 200
    plain = exchange(router.host, router.live_port, "/health")
    assert plain.status != 200, plain  # live speaks TLS only
    # A watch window of the handoff's DAG, as rendered: its trigger's httpx client sends the
    # domain as SNI and checks the name against the CA alone.
    watch = build_dag(handoff, register=False).get_task("all_clear.watch")
    assert isinstance(watch, WatchWindowOperator) and watch.tls is not None
    assert watch.base_url == f"https://{router.host}:{router.live_port}"
    trigger = WatchTrigger(
        window="all-clear",
        base_url=watch.base_url,
        end_at=(datetime.now(UTC) + timedelta(seconds=1.5)).isoformat(),
        interval_s=0.25,
        tls_domain=watch.tls["domain"],
        tls_ca_file=watch.tls["ca_file"],
    )

    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    (event,) = asyncio.run(asyncio.wait_for(collect(), timeout=30))
    verdict = Verdict.from_event(event.payload)
    assert event.payload["status"] == "completed", event.payload
    assert verdict.summary.samples >= 3 and verdict.summary.errors == 0


def _nothing_deployed(engine: BlueGreenEngine, client: docker.DockerClient) -> None:
    state = engine.status()
    assert [c.colour for c in state.colours] == [Colour.BLUE] and state.live is not None
    assert (state.live.colour, state.live.release) == (Colour.BLUE, V1)
    probes = client.containers.list(all=True, filters={"name": engine.config.service})
    names = sorted(str(c.name) for c in probes)
    assert names == [f"{engine.config.service}-blue", f"{engine.config.service}-router"], names


def test_each_dependency_passes_then_each_fail_stops_preflight_with_nothing_deployed(
    tmp_path: Path, slack: Receiver
) -> None:
    ensure_demo_images()
    service = f"pd-{uuid.uuid4().hex[:6]}"
    ports = (free_port(), free_port())
    blue = f"http://{service}-blue:8000"
    good_tls = _certificate(
        tmp_path / "tls-good", [DOMAIN], -timedelta(hours=1), timedelta(days=90)
    )
    passing = _handoff(
        tmp_path / "pass", service, ports, good_tls, _dependencies("[]", f"{blue}/health")
    )
    engine = put_v1_live(load_handoff(Path(passing)))
    client = engine.client
    try:
        error, items = _preflight(passing, tmp_path / "pass")
        assert error == ""
        status = {name: [r.status.value for r in found] for name, found in items.items()}
        assert status == {
            "Infrastructure": ["passed", "passed"],  # memory and disk, engine version
            "Access Control": ["passed"],
            "Domain/SSL": ["passed"],
            "Third-party Services": ["passed"],
        }, status
        (inventory,) = items["Third-party Services"]
        assert inventory.measured["network"] == f"{service}-net"
        assert 0 < inventory.measured["latency_ms"] < 3000
        _nothing_deployed(engine, client)
        slack.inbox.bodies.clear()
        _https_on_live(load_handoff(Path(passing)))

        # An expired certificate, a missing connection, a refusing third party, no memory.
        expired = _certificate(
            tmp_path / "tls-old", [DOMAIN], -timedelta(days=30), -timedelta(days=1)
        )
        failing = _handoff(
            tmp_path / "fail1", service, ports, expired,
            _dependencies("[handoff_registry]", f"http://{service}-blue:9/"), 100_000_000,
        )  # fmt: skip
        error, items = _preflight(failing, tmp_path / "fail1")
        assert "dependencies (nothing was deployed) failed" in error
        assert "certificate for ux-portal.demo.test: expired on" in error
        assert "handoff_registry: missing" in error
        assert "third party inventory: unreachable (ConnectionRefusedError" in error
        assert "capacity: memory:" in error and "needed" in error
        failed = {
            name for name, found in items.items() if any(r.status.value == "failed" for r in found)
        }
        assert failed == {
            "Infrastructure", "Access Control", "Domain/SSL", "Third-party Services"
        }  # fmt: skip
        _nothing_deployed(engine, client)
        (escalation,) = [b for b in slack.inbox.bodies if "escalation" in json.dumps(b)]
        text = json.dumps(escalation)
        assert "preflight" in text and "handoff_registry: missing" in text
        slack.inbox.bodies.clear()

        # Valid today, but it expires inside the 72 h monitoring window, for another host.
        short = _certificate(
            tmp_path / "tls-short", ["other.demo.test"], -timedelta(hours=1), timedelta(days=2)
        )
        failing = _handoff(
            tmp_path / "fail2", service, ports, short,
            _dependencies("[]", f"{blue}/health"),
        )  # fmt: skip
        error, items = _preflight(failing, tmp_path / "fail2")
        (certificate,) = items["Domain/SSL"]
        assert certificate.status.value == "failed"
        assert "inside the window that must be covered until" in certificate.summary
        assert f"does not name {DOMAIN} (names: other.demo.test)" in certificate.summary
        assert [r.status.value for r in items["Third-party Services"]] == ["passed"]
        assert "certificate for ux-portal.demo.test: expires on" in error
        _nothing_deployed(engine, client)
        assert any("expires on" in json.dumps(b) for b in slack.inbox.bodies)
    finally:
        engine.teardown(remove_data=True, force=True)
