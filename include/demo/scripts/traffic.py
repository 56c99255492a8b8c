#!/usr/bin/env python3
"""A bounded population of simulated users of the demo service, on loopback only.

Each user is a thread with its own keep-alive connection that walks the demo's journeys with
a think time between steps: the dashboard, the status page, the optimiser, a write and the
list of records, the account page (with the right token, or now and then a wrong one), and
now and then a path that does not exist. So Prometheus sees real traffic on every path the
service counts, its feature counters, its authentication failures and its refusals.

Bounded three ways, and it stops by itself at the first bound reached: ``--users`` (at most
200), ``--duration`` (at most 600 s) and ``--max-requests`` (at most 1,000,000). The target
must be a loopback address. At the end it prints what it did: requests by path and status,
failures, latency percentiles, the rate.

    python include/demo/scripts/traffic.py --port 18080 --users 20 --duration 30
    python include/demo/scripts/traffic.py --port 18080 --token-file ~/.demo-token --json

Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MAX_USERS = 200
MAX_DURATION_S = 600.0
MAX_REQUESTS = 1_000_000


@dataclass(frozen=True)
class Population:
    """Who the simulated users are and how long they stay.

    Parameters: ``host``/``port`` of the router's listener (loopback only); ``users``
    concurrent users; ``duration_s`` and ``max_requests`` bound the run; ``think_s`` is the
    range of pauses between steps; ``token`` is the account page's bearer token (None: the
    account page is visited without credentials); ``wrong_token_share`` and
    ``unknown_path_share`` are the fractions of journeys with a wrong token and with a path
    that does not exist; ``seed`` makes the journeys repeatable.
    """

    host: str = "127.0.0.1"
    port: int = 18080
    users: int = 10
    duration_s: float = 10.0
    max_requests: int = 100_000
    think_s: tuple[float, float] = (0.02, 0.2)
    token: str | None = None
    wrong_token_share: float = 0.1
    unknown_path_share: float = 0.05
    timeout_s: float = 5.0
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.users <= MAX_USERS:
            problems.append(f"users must be 1..{MAX_USERS}, not {self.users}")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            problems.append(f"duration must be in (0, {MAX_DURATION_S:g}] s, not {self.duration_s}")
        if not 1 <= self.max_requests <= MAX_REQUESTS:
            problems.append(f"max requests must be 1..{MAX_REQUESTS}, not {self.max_requests}")
        if not 0 <= self.think_s[0] <= self.think_s[1] <= 10:
            problems.append(f"think time {self.think_s} must be a range within 0..10 s")
        if problems:
            raise ValueError("traffic: " + "; ".join(problems))
        require_loopback(self.host)


def require_loopback(host: str) -> None:
    """Raise ValueError unless every address the host name resolves to is a loopback one."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValueError(f"traffic: cannot resolve {host!r}: {exc}") from exc
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    if not addresses or not all(a.is_loopback for a in addresses):
        raise ValueError(
            f"traffic: {host!r} resolves to {sorted(map(str, addresses))}; the traffic "
            "generator only sends to loopback addresses (127.0.0.0/8, ::1)"
        )


@dataclass
class Tally:
    """What the users did, added up under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_step: Counter[str] = field(default_factory=Counter)  # "GET /path 200" -> count
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    failures: int = 0  # no answer at all (connection refused, reset, timeout)

    def add(self, step: str, status: str, seconds: float) -> None:
        with self.lock:
            self.requests += 1
            self.by_step[f"{step} {status}"] += 1
            self.latencies.append(seconds)
            if status == "no answer":
                self.failures += 1


@dataclass(frozen=True)
class Summary:
    """The run's figures, as printed."""

    users: int
    seconds: float
    requests: int
    failures: int
    by_path_status: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests_per_s: float
    stopped_by: str

    def lines(self) -> list[str]:
        """Return the summary as a person reads it."""
        out = [
            f"traffic: {self.users} users, {self.requests} requests in {self.seconds:.1f}s "
            f"({self.requests_per_s:.1f}/s), {self.failures} without an answer; stopped by "
            f"{self.stopped_by}",
            f"traffic: latency p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms",
        ]
        out += [f"traffic:   {key:32} {n}" for key, n in sorted(self.by_path_status.items())]
        return out


