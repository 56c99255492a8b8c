"""Benchmark: many watch windows in one triggerer, each judging a colour in Prometheus.

``--windows`` (default 200) `WatchTrigger`s run concurrently in one asyncio loop, as the
triggerer runs them, for ``--seconds`` (default 60): each probes a demo service's live
listener every ``--probe-interval`` seconds (default 5) and measures the default analyses
(three queries and their sample counts) every 5 s in the real Prometheus, reading the
firing alerts as often. The service gets a little real traffic meanwhile.

Printed: the process' CPU time (per second of wall time, so 1.0 is one core busy), its peak
resident memory, the Prometheus calls made and their latency (p50, p95, p99, max), and how
many windows ended with a verdict. Bounded: at most 500 windows and 300 s; loopback only;
removes what it created. Needs `make demo-images` and `make observability`.

    PYTHONPATH=plugins .venv/bin/python tests/benchmarks/bench_watch_windows.py
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from handoff.analysis import prometheus as prometheus_module  # noqa: E402
from handoff.analysis.defaults import AnalysisThresholds, default_analyses  # noqa: E402
from handoff.analysis.queries import Target  # noqa: E402
from handoff.watch.trigger import WatchTrigger  # noqa: E402
from tests.benchmarks.watched_service import watched_service  # noqa: E402
from tests.integration.observability.test_stack import traffic  # noqa: E402

LATENCIES: list[float] = []
ERRORS: list[str] = []


def timed_calls() -> None:
    """Record the duration of every Prometheus API call the triggers make."""
    original = prometheus_module.PrometheusClient._call

    async def call(self: Any, path: str, params: dict[str, str], promql: str) -> Any:
        started = time.perf_counter()
        try:
            answer = await original(self, path, params, promql)
        finally:
            LATENCIES.append(time.perf_counter() - started)
        if isinstance(answer, prometheus_module.QueryError):
            ERRORS.append(answer.kind.value)
        return answer

    prometheus_module.PrometheusClient._call = call  # type: ignore[method-assign]


async def run_windows(triggers: list[WatchTrigger]) -> list[dict[str, Any]]:
    async def first(trigger: WatchTrigger) -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        return {}

    return list(await asyncio.gather(*(first(t) for t in triggers)))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--probe-interval", type=float, default=5.0)
    args = parser.parse_args()
    windows, seconds = min(args.windows, 500), min(args.seconds, 300.0)
    with watched_service() as watched:
        config, token, url = watched.config, watched.token, watched.prometheus_url
        service, colour = config.service, watched.colour
        population = traffic.Population(
            port=config.live_port, users=4, duration_s=seconds + 30, token=token, seed=5
        )
        threading.Thread(target=traffic.run, args=(population,), daemon=True).start()
        thresholds = AnalysisThresholds(interval_s=5.0, window_s=15, min_requests=5)
        specs = [s.to_json() for s in default_analyses(Target(service, colour), thresholds)]
        end = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
        triggers = [
            WatchTrigger(
                window=f"window-{i}",
                base_url=f"http://127.0.0.1:{config.live_port}",
                end_at=end,
                interval_s=args.probe_interval,
                log_every=10_000,
                prometheus_url=url,
                analyses=specs,
                # Windows of different handoffs start at different times: spread over 5 s.
                analysis_start=time.time() + 5.0 * i / windows,
                alert_match={"handoff": f"bench-{i}", "severity": "page"},
            )
            for i in range(windows)
        ]
        timed_calls()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic()
        events = asyncio.run(run_windows(triggers))
        wall = time.monotonic() - wall
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        verdicts = statistics.mode([e.get("status", "none") for e in events])
        ms = [x * 1000 for x in LATENCIES]
        print(f"{windows} windows for {wall:.0f} s in one process (one asyncio loop)")
        print(
            f"CPU: {cpu:.1f} s, {cpu / wall:.2f} of one core; "
            f"peak RSS {cpu_after.ru_maxrss / 1024:.0f} MiB"
        )
        print(
            f"Prometheus calls: {len(ms)} ({len(ms) / wall:.0f}/s); latency p50 "
            f"{quantile(ms, 0.5):.1f} ms, p95 {quantile(ms, 0.95):.1f} ms, p99 "
            f"{quantile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms; failed calls {len(ERRORS)}"
            + (f" ({', '.join(sorted(set(ERRORS)))})" if ERRORS else "")
        )
        print(f"windows ended: {len(events)}, most common verdict: {verdicts}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
