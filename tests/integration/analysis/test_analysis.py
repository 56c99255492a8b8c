"""Metric analysis on real traffic: queries, verdicts and alert rules against the real stack.

The stack is the machine's own (`make observability`), started when missing and never
removed; the service is the test's own (fresh name and ports), deployed live on blue with the
engine, watched for the module's duration and removed afterwards. One run of the traffic
generator (~20 s) feeds every test.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import docker
import pytest

from handoff.analysis import alert_rules, queries
from handoff.analysis.prometheus import (
    InstantResult,
    PrometheusClient,
    PrometheusSettings,
    RangeResult,
)
from handoff.analysis.promql import string_literal
from handoff.analysis.queries import MetricQuery, Target
from handoff.analysis.verdict import (
    AnalysisSpec,
    Condition,
    Measurement,
    Operator,
    Phase,
    Status,
    measure,
    verdict,
)
from handoff.bluegreen import BlueGreenConfig, BlueGreenEngine, VolumeMount
from tests.integration.observability.test_stack import stack_module, traffic
from tests.support.demo import V1, ensure_demo_images, free_port

pytestmark = pytest.mark.integration

TRAFFIC_S = 20.0
SCRAPE_WAIT_S = 40.0
PROMETHEUS_IMAGE = "handoff-prometheus:latest"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def instant(settings: PrometheusSettings, promql: str, at: float | None = None) -> Any:
    async with PrometheusClient(settings) as client:
        return await client.query(promql, at=at)


def value_and_samples(
    settings: PrometheusSettings, query: MetricQuery, at: float
) -> tuple[float | None, float | None]:
    """Return a metric's value and its sample count at one instant."""
    value = run(instant(settings, query.promql, at))
    samples = run(instant(settings, query.samples_promql or "vector(0)", at))
    assert isinstance(value, InstantResult), value
    assert isinstance(samples, InstantResult), samples
    return value.single(), samples.single()


@dataclass(frozen=True)
class Watched:
    """The deployed service, its stack, and when its traffic ran."""

    stack: Any
    target: Target
    settings: PrometheusSettings
    quiet_at: float  # after deploy, before the traffic
    traffic_start: float
    traffic_end: float
    summary: Any
    live_port: int


@pytest.fixture(scope="module")
def watched() -> Iterator[Watched]:
    """Deploy V1 live on blue, watch it, run the traffic generator once."""
    ensure_demo_images()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    stack = stack_module.Stack(stack_module.Settings.from_env(), client)
    stack.up()
    service = f"it-{uuid.uuid4().hex[:8]}"
    config = BlueGreenConfig(
        service=service,
        live_port=free_port(),
        preview_port=free_port(),
        volumes=(VolumeMount(f"{service}-data", "/data"),),
        ready_deadline_s=30.0,
    )
    engine = BlueGreenEngine(config, client=client)
    settings = PrometheusSettings(stack.settings.url(stack.settings.prometheus_port))
    try:
        token = secrets.token_hex(16)
        engine.deploy(V1, environment={"DEMO_API_TOKEN": token})
        engine.switch(V1)
        stack.sync({service})
        up = f'sum(up{{service="{service}",job=~"haproxy|service",colour!="green"}})'
        wait_until(settings, up, lambda v: v == 2)
        time.sleep(stack.settings.scrape_interval_s * 2)  # a quiet window, scraped
        quiet_at = time.time()
        start = time.time()
        summary = traffic.run(
            traffic.Population(
                port=config.live_port, users=8, duration_s=TRAFFIC_S, token=token, seed=17
            )
        )
        end = time.time()
        print("\n".join(summary.lines()))
        assert summary.failures == 0 and summary.requests > 200
        served = f'sum(haproxy_server_http_responses_total{{service="{service}",proxy="live"}})'
        wait_until(settings, served, lambda v: v >= summary.requests * 0.99)
        yield Watched(
            stack,
            Target(service, "blue"),
            settings,
            quiet_at,
            start,
            end,
            summary,
            config.live_port,
        )
    finally:
        engine.teardown(remove_data=True, force=True)
        stack.sync(set())
        client.close()


def wait_until(settings: PrometheusSettings, promql: str, ok: Any) -> None:
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while True:
        result = run(instant(settings, promql))
        value = result.single() if isinstance(result, InstantResult) else None
        if value is not None and ok(value):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{promql}: {result} not as expected within {SCRAPE_WAIT_S:g}s")
        time.sleep(1)


