"""Benchmark: blue-green switch and rollback under the highest steady load this machine takes.

Prints, for each switch (blue -> green) and rollback (green -> blue):
- call time: from the call to its return (lock, discovery, router change persisted and
  applied, verification through the live listener, lock release: all included);
- user-visible time: from the call until every later answer came from the target colour;
- requests and failures while the operation ran, and over the whole loaded window;
and at the end whether every acknowledged write is stored. Targets: 0 failures, rollback
under 2 s. Bounded: a short calibration, then a fixed number of rounds; it stops by itself
and removes everything it created. Needs `make demo-images` (make bench-bluegreen runs it).
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, SwitchResult, VolumeMount
from handoff.bluegreen.loadgen import LoadGenerator, LoadReport, LoadSpec, stored_keys

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.benchmarks.postgres_store import (  # noqa: E402
    BenchDatabase,
    add_store_argument,
    tear_down,
)

V1, V2 = "handoff-demo:1.0.0", "handoff-demo:1.1.0"
ROUNDS = 3
CALIBRATION_S = 2.5
CONNECTIONS = (8, 16, 32, 64)
STEADY_FRACTION = 0.85  # of the best unthrottled rate: steady, not saturated
BEFORE_S, AFTER_S = 1.0, 1.5


@dataclass(frozen=True)
class Measure:
    """One operation under load."""

    op: str
    call_s: float
    router_s: float
    visible_s: float | None
    during_requests: int
    during_failures: int
    window_requests: int
    window_failures: int


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def calibrate(config: BlueGreenConfig) -> tuple[int, float]:
    """Return the connection count with the best unthrottled rate, and that rate."""
    best = (CONNECTIONS[0], 0.0)
    for connections in CONNECTIONS:
        spec = LoadSpec(
            config.router_host, config.live_port, connections=connections, duration_s=CALIBRATION_S
        )
        report = LoadGenerator(spec)
        report.start()
        result = report.wait()
        print(
            f"  calibration: {connections:3d} keep-alive connections -> {result.rate:7.0f} req/s, "
            f"{len(result.failures)} failures"
        )
        if result.rate > best[1] and not result.failures:
            best = (connections, result.rate)
    return best


def under_load(engine: BlueGreenEngine, spec: LoadSpec, op: str) -> tuple[Measure, LoadReport]:
    """Run one switch or rollback inside a loaded window and measure it."""
    with LoadGenerator(spec) as load:
        time.sleep(BEFORE_S)
        requested = time.monotonic()
        result: SwitchResult = engine.switch(V2) if op == "switch" else engine.rollback()
        done = time.monotonic()
        time.sleep(AFTER_S)
    report = load.report
    assert report is not None
    during = report.between(requested, done)
    measure = Measure(
        op=op,
        call_s=done - requested,
        router_s=result.router_seconds,
        visible_s=report.all_from_after(result.to_colour.value, requested),
        during_requests=len(during),
        during_failures=sum(1 for s in during if not s.ok),
        window_requests=report.requests,
        window_failures=len(report.failures),
    )
    return measure, report


def summary(label: str, values: list[float]) -> str:
    """Return median and max of a list of seconds."""
    return f"{label}: median {statistics.median(values):.3f} s, max {max(values):.3f} s"


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_store_argument(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    service = f"bench-{uuid.uuid4().hex[:6]}"
    database = BenchDatabase(service) if args.store == "postgres" else None
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{service}-data", "/data"),),
    )
    if database is not None:
        config = database.configure(config)
    engine = BlueGreenEngine(config)
    measures: list[Measure] = []
    acknowledged: set[str] = set()
    try:
        if database is not None:
            database.start(engine, (V1, V2))
        engine.deploy(V1)
        engine.switch(V1)
        engine.deploy(V2)
        print(
            f"blue-green benchmark on service {service} ({V1} in blue, {V2} in green), "
            f"store {args.store}"
        )
        connections, best = calibrate(config)
        rate = best * STEADY_FRACTION
        started = time.monotonic()  # the rounds' writes are counted, not the calibration's
        print(
            f"  steady load: {rate:.0f} req/s on {connections} keep-alive connections,"
            " 1 request in 4 a write"
        )
        spec = LoadSpec(
            config.router_host,
            config.live_port,
            connections=connections,
            duration_s=BEFORE_S + AFTER_S + 20.0,
            rate_per_s=rate,
        )
        for _ in range(ROUNDS):
            for op in ("switch", "rollback"):
                measure, report = under_load(engine, spec, op)
                measures.append(measure)
                acknowledged.update(report.acknowledged_writes)
                visible = f"{measure.visible_s:.3f}" if measure.visible_s is not None else "never"
                print(
                    f"  {op:8s}: call {measure.call_s:.3f} s (router step {measure.router_s:.3f}"
                    f" s), 100% from target after {visible} s; during: "
                    f"{measure.during_failures}/{measure.during_requests} failed; window: "
                    f"{measure.window_failures}/{measure.window_requests} failed"
                )
        stored = stored_keys(config.router_host, config.live_port)
        missing = acknowledged - stored
        loaded_s = time.monotonic() - started
    finally:
        tear_down(engine, database)
    for op in ("switch", "rollback"):
        ops = [m for m in measures if m.op == op]
        print(summary(f"{op} call time", [m.call_s for m in ops]))
        visible = [m.visible_s for m in ops if m.visible_s is not None]
        if visible:
            print(summary(f"{op} time to 100% answers from target", visible))
        failures = sum(m.window_failures for m in ops)
        requests = sum(m.window_requests for m in ops)
        print(f"{op} requests: {requests}, failures: {failures}")
    print(
        f"acknowledged writes: {len(acknowledged)} ({len(acknowledged) / loaded_s:.0f}/s over "
        f"{loaded_s:.0f} s of rounds), missing afterwards: {len(missing)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
