"""WatchTrigger: serialization round trip and its run() against a loopback HTTP service."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow.sdk.serde import deserialize, serialize
from airflow.triggers.base import TriggerEvent

from handoff.watch.evaluate import LatencyBudget, Verdict, WatchThresholds
from handoff.watch.trigger import WatchTrigger
from tests.support.loopback import Behaviour, loopback_service


def make_trigger(**overrides: Any) -> WatchTrigger:
    kwargs: dict[str, Any] = {
        "window": "validation period",
        "base_url": "http://127.0.0.1:9",
        "end_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        "health_path": "/health",
        "probe_paths": ["/api/status", "/"],
        "interval_s": 0.05,
        "thresholds": WatchThresholds(
            min_samples=10,
            # Loose enough for a loaded CI machine: these tests are about the window, not speed.
            latency=(LatencyBudget("/api/status", p95_ms=250.0, baseline_p95_ms=200.0),),
            latency_tolerance_pct=10.0,
        ).to_dict(),
    }
    kwargs.update(overrides)
    return WatchTrigger(**kwargs)


def test_serialize_round_trips_through_airflows_encoding() -> None:
    trigger = make_trigger()
    classpath, kwargs = trigger.serialize()
    assert classpath == "handoff.watch.trigger.WatchTrigger"
    json.dumps(kwargs)  # plain JSON, nothing Airflow-specific
    # The task runner encodes trigger kwargs with serde; dag.test and the triggerer decode them.
    decoded = deserialize(serialize(kwargs))
    # As the triggerer does: import the class by its dotted path, call it with the kwargs.
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**decoded)
    assert isinstance(rebuilt, WatchTrigger)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert WatchThresholds.from_dict(rebuilt.thresholds) == WatchThresholds.from_dict(
        trigger.thresholds
    )
    # A live listener terminating TLS: the domain and the CA survive the round trip.
    tls = make_trigger(tls_domain="shop.demo.test", tls_ca_file="/etc/handoff/ca.pem")
    _, tls_kwargs = tls.serialize()
    assert (tls_kwargs["tls_domain"], tls_kwargs["tls_ca_file"]) == (
        "shop.demo.test",
        "/etc/handoff/ca.pem",
    )
    with pytest.raises(ValueError, match="go together"):
        make_trigger(tls_domain="shop.demo.test")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_at": "tomorrow"}, "end_at must be an ISO 8601 time"),
        ({"end_at": "2026-03-01T12:00:00"}, "must carry a UTC offset"),
        ({"thresholds": {"max_errors": 1}}, "unknown watch threshold"),
        ({"interval_s": 0}, "interval_s and request_timeout_s must be > 0"),
    ],
)
def test_bad_kwargs_fail_where_the_trigger_is_built(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_trigger(**overrides)


def run_to_event(trigger: WatchTrigger) -> tuple[list[TriggerEvent], float]:
    async def collect() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    started = time.monotonic()
    events = asyncio.run(asyncio.wait_for(collect(), timeout=30))
    return events, time.monotonic() - started


def test_healthy_service_completes_the_window() -> None:
    with loopback_service() as service:
        end = datetime.now(UTC) + timedelta(seconds=1.5)
        events, took = run_to_event(make_trigger(base_url=service.url, end_at=end.isoformat()))
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "completed"
    verdict = Verdict.from_event(payload)
    assert verdict.summary.errors == 0
    assert verdict.summary.samples >= 30  # 3 paths, ~20 rounds of 50 ms
    assert {p.path for p in verdict.summary.paths} == {"/health", "/api/status", "/"}
    assert 1.3 < took < 5
    assert service.behaviour.requests == verdict.summary.samples


def test_erroring_service_breaches_well_before_the_end() -> None:
    behaviour = Behaviour()
    behaviour.fail_in(0.5)
    with loopback_service(behaviour) as service:
        end = datetime.now(UTC) + timedelta(seconds=20)
        events, took = run_to_event(make_trigger(base_url=service.url, end_at=end.isoformat()))
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "breach"
    assert payload["breach"]["kind"] == "error_rate"
    assert "HTTP 500 on /" in payload["reason"]
    assert took < 5, "the breach must end the window early"
    assert payload["summary"]["first_breach_at"] is not None


def test_unreachable_service_is_a_health_breach_not_a_crash() -> None:
    with loopback_service() as service:
        url = service.url
    # The service is gone: every probe is refused, the trigger must still yield its verdict.
    events, took = run_to_event(
        make_trigger(base_url=url, thresholds={"max_health_failures": 3, "min_samples": 1000})
    )
    assert [e.payload["status"] for e in events] == ["breach"]
    assert events[0].payload["breach"]["kind"] == "health"
    assert "ConnectError" in events[0].payload["reason"]
    assert took < 2


def test_a_window_already_over_completes_at_once_and_says_it_judged_nothing() -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    events, took = run_to_event(make_trigger(end_at=past))
    summary = events[0].payload["summary"]
    assert events[0].payload["status"] == "completed"
    assert (summary["samples"], summary["error_rate_judged"]) == (0, False)
    assert took < 1


def test_a_cancelled_trigger_recreated_from_its_kwargs_ends_at_the_same_time() -> None:
    with loopback_service() as service:
        end = datetime.now(UTC) + timedelta(seconds=2)
        first = make_trigger(base_url=service.url, end_at=end.isoformat())

        async def cancel_soon() -> None:
            task = asyncio.ensure_future(anext(first.run()))
            await asyncio.sleep(0.5)
            task.cancel()  # what the triggerer does when it moves a trigger elsewhere
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(cancel_soon())
        _, kwargs = first.serialize()
        events, took = run_to_event(WatchTrigger(**kwargs))
    finished = datetime.now(UTC)
    assert events[0].payload["status"] == "completed"
    # The re-created trigger watched the rest of the window, not a fresh full one.
    assert abs((finished - end).total_seconds()) < 0.5
    assert 1.0 < took < 2.0