class User(threading.Thread):
    """One simulated user: journeys on one keep-alive connection until the run ends."""

    def __init__(self, n: int, population: Population, tally: Tally, stop: threading.Event) -> None:
        super().__init__(name=f"traffic-user-{n}", daemon=True)
        self.population, self.tally, self.stop = population, tally, stop
        seed = None if population.seed is None else population.seed * 1000 + n
        self.random = random.Random(seed)
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for method, path, body, headers in self.journey():
                    if self.stop.is_set() or not self.request(method, path, body, headers):
                        break
                    self.stop.wait(self.random.uniform(*self.population.think_s))
        finally:
            if self.conn is not None:
                self.conn.close()

    def journey(self) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
        """Return one visit: the steps a user of the demo takes."""
        p, r = self.population, self.random
        steps: list[tuple[str, str, bytes | None, dict[str, str]]] = [
            ("GET", "/", None, {}),
            ("GET", "/api/status", None, {}),
            ("GET", f"/api/optimize?budget={r.randint(1, 10_000)}", None, {}),
        ]
        if r.random() < 0.5:
            body = json.dumps({"key": f"traffic-{uuid.uuid4().hex}"}).encode()
            steps.append(("POST", "/api/records", body, {"Content-Type": "application/json"}))
            steps.append(("GET", "/api/records?limit=10", None, {}))
        if p.token is not None:
            wrong = r.random() < p.wrong_token_share
            token = f"wrong-{r.randint(0, 10**9)}" if wrong else p.token
            steps.append(("GET", "/api/account", None, {"Authorization": f"Bearer {token}"}))
        else:
            steps.append(("GET", "/api/account", None, {}))
        if r.random() < p.unknown_path_share:
            steps.append(("GET", f"/no-such-page/{r.randint(0, 10**6)}", None, {}))
        return steps

    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bool:
        """Send one request; False when the run's request budget is spent."""
        with self.tally.lock:
            if self.tally.requests >= self.population.max_requests:
                self.stop.set()
                return False
        label = path.split("?")[0]
        label = "/no-such-page/*" if label.startswith("/no-such-page/") else label
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.population.host, self.population.port, timeout=self.population.timeout_s
                )
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
            answer.read()
            status = str(answer.status)
            if answer.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException):
            status = "no answer"
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        self.tally.add(f"{method} {label}", status, time.monotonic() - started)
        return True


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run(population: Population) -> Summary:
    """Run the population until a bound is reached; return what it did."""
    tally, stop = Tally(), threading.Event()
    users = [User(n, population, tally, stop) for n in range(population.users)]
    started = time.monotonic()
    for user in users:
        user.start()
    stop.wait(population.duration_s)
    stopped_by = "request budget" if stop.is_set() else "duration"
    stop.set()
    for user in users:
        user.join(timeout=population.timeout_s + 1)
    seconds = time.monotonic() - started
    return Summary(
        users=population.users,
        seconds=seconds,
        requests=tally.requests,
        failures=tally.failures,
        by_path_status=dict(sorted(tally.by_step.items())),
        p50_ms=_percentile(tally.latencies, 0.50),
        p95_ms=_percentile(tally.latencies, 0.95),
        p99_ms=_percentile(tally.latencies, 0.99),
        max_ms=max(tally.latencies, default=0.0) * 1000,
        requests_per_s=tally.requests / seconds if seconds else 0.0,
        stopped_by=stopped_by,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the bounds, run, print the summary (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=18080, help="the router's live port")
    parser.add_argument("--users", type=int, default=10, help=f"1..{MAX_USERS} (default 10)")
    parser.add_argument("--duration", dest="duration_s", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=None, help="repeatable journeys")
    parser.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="file holding the account page's token (DEMO_API_TOKEN of the service); "
        "default: $DEMO_API_TOKEN, else the account page is visited without one",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = vars(parser.parse_args(argv))
    token_file, as_json = args.pop("token_file"), args.pop("json")
    token = token_file.read_text().strip() if token_file else None
    try:
        population = Population(**args, token=token or os.environ.get("DEMO_API_TOKEN") or None)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    summary = run(population)
    if as_json:
        print(json.dumps(summary.__dict__, indent=2))
    else:
        print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
