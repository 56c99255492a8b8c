"""Benchmark: the latency tail around the router step of a switch, with an independent client.

The project's load generator throttles and counts failures; this one looks at latency. A
small asyncio HTTP/1.1 client written here (raw sockets, no shared code with loadgen.py)
runs in its own process, unthrottled, against the live port, and records every request's
start and duration. Meanwhile this process drives the project's engine through SWITCHES
switches and as many rollbacks, noting when each router step ran. Printed per scenario
(16, 64, 256 keep-alive connections; a new connection per request):

- p50, p99, p99.9 and max of the steady state (before the first switch) and of the second
  around each router step, side by side, with failed requests (15 s client timeout);
- what the router and the colours counted meanwhile: HAProxy's connect retries,
  redispatches, connection errors and queue maximum on the live backend, and the kernel's
  accept-queue overflows (TcpExtListenOverflows) inside each colour and the router;
- acknowledged writes missing from the store at the end (1 request in 8 is a write).

Bounded (about a minute per scenario), loopback only, removes what it created. Needs
`make demo-images`. Options: --connections 16,64,256,new --ops 10 --steady 6 --json FILE;
--release-tags to run the same images under other tags (A/B runs without rebuilding the
shared ones).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import socket
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from handoff.bluegreen.config import Colour
from handoff.bluegreen.loadgen import stored_keys

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.benchmarks.postgres_store import (  # noqa: E402
    BenchDatabase,
    add_store_argument,
    tear_down,
)

V1, V2 = "handoff-demo:1.0.0", "handoff-demo:1.1.0"
CLIENT_TIMEOUT_S = 15.0
WRITE_EVERY = 8
WARMUP_S = 2.0
GAP_S = 1.2  # between operations: windows of one second around router steps never overlap
# The second around a router step: the runtime commands run at the end of the exec, so the
# window starts shortly before the exec returns and lasts one second.
WINDOW_BEFORE_S, WINDOW_AFTER_S = 0.25, 0.75


# -- the independent client (runs in a child process) -----------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


def _request(host: str, key: str | None, close: bool) -> bytes:
    conn = b"close" if close else b"keep-alive"
    if key is None:
        return b"GET /api/status HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n\r\n" % (
            host.encode(),
            conn,
        )
    body = json.dumps({"key": key}).encode()
    return (
        b"POST /api/records HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (host.encode(), conn, len(body), body)
    )


class _Recorder:
    def __init__(self) -> None:
        self.starts: list[float] = []
        self.durations: list[float] = []
        self.failed: list[float] = []  # starts of failed requests
        self.acked: list[str] = []
        self.writes: list[bool] = []  # per answered request: was it a write
        self.why: dict[str, int] = {}  # why requests failed
        self.count = 0

    def next_key(self, tag: str) -> str | None:
        self.count += 1
        write = WRITE_EVERY > 0 and self.count % WRITE_EVERY == 0
        return f"{tag}-{self.count}" if write else None


async def _worker(
    host: str, port: int, stop_at: float, new_conn: bool, rec: _Recorder, tag: str
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.monotonic() < stop_at:
        key = rec.next_key(tag)
        started = time.monotonic()
        try:
            async with asyncio.timeout(CLIENT_TIMEOUT_S):
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(_request(host, key, new_conn))
                status, _ = await _read_response(reader)
            ok = 200 <= status < 300
            why = f"HTTP {status}"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as e:
            ok, why = False, type(e).__name__
        duration = time.monotonic() - started
        if ok:
            rec.starts.append(started)
            rec.durations.append(duration)
            rec.writes.append(key is not None)
            if key is not None:
                rec.acked.append(key)
        else:
            rec.failed.append(started)
            rec.why[why] = rec.why.get(why, 0) + 1
        if new_conn or not ok:
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _client(
    host: str, port: int, connections: int, new_conn: bool, seconds: float
) -> _Recorder:
    rec = _Recorder()
    stop_at = time.monotonic() + seconds
    tag = uuid.uuid4().hex[:8]
    await asyncio.gather(
        *(_worker(host, port, stop_at, new_conn, rec, f"{tag}-{i}") for i in range(connections))
    )
    return rec


def _client_main(
    host: str, port: int, connections: int, new_conn: bool, seconds: float, out: Connection
) -> None:
    rec = asyncio.run(_client(host, port, connections, new_conn, seconds))
    out.send((rec.starts, rec.durations, rec.writes, rec.failed, rec.why, rec.acked))
    out.close()


# -- figures -----------------------------------------------------------------------------


def quantile(sorted_values: list[float], q: float) -> float:
    """Return the q-quantile (nearest rank) of sorted values; 0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, int(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class Figures:
    """Latency figures of a set of requests, in milliseconds."""

    requests: int
    failed: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @classmethod
    def of(cls, durations: list[float], failed: int) -> Figures:
        values = sorted(durations)
        return cls(
            len(values) + failed,
            failed,
            *(round(quantile(values, q) * 1000, 1) for q in (0.5, 0.99, 0.999, 1.0)),
        )


@dataclass
class Scenario:
    """One scenario's outcome."""

    name: str
    connections: int
    new_connection: bool
    rate_per_s: float
    steady: Figures
    around_step: Figures
    steady_reads: Figures
    around_step_reads: Figures
    failures: dict[str, int]
    slow_writes_over_1s: int
    overall: Figures
    switches: int
    rollbacks: int
    slowest_start_to_step_ms: float
    counters: dict[str, int]
    loadavg: str
    slow_over_1s: int
    acked_writes: int
    step_times: list[float] = field(default_factory=list)


# -- what the router and the kernel counted ----------------------------------------------


def _netstat(engine: BlueGreenEngine, name: str) -> dict[str, int]:
    container = engine.client.containers.get(name)
    code, out = container.exec_run(["cat", "/proc/net/netstat"])
    if code != 0:
        return {}
    lines = out.decode().splitlines()
    values: dict[str, int] = {}
    for header, row in zip(lines[::2], lines[1::2], strict=False):
        keys, nums = header.split()[1:], row.split()[1:]
        prefix = header.split(":")[0]
        for k, v in zip(keys, nums, strict=False):
            values[f"{prefix}{k}"] = int(v)
    return {k: values.get(k, 0) for k in ("TcpExtListenOverflows", "TcpExtListenDrops")}


def _haproxy(engine: BlueGreenEngine) -> dict[str, int]:
    text = engine.router.command("show stat")
    header: list[str] = []
    totals = {
        "wretr": 0,
        "wredis": 0,
        "econ": 0,
        "eresp": 0,
        "qmax": 0,
        "ctime_max": 0,
        "ttime_max": 0,
    }
    for line in text.splitlines():
        if line.startswith("# "):
            header = line[2:].split(",")
            continue
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") != "live" or row.get("svname") in ("FRONTEND", "BACKEND", None):
            continue
        for key in ("wretr", "wredis", "econ", "eresp"):
            totals[key] += int(row.get(key) or 0)
        totals["qmax"] = max(totals["qmax"], int(row.get("qmax") or 0))
        # HAProxy 2.6 keeps the maximum connect and total times since start (ms).
        for key in ("ctime_max", "ttime_max"):
            totals[key] = max(totals.get(key, 0), int(row.get(key) or 0))
    return totals


def counters(engine: BlueGreenEngine) -> dict[str, int]:
    """Return cumulative counters of the router (live backend) and the kernel per container."""
    cfg = engine.config
    found = {f"haproxy_{k}": v for k, v in _haproxy(engine).items()}
    names = [(c.value, cfg.container_name(c)) for c in Colour] + [("router", cfg.router_name)]
    for label, name in names:
        for key, value in _netstat(engine, name).items():
            found[f"{label}_{key.removeprefix('TcpExt')}"] = value
    return found


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Return counter increases (maxima stay as read after)."""
    return {k: (v if k.endswith("max") else v - before.get(k, 0)) for k, v in after.items()}


# -- a scenario --------------------------------------------------------------------------


def run_scenario(
    engine: BlueGreenEngine, connections: int, new_conn: bool, ops: int, steady_s: float
) -> tuple[Scenario, set[str]]:
    """Run the client through a steady window then ``ops`` switches and rollbacks."""
    cfg = engine.config
    # Bounded: the client stops by itself after the planned time plus a margin.
    planned = WARMUP_S + steady_s + 2 * ops * (GAP_S + 2.5) + 2.0
    parent, child = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(
        target=_client_main,
        args=(cfg.router_host, cfg.live_port, connections, new_conn, planned, child),
        daemon=True,
    )
    before = counters(engine)
    begun = time.monotonic()
    proc.start()
    time.sleep(WARMUP_S + steady_s)
    steady_end = time.monotonic()
    steps: list[float] = []
    real_converge = engine.router.converge

    def timed_converge(*args: Any, **kwargs: Any) -> Any:
        result = real_converge(*args, **kwargs)
        steps.append(time.monotonic())  # the runtime commands ran just before the exec returned
        return result

    engine.router.converge = timed_converge  # type: ignore[method-assign]
    switches = rollbacks = 0
    try:
        for _ in range(ops):
            engine.switch(V2)
            switches += 1
            time.sleep(GAP_S)
            engine.rollback()
            rollbacks += 1
            time.sleep(GAP_S)
    finally:
        engine.router.converge = real_converge  # type: ignore[method-assign]
    after = counters(engine)
    starts, durations, writes, failed, why, acked = parent.recv()
    proc.join(CLIENT_TIMEOUT_S + 5)
    ran = time.monotonic() - begun
    steady_from = begun + WARMUP_S
    steady = [d for s, d in zip(starts, durations, strict=True) if steady_from <= s < steady_end]
    steady_reads = [
        d
        for s, d, w in zip(starts, durations, writes, strict=True)
        if steady_from <= s < steady_end and not w
    ]
    steady_failed = sum(1 for s in failed if steady_from <= s < steady_end)

    def near_step(start: float) -> float | None:
        for step in steps:
            if step - WINDOW_BEFORE_S <= start < step + WINDOW_AFTER_S:
                return start - step
        return None

    around: list[float] = []
    around_reads: list[float] = []
    slowest = (0.0, 0.0)
    for s, d, w in zip(starts, durations, writes, strict=True):
        offset = near_step(s)
        if offset is not None:
            around.append(d)
            if not w:
                around_reads.append(d)
            if d > slowest[0]:
                slowest = (d, offset)
    around_failed = sum(1 for s in failed if near_step(s) is not None)
    scenario = Scenario(
        name="new connection per request" if new_conn else f"{connections} keep-alive",
        connections=connections,
        new_connection=new_conn,
        rate_per_s=round(len(starts) / ran, 0),
        steady=Figures.of(steady, steady_failed),
        around_step=Figures.of(around, around_failed),
        steady_reads=Figures.of(steady_reads, 0),
        around_step_reads=Figures.of(around_reads, 0),
        failures=why,
        slow_writes_over_1s=sum(1 for d, w in zip(durations, writes, strict=True) if w and d > 1),
        overall=Figures.of(
            [d for s, d in zip(starts, durations, strict=True) if s >= steady_from], len(failed)
        ),
        switches=switches,
        rollbacks=rollbacks,
        slowest_start_to_step_ms=round(slowest[1] * 1000, 1),
        counters=delta(after, before),
        loadavg=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        slow_over_1s=sum(1 for d in durations if d > 1.0),
        acked_writes=len(acked),
        step_times=[round(s - begun, 3) for s in steps],
    )
    return scenario, set(acked)


def print_scenario(sc: Scenario) -> None:
    """Print one scenario's table."""
    print(
        f"\n== {sc.name}: {sc.rate_per_s:.0f} req/s, {sc.switches} switches + {sc.rollbacks}"
        f" rollbacks, load average {sc.loadavg}"
    )
    print(
        f"   {'':14s} {'requests':>9s} {'failed':>7s} {'p50':>8s} {'p99':>8s}"
        f" {'p99.9':>8s} {'max':>9s}"
    )
    for label, f in (
        ("steady", sc.steady),
        ("around step", sc.around_step),
        ("steady, reads", sc.steady_reads),
        ("step, reads", sc.around_step_reads),
        ("whole run", sc.overall),
    ):
        print(
            f"   {label:14s} {f.requests:9d} {f.failed:7d} {f.p50_ms:6.1f}ms {f.p99_ms:6.1f}ms"
            f" {f.p999_ms:6.1f}ms {f.max_ms:7.1f}ms"
        )
    ratio = sc.around_step.p999_ms / sc.steady.p999_ms if sc.steady.p999_ms else float("inf")
    print(
        f"   around-step p99.9 / steady p99.9 = {ratio:.2f}; requests over 1 s: {sc.slow_over_1s};"
        f" (writes {sc.slow_writes_over_1s}); slowest near a step started"
        f" {sc.slowest_start_to_step_ms:+.0f} ms from it; failures: {sc.failures or 'none'}"
    )
    print("   counters: " + ", ".join(f"{k}={v}" for k, v in sorted(sc.counters.items())))


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    """Run the scenarios and print their figures."""
    global V1, V2, WRITE_EVERY
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", default="16,64,256,new")
    parser.add_argument("--ops", type=int, default=10, help="switches (and as many rollbacks)")
    parser.add_argument("--steady", type=float, default=6.0, help="steady seconds before")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--write-every", type=int, default=WRITE_EVERY, help="0: reads only")
    parser.add_argument("--router-image", default="handoff-router:latest")
    parser.add_argument("--releases", default=f"{V1},{V2}", help="two release images")
    add_store_argument(parser)
    args = parser.parse_args()
    V1, V2 = args.releases.split(",")
    WRITE_EVERY = args.write_every  # the client is forked: it sees the value set here
    logging.basicConfig(level=logging.WARNING)
    service = f"bench-sw-{uuid.uuid4().hex[:6]}"
    database = BenchDatabase(service) if args.store == "postgres" else None
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        router_image=args.router_image,
        volumes=(VolumeMount(f"{service}-data", "/data"),),
    )
    if database is not None:
        config = database.configure(config)
    engine = BlueGreenEngine(config)
    results: list[Scenario] = []
    acked: set[str] = set()
    missing: set[str] = set()
    try:
        if database is not None:
            database.start(engine, (V1, V2))
        engine.deploy(V1)
        engine.switch(V1)
        engine.deploy(V2)
        print(
            f"switch-latency benchmark on {service}: {V1} in blue, {V2} in green, router "
            f"{args.router_image}, store {args.store}; {os.cpu_count()} cores, load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        for item in args.connections.split(","):
            new_conn = item == "new"
            connections = 64 if new_conn else int(item)
            scenario, keys = run_scenario(engine, connections, new_conn, args.ops, args.steady)
            results.append(scenario)
            acked |= keys
            print_scenario(scenario)
        stored = stored_keys(config.router_host, config.live_port)
        missing = acked - stored
    finally:
        tear_down(engine, database)
    print(f"\nacknowledged writes: {len(acked)}, lost (missing from the store): {len(missing)}")
    if args.json:
        with Path(args.json).open("w", encoding="utf-8") as out:
            json.dump(
                {
                    "store": args.store,
                    "scenarios": [asdict(s) for s in results],
                    "acked": len(acked),
                    "lost": len(missing),
                },
                out,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
