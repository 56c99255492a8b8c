"""Drill: the Docker daemon is restarted during a watch window; the window decides per policy.

The daemon is shared by everyone on this machine, so the drill restarts it once and watches
that one restart with two windows at the same time: one under policy `breach`, one under
policy `wait` (the default). Each is the real `WatchTrigger` run to its event as the
triggerer runs it, probing the real router's live listener, with the real daemon's socket as
its engine. A keep-alive load of reads and writes runs through the restart.

The project's engine runs with `live-restore` (containers keep running while dockerd is
away) and without the userland proxy (loopback-published ports are forwarded by netfilter
rules that outlive the daemon, not by docker-proxy processes that die with it), so the
service answers throughout. The windows ping the engine every round, so both still notice the
outage. What must hold: no request fails, no acknowledged write is lost, `breach` breaches
naming the engine, `wait` resumes once the engine answers again and completes, and the log
says which policy decided and why.

Set HANDOFF_DRILL_DOCKER_RESTART=1 to run it (`make drills` does); `make test` skips it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import docker
import pytest

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from handoff.bluegreen.loadgen import LoadGenerator, LoadSpec
from handoff.watch.evaluate import WatchThresholds
from handoff.watch.outage import EngineOutage, EngineOutagePolicy
from handoff.watch.trigger import WatchTrigger
from tests.drills.conftest import DrillRecorder, load_losses
from tests.drills.docker_daemon import NotOurDaemon, our_dockerd, restarted_daemon
from tests.support.demo import V1, ensure_demo_images, free_port

pytestmark = [
    pytest.mark.drill(name="Docker daemon restarted in a watch window", timeout_s=420),
    pytest.mark.skipif(
        os.environ.get("HANDOFF_DRILL_DOCKER_RESTART") != "1",
        reason="restarts the shared Docker daemon: set HANDOFF_DRILL_DOCKER_RESTART=1 "
        "(make drills does)",
    ),
]

DOCKER_URL = "unix:///var/run/docker.sock"
WINDOW_S = 120.0
OUTAGE_WAIT_S = 150.0


def fresh_client() -> docker.DockerClient:
    """Return a new client: a restart leaves pooled connections of the old daemon behind."""
    return docker.DockerClient(base_url=DOCKER_URL, version="auto")


@pytest.fixture
def live_service() -> Iterator[BlueGreenEngine]:
    """A service with 1.0.0 live on blue, torn down with a fresh client afterwards."""
    ensure_demo_images()
    service = f"dd-{uuid.uuid4().hex[:8]}"
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{service}-data", "/data"),),
        ready_deadline_s=30.0,
    )
    engine = BlueGreenEngine(config, client=fresh_client())
    try:
        engine.deploy(V1)
        engine.switch(V1)
        yield engine
    finally:
        BlueGreenEngine(config, client=fresh_client()).teardown(remove_data=True, force=True)


class Lines(logging.Handler):
    """Collects the trigger's log lines."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def window(engine: BlueGreenEngine, policy: EngineOutagePolicy) -> WatchTrigger:
    cfg = engine.config
    end = datetime.now(UTC) + timedelta(seconds=WINDOW_S)
    return WatchTrigger(
        window=f"validation ({policy.value})",
        base_url=f"http://{cfg.router_host}:{cfg.live_port}",
        end_at=end.isoformat(),
        probe_paths=["/api/status"],
        interval_s=0.5,
        thresholds=WatchThresholds(min_samples=20, max_health_failures=3).to_dict(),
        request_timeout_s=2.0,
        log_every=40,
        engine_outage=EngineOutage(DOCKER_URL, policy, OUTAGE_WAIT_S).to_dict(),
    )


def run_windows(triggers: list[WatchTrigger], events: dict[str, dict[str, Any]]) -> None:
    async def first_event(trigger: WatchTrigger) -> None:
        async for event in trigger.run():
            events[trigger.window] = dict(event.payload)
            return

    async def both() -> None:
        await asyncio.gather(*(first_event(t) for t in triggers))

    asyncio.run(both())


