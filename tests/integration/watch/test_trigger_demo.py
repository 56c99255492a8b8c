"""WatchTrigger.run() against the real demo service in Docker: a healthy and an erroring release."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from handoff.watch.evaluate import LatencyBudget, Verdict, WatchThresholds
from handoff.watch.trigger import WatchTrigger
from tests.integration.watch.conftest import DemoFactory

pytestmark = pytest.mark.integration


def watch(url: str, seconds: float) -> tuple[Verdict, float]:
    trigger = WatchTrigger(
        window="validation period",
        base_url=url,
        end_at=(datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(),
        health_path="/health",
        probe_paths=["/api/status", "/"],
        interval_s=0.1,
        thresholds=WatchThresholds(
            min_samples=20,
            latency=(LatencyBudget("/api/status", p95_ms=500.0),),
        ).to_dict(),
    )

    async def one_event() -> dict[str, object]:
        events = [event.payload async for event in trigger.run()]
        assert len(events) == 1, events
        return events[0]  # type: ignore[no-any-return]

    started = time.monotonic()
    payload = asyncio.run(asyncio.wait_for(one_event(), timeout=seconds + 30))
    return Verdict.from_event(payload), time.monotonic() - started


def test_healthy_release_completes_the_window(demo_service: DemoFactory) -> None:
    url = demo_service(DEMO_MODE="healthy")
    verdict, took = watch(url, seconds=4)
    summary = verdict.summary
    assert verdict.breach is None, verdict.breach
    assert summary.errors == 0
    assert summary.samples >= 60  # ~35 rounds of 3 probes
    assert summary.error_rate_judged
    status = next(p for p in summary.paths if p.path == "/api/status")
    assert status.p95_ms is not None and 0 < status.p95_ms < 500
    assert 3.9 < took < 10


def test_release_that_starts_erroring_breaches_early(demo_service: DemoFactory) -> None:
    # The release is healthy for 3 s after it starts, then answers half its requests with 500.
    url = demo_service(DEMO_MODE="erroring", DEMO_ERROR_AFTER="3", DEMO_ERROR_RATE="50")
    verdict, took = watch(url, seconds=60)
    breach = verdict.breach
    assert breach is not None
    assert breach.kind.value == "error_rate"
    assert "HTTP 500" in breach.reason
    assert took < 15, "a breach must end the window long before its end"
    summary = verdict.summary
    assert summary.first_sample_at is not None and summary.first_breach_at is not None
    # The first probes were clean: the breach came from the release turning bad, not at once.
    assert (summary.first_breach_at - summary.first_sample_at).total_seconds() > 1
    assert summary.health_failures == 0  # /health stays green in this failure mode
