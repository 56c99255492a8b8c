"""Benchmark: a release that fails only real users, watched by Prometheus and by probes alone.

The scene: a fresh demo service, 1.0.0 live on blue; 1.1.0 on green with the fault
``flaky_optimize`` (the optimiser, which no probe requests, answers 500 on a few percent of
its requests). The traffic generator (a population of simulated users on loopback) runs
throughout. At the switch to green (the fault's start, t = 0) two watch triggers start side
by side, at time scale 1:

- the Prometheus watch: the default analyses of the green colour, every 5 s on 15 s rates;
- the probe-only watch of before: health and the sidecar's endpoints every second.

Printed: the time from the fault's start to each watch's breach (or "none" by the bound),
and the engine's rollback time (run once both watches ended, so the probe-only watch faces
the faulty release for the whole bound). The target
is a breach within 60 s. Bounded (``--bound`` s, at most 300), loopback only, removes what it
created. Needs `make demo-images` and `make observability`.

    PYTHONPATH=plugins .venv/bin/python tests/benchmarks/bench_real_traffic_fault.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from handoff.analysis.defaults import AnalysisThresholds, default_analyses  # noqa: E402
from handoff.analysis.queries import Target  # noqa: E402
from handoff.watch.trigger import WatchTrigger  # noqa: E402
from tests.benchmarks.watched_service import watched_service  # noqa: E402
from tests.integration.observability.test_stack import traffic  # noqa: E402
from tests.support.demo import V2  # noqa: E402

PROBE_PATHS = ["/api/status", "/version"]


async def first_event(trigger: WatchTrigger) -> tuple[float, dict[str, Any]]:
    """Run a trigger to its event; return when it came (monotonic) and its payload."""
    async for event in trigger.run():
        return time.monotonic(), dict(event.payload)
    raise RuntimeError("the trigger ended without an event")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--percent", type=float, default=5.0, help="failing share of one path")
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--bound", type=float, default=150.0, help="seconds each watch may run")
    args = parser.parse_args()
    bound = min(args.bound, 300.0)
    with watched_service() as watched:
        engine, config, token = watched.engine, watched.config, watched.token
        service, prometheus = config.service, watched.prometheus_url
        faulty = {
            "DEMO_API_TOKEN": token,
            "DEMO_FAULTS": "flaky_optimize",
            "DEMO_FLAKY_PERCENT": f"{args.percent:g}",
        }
        engine.deploy(V2, environment=faulty)
        population = traffic.Population(
            port=config.live_port,
            users=args.users,
            duration_s=bound + 60,
            token=token,
            seed=23,
        )
        users = threading.Thread(target=traffic.run, args=(population,), daemon=True)
        users.start()
        time.sleep(20)  # blue's traffic scraped before the switch
        colour = engine.switch(V2).to_colour.value
        fault_start, start_wall = time.monotonic(), time.time()
        end = (datetime.now(UTC) + timedelta(seconds=bound)).isoformat()
        thresholds = AnalysisThresholds(interval_s=5.0, window_s=15, min_requests=20)
        specs = [s.to_json() for s in default_analyses(Target(service, colour), thresholds)]
        base = f"http://127.0.0.1:{config.live_port}"
        with_prometheus = WatchTrigger(
            window="validation (Prometheus)",
            base_url=base,
            end_at=end,
            probe_paths=PROBE_PATHS,
            prometheus_url=prometheus,
            analyses=specs,
            analysis_start=start_wall,
        )
        probes_only = WatchTrigger(
            window="validation (probes only)", base_url=base, end_at=end, probe_paths=PROBE_PATHS
        )

        async def both() -> list[tuple[float, dict[str, Any]]]:
            return list(
                await asyncio.gather(first_event(with_prometheus), first_event(probes_only))
            )

        (prom_at, prom), (probe_at, probe) = asyncio.run(both())
        rollback_started = time.monotonic()
        engine.rollback()
        rollback_end = time.monotonic()
        print(f"fault: {args.percent:g} % of /api/optimize answers fail on {colour} from t = 0")
        for name, at, event in (("Prometheus", prom_at, prom), ("probes only", probe_at, probe)):
            if event["status"] == "breach":
                print(f"{name:12} breach at t = {at - fault_start:6.1f} s: {event['reason'][:160]}")
            else:
                print(
                    f"{name:12} no breach in {bound:.0f} s ({event['summary']['samples']} probes)"
                )
        took = rollback_end - rollback_started
        # The probe-only watch faced the faulty release for the whole bound, so the rollback
        # ran after both: from the Prometheus breach it takes what it took here.
        print(
            f"rollback     {took:.1f} s (engine.rollback); fault start to rollback end, the "
            f"rollback started at the Prometheus breach: {prom_at - fault_start + took:.1f} s"
        )
        return 0 if prom["status"] == "breach" else 1


if __name__ == "__main__":
    sys.exit(main())
