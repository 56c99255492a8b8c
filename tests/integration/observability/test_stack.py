"""Real traffic in Prometheus: the stack, a deployed demo service, simulated users, queries.

The stack is the machine's own (`make observability`): started when missing, reused when it
runs, never removed by the test. The service is the test's own (fresh name, ports, network),
watched through its router for the test's duration and forgotten afterwards.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from handoff.bluegreen import BlueGreenEngine
from handoff.report.model import ChartRow
from handoff.report.window_series import window_charts
from tests.integration.bluegreen.conftest import docker_client, engine, make_config
from tests.support.demo import ROOT, V1, V2
from tests.support.observability import load, stack_module

__all__ = ["docker_client", "engine", "make_config"]

pytestmark = pytest.mark.integration

DEADLINE_S = 40.0


traffic = load(ROOT / "include" / "demo" / "scripts" / "traffic.py", "demo_traffic")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


class Prometheus:
    """Instant queries against the stack's Prometheus."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        found = get_json(f"{self.url}/api/v1/query?query={urllib.parse.quote(promql)}")
        assert found["status"] == "success", found
        result: list[dict[str, Any]] = found["data"]["result"]
        return result

    def value(self, promql: str) -> float:
        """Return the single value of a query (0 when it returns nothing)."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else 0.0

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus: {what} not seen within {DEADLINE_S:g}s")
            time.sleep(1)


@pytest.fixture(scope="module")
def stack() -> Any:
    """Return the machine's observability stack, started if it was missing."""
    running = stack_module.Stack(stack_module.Settings.from_env())
    running.up()
    return running


@pytest.fixture
def watched(stack: Any, engine: BlueGreenEngine) -> Iterator[tuple[BlueGreenEngine, str]]:
    """Return an engine with V1 live on blue, watched by Prometheus, and its account token."""
    token = secrets.token_hex(16)
    engine.deploy(V1, environment={"DEMO_API_TOKEN": token})
    engine.switch(V1)
    stack.sync({engine.config.service})
    yield engine, token
    engine.teardown(remove_data=True, force=True)
    stack.sync(set())  # the router is gone: its targets go too


def test_real_traffic_reaches_prometheus(stack: Any, watched: tuple[BlueGreenEngine, str]) -> None:
    engine, token = watched
    service = engine.config.service
    prom = Prometheus(stack.settings.url(stack.settings.prometheus_port))
    live_blue = (
        f'haproxy_server_http_responses_total{{service="{service}",proxy="live",server="blue"}}'
    )

    prom.wait_for(
        "the router's exporter and the blue colour scraped",
        lambda: (
            prom.value(f'sum(up{{service="{service}",job=~"haproxy|service",colour!="green"}})')
            == 2
        ),
    )
    before = prom.value(f"sum({live_blue})")

    population = traffic.Population(
        port=engine.config.live_port,
        users=8,
        duration_s=6.0,
        max_requests=5_000,
        token=token,
        wrong_token_share=0.3,
        unknown_path_share=0.3,
        seed=17,
    )
    summary = traffic.run(population)
    print("\n".join(summary.lines()))
    assert summary.requests > 50 and summary.failures == 0

    prom.wait_for(
        "HAProxy's per-server counter of the live colour rising by the traffic",
        lambda: prom.value(f"sum({live_blue})") - before >= summary.requests * 0.9,
    )
    # The service's own histogram, by path and status code, for the colour that served.
    histogram = f'demo_http_request_duration_seconds_count{{service="{service}",colour="blue"}}'
    failures = (
        f'demo_http_request_duration_seconds_count{{service="{service}",colour="blue",'
        'path="/api/account",code="401"}'
    )
    prom.wait_for(
        "the service's histogram with the traffic's account failures",
        lambda: prom.value(f"sum({failures})") > 0,
    )
    series = {(r["metric"]["path"], r["metric"]["code"]) for r in prom.query(histogram)}
    assert {("/", "200"), ("/api/status", "200"), ("/api/optimize", "200")} <= series
    assert {("/api/account", "200"), ("/api/account", "401"), ("other", "404")} <= series
    buckets = prom.query(
        f'demo_http_request_duration_seconds_bucket{{service="{service}",path="/api/status"}}'
    )
    assert len(buckets) >= 10  # one series per bucket bound, +Inf included

    # User analytics and security events, as the service counted them.
    features = prom.value(f'sum(demo_feature_uses_total{{service="{service}",feature="optimize"}})')
    assert features > 0
    assert prom.value(f'sum(demo_auth_failures_total{{service="{service}",reason="invalid"}})') > 0
    assert (
        prom.value(f'sum(demo_refused_requests_total{{service="{service}",reason="not_found"}})')
        > 0
    )
    assert prom.value(f'process_resident_memory_bytes{{service="{service}",colour="blue"}}') > 0

    # Host resources, synthetic probes, and Alertmanager with its Slack receiver.
    assert prom.value('node_memory_MemAvailable_bytes{job="node"}') > 0
    prom.wait_for(
        "a blackbox probe of the live health path",
        lambda: prom.value(f'probe_success{{service="{service}",listener="live"}}') == 1,
    )
    status = get_json(f"{stack.settings.url(stack.settings.alertmanager_port)}/api/v2/status")
    assert status["cluster"]["status"] in ("ready", "disabled")
    original = status["config"]["original"]
    assert "name: slack" in original and "api_url_file:" in original
    assert "- alertname\n  - handoff" in original and "send_resolved: true" in original


def test_after_a_switch_the_new_colour_is_counted_apart(
    stack: Any, watched: tuple[BlueGreenEngine, str]
) -> None:
    # No new sync: the router reaches whichever colour exists, so a deploy needs none.
    engine, token = watched
    service = engine.config.service
    prom = Prometheus(stack.settings.url(stack.settings.prometheus_port))
    started = time.time()
    engine.deploy(V2, environment={"DEMO_API_TOKEN": token})
    engine.switch(V2)
    summary = traffic.run(
        traffic.Population(port=engine.config.live_port, users=4, duration_s=3.0, token=token)
    )
    assert summary.requests > 20 and summary.failures == 0
    green = (
        f'sum(haproxy_server_http_responses_total{{service="{service}",proxy="live",'
        'server="green"})'
    )
    prom.wait_for(
        "HAProxy's counter of the new live colour",
        lambda: prom.value(green) >= summary.requests * 0.9,
    )
    prom.wait_for(
        "the new colour's own histogram, labelled with its colour and release",
        lambda: (
            prom.value(
                f'sum(demo_http_request_duration_seconds_count{{service="{service}",'
                'colour="green",path="/api/status"})'
            )
            > 0
        ),
    )
    info = prom.query(f'demo_info{{service="{service}",colour="green"}}')
    assert [r["metric"]["release"] for r in info] == [V2]

    # The HTML report's windows' charts ask this Prometheus the same way: a line per colour,
    # green's error rate drawn at 0 % (no failure). Its p95 line needs two scrapes of the
    # service's histogram after the first request, longer than this test waits.
    def charts() -> tuple[ChartRow, ...]:
        return window_charts(service, ["/api/status"], started, time.time())

    prom.wait_for("the report's error-rate chart drawing green", lambda: charts()[0].lines[1][1])
    error_rate, p95 = charts()
    assert [name for name, _ in error_rate.lines] == [name for name, _ in p95.lines]
    assert [name for name, _ in error_rate.lines] == ["blue", "green"]
    assert all(v == 0 for _, v in dict(error_rate.lines)["green"])
    assert all(v > 0 for _, v in dict(p95.lines)["green"])
