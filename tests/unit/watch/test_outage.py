"""The engine-outage policy of a watch window, against loopback stand-ins for service and engine.

The "engine" is a loopback HTTP service reached as tcp://127.0.0.1:PORT: its /_ping answers
200 while it is up and 500 while the test makes it fail. The real Docker daemon restart is the
fault drill in tests/drills/test_docker_restart.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.acceptance.environment import Environment
from handoff.watch.outage import EngineOutage, EngineOutagePolicy, engine_answers
from handoff.watch.trigger import WatchTrigger
from tests.support.loopback import Behaviour, loopback_service
from tests.unit.watch.test_trigger import make_trigger, run_to_event


def outage_trigger(
    service_url: str, engine_port: int, policy: str, wait_s: float, end_s: float
) -> WatchTrigger:
    end = datetime.now(UTC) + timedelta(seconds=end_s)
    return make_trigger(
        base_url=service_url,
        end_at=end.isoformat(),
        probe_paths=[],
        thresholds={"max_health_failures": 2, "min_samples": 5},
        engine_outage={
            "docker_url": f"tcp://127.0.0.1:{engine_port}",
            "policy": policy,
            "wait_s": wait_s,
        },
    )


def outage_for(service: Behaviour, engine: Behaviour, seconds: float) -> None:
    """From now, the service's health fails and the engine's ping fails for ``seconds``."""
    service.health_status = 503
    engine.fail_in(0)

    def recover() -> None:
        time.sleep(seconds)
        engine.fail_from = None
        service.health_status = 200

    threading.Thread(target=recover, daemon=True).start()


def test_engine_ping_tells_up_from_down() -> None:
    engine = Behaviour()
    with loopback_service(engine) as fake:
        assert asyncio.run(engine_answers(f"tcp://127.0.0.1:{fake.port}"))
        engine.fail_in(0)
        assert not asyncio.run(engine_answers(f"tcp://127.0.0.1:{fake.port}"))
    assert not asyncio.run(engine_answers("unix:///nonexistent/docker.sock"))


def watch_through_outage(
    policy: str, wait_s: float, end_s: float, outage_after_s: float, outage_s: float
) -> tuple[dict[str, Any], float]:
    """Run a window while an outage of service and engine starts and lasts as asked."""
    service, engine = Behaviour(), Behaviour()
    with loopback_service(service) as svc, loopback_service(engine) as eng:
        trigger = outage_trigger(svc.url, eng.port, policy, wait_s, end_s=end_s)
        threading.Timer(outage_after_s, outage_for, (service, engine, outage_s)).start()
        events, took = run_to_event(trigger)
    return dict(events[0].payload), took


def test_policy_breach_fails_the_window_naming_the_engine() -> None:
    payload, took = watch_through_outage("breach", 10, end_s=10, outage_after_s=0, outage_s=30)
    assert payload["status"] == "breach"
    assert payload["breach"]["kind"] == "engine_outage"
    assert "policy 'breach' treats an engine outage as a breach" in payload["reason"]
    assert took < 3


def test_policy_wait_rides_out_a_short_outage_without_counting_it() -> None:
    payload, took = watch_through_outage("wait", 10, end_s=3, outage_after_s=0.5, outage_s=1.0)
    assert payload["status"] == "completed", payload.get("reason")
    assert payload["summary"]["errors"] == 0  # the outage's failed probes were not counted
    assert 2.5 < took < 5


def test_policy_wait_breaches_once_its_bound_passes() -> None:
    payload, took = watch_through_outage("wait", 1.0, end_s=10, outage_after_s=0, outage_s=30)
    assert payload["status"] == "breach"
    assert payload["breach"]["kind"] == "engine_outage"
    assert "the engine did not answer again within the 1 s the policy 'wait'" in payload["reason"]
    assert 0.9 < took < 3


def engine_away_service_answering(policy: str, wait_s: float, outage_s: float) -> dict[str, Any]:
    """Run a window while only the engine's ping fails (the service answers throughout)."""
    service, engine = Behaviour(), Behaviour()
    with loopback_service(service) as svc, loopback_service(engine) as eng:
        trigger = outage_trigger(svc.url, eng.port, policy, wait_s, end_s=3)

        def engine_away() -> None:
            engine.fail_in(0)
            threading.Timer(outage_s, lambda: setattr(engine, "fail_from", None)).start()

        threading.Timer(0.5, engine_away).start()
        events, _ = run_to_event(trigger)
    return dict(events[0].payload)


def test_an_engine_outage_is_noticed_while_the_service_still_answers() -> None:
    # With live-restore the containers keep serving while dockerd is away; the policy decides.
    breach = engine_away_service_answering("breach", 10, outage_s=1.0)
    assert breach["status"] == "breach" and breach["breach"]["kind"] == "engine_outage"
    assert "the service still answers" in breach["reason"]
    waited = engine_away_service_answering("wait", 10, outage_s=1.0)
    assert waited["status"] == "completed", waited.get("reason")


def test_a_failing_service_on_an_answering_engine_is_an_ordinary_breach() -> None:
    service, engine = Behaviour(health_status=503), Behaviour()
    with loopback_service(service) as svc, loopback_service(engine) as eng:
        events, _ = run_to_event(outage_trigger(svc.url, eng.port, "wait", 10, end_s=10))
    assert events[0].payload["breach"]["kind"] == "health"


def test_the_policy_survives_serialization() -> None:
    trigger = outage_trigger("http://127.0.0.1:9", 9, "breach", 42, end_s=5)
    classpath, kwargs = trigger.serialize()
    assert kwargs["engine_outage"] == {
        "docker_url": "tcp://127.0.0.1:9",
        "policy": "breach",
        "wait_s": 42,
    }
    assert WatchTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_the_environment_default_is_wait_for_five_minutes() -> None:
    environment = Environment.model_validate(
        {"name": "x", "router": {"live_port": 1, "preview_port": 2}}
    )
    assert environment.watch.engine_outage is EngineOutagePolicy.WAIT
    assert environment.watch.engine_outage_wait == timedelta(minutes=5)
    strict = Environment.model_validate(
        {
            "name": "x",
            "router": {"live_port": 1, "preview_port": 2},
            "watch": {"engine_outage": "breach", "engine_outage_wait": "30s"},
        }
    )
    assert strict.watch.engine_outage is EngineOutagePolicy.BREACH


def test_an_unusable_docker_url_is_refused_where_it_is_configured() -> None:
    with pytest.raises(ValueError, match="docker_url must be"):
        EngineOutage("ssh://host")