def test_docker_daemon_restart_in_a_watch_window(
    live_service: BlueGreenEngine, drill: DrillRecorder
) -> None:
    try:
        our_dockerd()
    except NotOurDaemon as exc:
        pytest.skip(f"not restarting a daemon we did not start: {exc}")
    engine = live_service
    cfg = engine.config
    lines = Lines()
    logger = logging.getLogger("handoff.watch.trigger")
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    triggers = [window(engine, p) for p in (EngineOutagePolicy.BREACH, EngineOutagePolicy.WAIT)]
    events: dict[str, dict[str, Any]] = {}
    watcher = threading.Thread(target=run_windows, args=(triggers, events), daemon=True)
    spec = LoadSpec(
        cfg.router_host,
        cfg.live_port,
        connections=4,
        duration_s=300.0,
        rate_per_s=50.0,
        timeout_s=3.0,
    )
    try:
        with LoadGenerator(spec) as load:
            watcher.start()
            time.sleep(5.0)
            with restarted_daemon() as restart:
                pass
            watcher.join(timeout=WINDOW_S + OUTAGE_WAIT_S)
            time.sleep(1.0)
    finally:
        logger.removeHandler(lines)
    assert load.report is not None
    assert not watcher.is_alive(), "a window never decided"
    engine = BlueGreenEngine(cfg, client=fresh_client())
    requests, failed, acknowledged, lost = load_losses(load.report, engine)
    state = engine.status()
    injected = (
        f"dockerd (pid {restart.old_pid}, args {' '.join(restart.args)}) stopped with SIGTERM, "
        f"exited after {restart.exited_s:.1f} s, started again as the script does (pid "
        f"{restart.new_pid}), answering {restart.answering_s:.1f} s after the stop"
    )
    outcome = (
        f"live {state.router.live.value if state.router.live else 'none'} in sync "
        f"{state.router.in_sync} afterwards; {requests} requests, {acknowledged} acknowledged "
        f"writes ({_why_requests_failed(restart.args)})"
    )
    for trigger in triggers:
        payload = events[trigger.window]
        mine = [ln for ln in lines.lines if ln.startswith(f"window {trigger.window}: ")]
        said = [ln.split(": ", 1)[1] for ln in mine if "policy" in ln or "recovered" in ln]
        summary = payload["summary"]
        decided = payload.get("reason") or (
            f"{summary['samples']} probes counted, {summary['errors']} errors"
        )
        drill.record(
            injected=f"{injected}; watched under policy {trigger.window.split('(')[1][:-1]}",
            observed=(
                f"log: {' / '.join(said)}; decision: {payload['status']}: {decided}; {outcome}"
            ),
            requests_failed=failed,
            data_lost=lost,
        )
    breach = events["validation (breach)"]
    wait = events["validation (wait)"]
    assert breach["status"] == "breach" and breach["breach"]["kind"] == "engine_outage"
    assert "policy 'breach'" in breach["reason"]
    assert wait["status"] == "completed", wait.get("reason")
    assert any("recovered" in ln and "validation (wait)" in ln for ln in lines.lines), lines.lines
    assert state.router.live is not None and state.router.in_sync
    assert lost == 0
    if {"--live-restore", "--userland-proxy=false"} <= set(restart.args):
        # Nothing on the request path depends on the daemon (the fallback without netfilter
        # keeps docker-proxy, whose restart drops connections: there only data is asserted).
        assert failed == 0, f"{failed} of {requests} requests failed"


def _why_requests_failed(dockerd_args: tuple[str, ...]) -> str:
    """Say what the daemon's settings mean for requests during its restart, for the table."""
    if "--live-restore" not in dockerd_args:
        return "requests fail while the daemon has stopped every container: no live-restore"
    if "--userland-proxy=false" not in dockerd_args:
        return (
            "live-restore keeps the containers running; requests fail while the loopback "
            "port proxies (docker-proxy, children of the daemon) are down with it"
        )
    return (
        "live-restore keeps the containers running and netfilter, not docker-proxy, forwards "
        "the loopback ports, so nothing on the request path stops with the daemon"
    )