def spec_of(query: MetricQuery, op: Operator, threshold: float) -> AnalysisSpec:
    return AnalysisSpec(
        query.name,
        query.promql,
        Condition(op, threshold),
        query.samples_promql,
        interval_s=5,
        min_samples=50,
    )


def test_error_rate_and_p95_pass_on_real_traffic(watched: Watched) -> None:
    window = int(watched.traffic_end - watched.traffic_start)
    at = watched.traffic_end + 1
    target = watched.target
    judged: dict[str, Measurement] = {}
    for query, threshold in (
        (queries.router_error_rate(target, window), 0.01),
        (queries.service_error_rate(target, window), 0.01),
        (queries.latency_quantile(target, window, "/api/status"), 0.5),
        (queries.latency_quantile(target, window, "/api/optimize"), 0.5),
    ):
        spec = spec_of(query, Operator.LT, threshold)
        value, samples = value_and_samples(watched.settings, query, at)
        judged[query.name] = m = measure(spec, at, value, samples)
        print(f"{query.name}: {m.phase.value}: {m.reason} ({samples} samples)")
        assert m.phase is Phase.SUCCESSFUL, m
    assert judged["router_error_rate"].value == 0
    # The router counted what the generator sent (within a scrape's worth).
    assert (judged["router_error_rate"].samples or 0) >= watched.summary.requests * 0.8


def test_a_window_without_traffic_is_inconclusive(watched: Watched) -> None:
    # Before the generator started only the blackbox probes reached the live colour.
    query = queries.router_error_rate(watched.target, 10)
    spec = spec_of(query, Operator.LT, 0.01)
    value, samples = value_and_samples(watched.settings, query, watched.quiet_at)
    m = measure(spec, watched.quiet_at, value, samples)
    print(f"quiet window: {m.reason}")
    assert m.phase is Phase.INCONCLUSIVE
    assert verdict(spec, [m], finished=True).status is Status.INCONCLUSIVE
    # The idle colour has no traffic at all: NaN or empty, inconclusive either way.
    idle = queries.latency_quantile(Target(watched.target.service, "green"), 30, "/api/status")
    value, samples = value_and_samples(watched.settings, idle, time.time())
    assert measure(spec_of(idle, Operator.LT, 0.5), 0, value, samples).phase is Phase.INCONCLUSIVE


def test_a_verdict_over_a_range_of_measurements(watched: Watched) -> None:
    query = queries.router_error_rate(watched.target, 10)
    spec = spec_of(query, Operator.LT, 0.01)
    start, end = watched.traffic_start + 10, watched.traffic_end

    async def both() -> tuple[Any, Any]:
        async with PrometheusClient(watched.settings) as client:
            return (
                await client.query_range(query.promql, start, end, 5),
                await client.query_range(query.samples_promql or "", start, end, 5),
            )

    values, samples = run(both())
    assert isinstance(values, RangeResult) and isinstance(samples, RangeResult)
    count = dict(samples.series[0].points)
    measured = [measure(spec, at, value, count.get(at)) for at, value in values.series[0].points]
    result = verdict(spec, measured, finished=True)
    print(result.to_json())
    assert len(measured) >= 2 and result.status is Status.PASSED, result


def test_escaped_values_reach_prometheus_intact(watched: Watched) -> None:
    for hostile in ['a"b', "back\\slash", "new\nline", '"}', "tab\tand ✓"]:
        promql = f'label_replace(vector(1), "x", {string_literal(hostile)}, "", "")'
        result = run(instant(watched.settings, promql))
        assert isinstance(result, InstantResult), result
        assert result.samples[0].labels["x"] == hostile
    # An injection attempt is one (non-matching) value: an empty answer, not every series.
    target = Target('x"} or up{job="prometheus', "blue")
    result = run(instant(watched.settings, queries.request_rate(target, 60).promql))
    assert isinstance(result, InstantResult) and result.samples == ()


def rules_text(watched: Watched, handoff_id: str) -> str:
    thresholds = alert_rules.RuleThresholds(p95_budgets_s={"/api/status": 0.5, "/": 0.5})
    return alert_rules.rules_yaml(handoff_id, watched.target, thresholds)


