"""Switch and rollback under keep-alive load: no failed request, no lost acknowledged write."""

from __future__ import annotations

import time

import pytest

from handoff.bluegreen import BlueGreenEngine, ChangeOutcome, Colour
from handoff.bluegreen.loadgen import LoadGenerator, LoadReport, LoadSpec, stored_keys
from tests.integration.bluegreen.conftest import V2

pytestmark = pytest.mark.integration


def spec_for(engine: BlueGreenEngine) -> LoadSpec:
    """Return a bounded load on the live listener: reads and writes, keep-alive."""
    return LoadSpec(
        host=engine.config.router_host,
        port=engine.config.live_port,
        connections=16,
        duration_s=30.0,  # a bound, not the plan: the test stops the load much earlier
        max_requests=60_000,
        write_every=3,
    )


def load_around(engine: BlueGreenEngine, operation: str) -> tuple[LoadReport, float, Colour]:
    """Run the load for ~1 s before and ~1.5 s after a switch or rollback."""
    with LoadGenerator(spec_for(engine)) as load:
        time.sleep(1.0)
        requested = time.monotonic()
        result = engine.switch(V2) if operation == "switch" else engine.rollback()
        assert result.outcome is ChangeOutcome.CHANGED
        time.sleep(1.5)
    assert load.report is not None
    return load.report, requested, result.to_colour


def assert_no_loss(report: LoadReport, engine: BlueGreenEngine) -> None:
    assert report.requests > 500, f"load too small to prove anything: {report.requests}"
    assert not report.failures, (
        f"{len(report.failures)} of {report.requests} requests failed: {report.describe_failures()}"
    )
    acknowledged = set(report.acknowledged_writes)
    assert len(acknowledged) > 100
    missing = acknowledged - stored_keys(engine.config.router_host, engine.config.live_port)
    assert not missing, f"{len(missing)} acknowledged writes are not stored: {sorted(missing)[:5]}"


def test_switch_then_rollback_under_load_loses_nothing(
    live_blue_then_green_idle: BlueGreenEngine,
) -> None:
    engine = live_blue_then_green_idle

    report, requested, colour = load_around(engine, "switch")
    assert colour is Colour.GREEN
    assert_no_loss(report, engine)
    assert report.by_server.get("blue", 0) > 0 and report.by_server.get("green", 0) > 0
    switch_s = report.all_from_after("green", requested)
    assert switch_s is not None, "answers from blue kept coming after the switch"
    assert switch_s < 5.0

    report, requested, colour = load_around(engine, "rollback")
    assert colour is Colour.BLUE
    assert_no_loss(report, engine)
    rollback_s = report.all_from_after("blue", requested)
    assert rollback_s is not None, "answers from green kept coming after the rollback"
    assert rollback_s < 5.0

    state = engine.status()
    assert state.router.live is Colour.BLUE and state.router.in_sync
    # The rolled-back release stays warm (preview) until it is retired.
    assert state.router.preview is Colour.GREEN
    assert {c.colour for c in state.colours if c.running} == {Colour.BLUE, Colour.GREEN}


def test_operations_are_idempotent(live_blue_then_green_idle: BlueGreenEngine) -> None:
    engine = live_blue_then_green_idle
    again = engine.deploy(V2)
    assert again.outcome is ChangeOutcome.ALREADY_DONE and again.colour is Colour.GREEN

    assert engine.switch(V2).outcome is ChangeOutcome.CHANGED
    assert engine.switch(V2).outcome is ChangeOutcome.ALREADY_DONE
    assert engine.rollback().outcome is ChangeOutcome.CHANGED
    assert engine.rollback().outcome is ChangeOutcome.ALREADY_DONE

    retired = engine.retire_old()
    assert retired.outcome is ChangeOutcome.CHANGED and retired.retired_colour is Colour.GREEN
    assert engine.retire_old().outcome is ChangeOutcome.ALREADY_DONE
    state = engine.status()
    assert [c.colour for c in state.colours] == [Colour.BLUE]
    assert state.router.live is Colour.BLUE


def listen_overflows(engine: BlueGreenEngine, colour: Colour) -> int:
    """Return the kernel's accept-queue overflow count inside a colour's container."""
    container = engine.client.containers.get(engine.config.container_name(colour))
    code, out = container.exec_run(["cat", "/proc/net/netstat"])
    assert code == 0, out
    lines = out.decode().splitlines()
    for header, values in zip(lines[::2], lines[1::2], strict=False):
        if header.startswith("TcpExt:"):
            row = dict(zip(header.split()[1:], values.split()[1:], strict=True))
            return int(row["ListenOverflows"])
    raise AssertionError(f"no TcpExt line in /proc/net/netstat of {container.name}")


def test_a_switch_under_64_connections_moves_them_without_a_stall(
    live_blue_then_green_idle: BlueGreenEngine,
) -> None:
    """64 unthrottled keep-alive sessions move at once: no handshake dropped, no stall.

    Each client session needs its own connection to the new colour at the router step. With
    socketserver's listen backlog of 5 the new colour's accept queue overflowed and the
    dropped handshakes came back after TCP's retransmission backoff: requests of 1-15 s.
    """
    engine = live_blue_then_green_idle
    before = {c: listen_overflows(engine, c) for c in Colour}
    spec = LoadSpec(
        host=engine.config.router_host,
        port=engine.config.live_port,
        connections=64,
        duration_s=30.0,
        max_requests=200_000,
        write_every=4,
    )
    windows = []
    with LoadGenerator(spec) as load:
        time.sleep(1.5)  # the 64 connections are open and warm before the first step
        for operation in ("switch", "rollback", "switch", "rollback"):
            started = time.monotonic()
            result = engine.switch(V2) if operation == "switch" else engine.rollback()
            assert result.outcome is ChangeOutcome.CHANGED
            windows.append((started, time.monotonic()))
            time.sleep(0.5)
    report = load.report
    assert report is not None
    assert_no_loss(report, engine)
    overflows = {c.value: listen_overflows(engine, c) - before[c] for c in Colour}
    assert overflows == {"blue": 0, "green": 0}, f"accept queues overflowed: {overflows}"
    slowest = max(report.slowest_between(start, end) for start, end in windows)
    # The overflow count above is the exact check (a dropped handshake costs TCP's first
    # retransmission, 1 s, then 3 s, 7 s, 15 s); on the shared 2-core machine a loaded
    # scheduler alone gives some requests several hundred ms, so this bound catches the
    # backoff's second step and beyond (the benchmark measures the tail: make bench-switch).
    assert slowest < 2.0, f"a request took {slowest:.3f} s during a switch or a rollback"