def test_generated_rules_pass_promtool(watched: Watched, tmp_path: Path) -> None:
    rules = tmp_path / "handoff.yml"
    rules.write_text(rules_text(watched, "IT-ANALYSIS-001"))
    rules.chmod(0o644)  # promtool runs as the image's prometheus user
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto")
    try:
        output = client.containers.run(
            PROMETHEUS_IMAGE,
            ["check", "rules", "/rules/handoff.yml"],
            entrypoint="/usr/bin/promtool",
            name=f"it-promtool-{uuid.uuid4().hex[:8]}",
            volumes={str(rules): {"bind": "/rules/handoff.yml", "mode": "ro"}},
            network_disabled=True,
            remove=True,
        )
    finally:
        client.close()
    text = output.decode()
    print(text)
    assert "SUCCESS: 7 rules found" in text


def test_generated_rules_load_into_the_running_prometheus(watched: Watched) -> None:
    handoff_id = f"it-{uuid.uuid4().hex[:8]}"
    name = alert_rules.rules_file_name(handoff_id)
    prometheus = watched.stack.client.containers.get(stack_module.promconfig.PROMETHEUS)
    folder = stack_module.promconfig.PROMETHEUS_DIR
    group = f"handoff-{handoff_id}"

    async def groups() -> list[str]:
        async with PrometheusClient(watched.settings) as client:
            found = await client.rules()
        assert not isinstance(found, Exception) and isinstance(found, tuple), found
        return [g.name for g in found]

    def wait_for(present: bool) -> None:
        deadline = time.monotonic() + SCRAPE_WAIT_S
        while (group in run(groups())) is not present:
            if time.monotonic() > deadline:
                pytest.fail(f"rule group {group} {'not loaded' if present else 'still loaded'}")
            time.sleep(0.5)

    stack_module.put_files(
        prometheus, folder, {f"rules/{name}": rules_text(watched, handoff_id)}, 0o644
    )
    try:
        prometheus.kill(signal="SIGHUP")  # as stack.py reloads a changed configuration
        wait_for(present=True)

        async def health() -> set[str]:
            async with PrometheusClient(watched.settings) as client:
                found = await client.rules()
            assert isinstance(found, tuple)
            return {r.health for g in found if g.name == group for r in g.rules}

        assert run(health()) <= {"ok", "unknown"}  # unknown until first evaluated
    finally:
        prometheus.exec_run(["rm", "-f", f"{folder}/rules/{name}"])
        prometheus.kill(signal="SIGHUP")
    wait_for(present=False)


def window_specs(watched: Watched, error_rate_below: float) -> list[AnalysisSpec]:
    """Return a window's error-rate and p95 analyses of the watched colour (15 s rates).

    The window runs on past the traffic (quiet, so inconclusive): those are tolerated, as
    Argo's inconclusiveLimit does; a pass still needs successful measurements and no failure.
    """
    error_rate = queries.router_error_rate(watched.target, 15)
    p95 = queries.latency_quantile(watched.target, 15, "/api/status")
    tolerant = {"inconclusive_limit": 1000}
    return [
        replace(spec_of(error_rate, Operator.LT, error_rate_below), **tolerant),
        replace(spec_of(p95, Operator.LT, 2.0), min_samples=5, **tolerant),
    ]


def test_a_restarted_watch_recovers_every_measurement_from_prometheus(watched: Watched) -> None:
    from handoff.watch.metrics import MetricWatch

    specs = window_specs(watched, 0.01)
    start, end = watched.traffic_start, watched.traffic_end

    async def measured(restart_at: float | None) -> list[list[Measurement]]:
        async with PrometheusClient(watched.settings) as client:
            watch = MetricWatch(specs, start)
            if restart_at is not None:  # the first instance measured up to here, then died
                await watch.catch_up(client, restart_at)
                watch = MetricWatch(specs, start)
            await watch.catch_up(client, end)
            return [list(s.measurements) for s in watch.states.values()]

    uninterrupted = run(measured(None))
    restarted = run(measured(start + (end - start) / 2))
    assert restarted == uninterrupted
    error_rate, p95 = uninterrupted
    assert len(error_rate) >= 3, error_rate
    # Real traffic without a fault: every measurement with enough requests succeeds.
    judged = [m for m in error_rate if m.phase is not Phase.INCONCLUSIVE]
    assert judged and all(m.phase is Phase.SUCCESSFUL for m in judged), error_rate
    assert any(m.phase is Phase.SUCCESSFUL for m in p95), p95


def run_trigger(watched: Watched, specs: list[AnalysisSpec], start: float) -> dict[str, Any]:
    """Run a watch trigger for a few seconds against the live service and Prometheus."""
    from datetime import UTC, datetime, timedelta

    from handoff.watch.trigger import WatchTrigger

    trigger = WatchTrigger(
        window="validation",
        base_url=f"http://127.0.0.1:{watched.live_port}",
        end_at=(datetime.now(UTC) + timedelta(seconds=6)).isoformat(),
        interval_s=1.0,
        prometheus_url=watched.settings.url,
        analyses=[s.to_json() for s in specs],
        analysis_start=start,
        alert_match={"handoff": f"no-such-{uuid.uuid4().hex[:6]}"},
    )

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return run(first())


def test_the_trigger_breaches_on_a_missed_budget_with_its_evidence(watched: Watched) -> None:
    # A p95 budget of 0.1 ms: the service's real latency misses it, measured by Prometheus.
    p95 = queries.latency_quantile(watched.target, 15, "/api/status")
    specs = [spec_of(p95, Operator.LT, 0.0001)]
    event = run_trigger(watched, specs, watched.traffic_start)
    assert event["status"] == "breach", event
    breach = event["breach"]
    assert breach["kind"] == "metric_analysis"
    assert breach["query"] == p95.promql and breach["threshold"] == 0.0001
    assert breach["measured"] > 0.0001 and breach["since"]
    assert "p95_latency /api/status failed" in breach["reason"]
    assert event["analyses"][0]["status"] == "failed"


def test_the_trigger_passes_healthy_traffic_and_a_quiet_window_is_inconclusive(
    watched: Watched,
) -> None:
    from handoff.analysis.verdict import Action
    from handoff.watch.metrics import MetricWatch

    event = run_trigger(watched, window_specs(watched, 0.01), watched.traffic_start)
    assert event["status"] == "completed", event
    statuses = {a["metric"]: a["status"] for a in event["analyses"]}
    assert statuses == {"router_error_rate": "passed", "p95_latency /api/status": "passed"}

    async def quiet() -> Any:
        async with PrometheusClient(watched.settings) as client:
            strict = [replace(s, inconclusive_limit=0) for s in window_specs(watched, 0.01)]
            watch = MetricWatch(strict, watched.quiet_at - 20)
            await watch.catch_up(client, watched.quiet_at)
            return watch.verdicts(finished=True)

    for v in run(quiet()):
        assert v.status is Status.INCONCLUSIVE and v.action is Action.ASK, v


def test_monitoring_criteria_are_verified_by_what_they_name(watched: Watched) -> None:
    from handoff.analysis.alert_rules import RuleThresholds
    from handoff.analysis.rule_loader import AlertingSettings, load_rules, remove_rules
    from handoff.checks import observed
    from handoff.evidence import EvidenceStatus
    from handoff.jsonable import to_jsonable

    service = watched.target.service
    seen = observed.observe(service, watched.target, ("blue", "green"))
    assert seen.reachable and seen.jobs_up, seen
    settings = AlertingSettings.from_env()
    handoff_id = f"it-{uuid.uuid4().hex[:6]}"
    loaded = load_rules(handoff_id, watched.target, RuleThresholds(), settings)
    try:
        from dataclasses import asdict

        rules = to_jsonable(asdict(loaded))
        findings = {
            "application": observed.application(seen),
            "performance": observed.performance(seen, ["/api/status"], ["blue"]),
            "analytics": observed.user_analytics(seen),
            "security": observed.security(seen, rules),
        }
    finally:
        remove_rules(handoff_id, settings)
    for name, finding in findings.items():
        assert finding.status is EvidenceStatus.PASSED, (name, finding)
    assert "demo_feature_uses_total" in findings["application"].summary
    assert "/api/status" in findings["performance"].summary
    figure = observed.coverage(seen)
    assert figure == {"percent": 100.0, "configured": figure["configured"], "missing": []}
    # A service Prometheus does not know: every finding says so, none passes.
    unknown = observed.observe("it-unknown", Target("it-unknown", "blue"), ("blue",))
    assert not unknown.jobs_up
    assert observed.application(unknown).status is EvidenceStatus.FAILED
    assert observed.coverage(unknown)["percent"] == 0.0
