"""The monitoring criteria, each verified by what it names, from Prometheus and Alertmanager.

Run once on live right after the switch (the `observability` task), with the colour the
switch made live:

- Application Monitoring: the service's series are scraped (its jobs up, the names listed);
- Error Tracking: the handoff's alert rules are loaded and a synthetic test alert went
  through Alertmanager to Slack (the rules and the delivery are the evidence);
- Performance Monitoring: latency per endpoint of the live colour, and resources (CPU,
  memory) of every colour running;
- User Analytics: the feature-usage series exist and moved (the journeys and the traffic);
- Security Monitoring: the rules on authentication failures and refused requests are
  loaded and their series exist;

and the success metric "Monitoring Coverage": the critical metrics configured against those
actually scraped. Prometheus answers are read with the project's client; nothing here ever
raises for an unreachable stack: the finding says so, and it is evidence too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff.analysis import queries
from handoff.analysis.prometheus import InstantResult, PrometheusClient, PrometheusSettings
from handoff.analysis.promql import selector, string_literal
from handoff.analysis.queries import ServiceMetrics, Target
from handoff.checks.finding import Finding
from handoff.evidence import EvidenceStatus

# How far back the series are looked at: the smoke journeys on preview and the first minutes.
LOOKBACK_S = 900


@dataclass(frozen=True)
class Observed:
    """What Prometheus holds of a service, read once."""

    reachable: bool
    problem: str = ""
    jobs_up: dict[str, float] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    latency_paths: dict[str, float] = field(default_factory=dict)
    # Paths whose latency histogram is scraped at all: a burst of requests inside one scrape
    # interval is tracked, though its rate (and so its p95) reads as nothing afterwards.
    latency_series: tuple[str, ...] = ()
    resources: dict[str, dict[str, float]] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)
    auth_failures: float | None = None
    refused: float | None = None

    def up_jobs(self) -> set[str]:
        """Return the jobs whose targets answer (``up == 1``)."""
        return {job for job, value in self.jobs_up.items() if value == 1}

    def tracked_paths(self) -> set[str]:
        """Return the paths whose latency is scraped, with or without a p95 to show."""
        return set(self.latency_series) | set(self.latency_paths)


def _by(result: object, label: str) -> dict[str, float]:
    if not isinstance(result, InstantResult):
        return {}
    return {s.labels.get(label, ""): s.value for s in result.samples}


async def _observe(
    settings: PrometheusSettings, service: str, live: Target, colours: Sequence[str]
) -> Observed:
    async with PrometheusClient(settings) as client:
        up = await client.query(f"max by (job) ({selector('up', {'service': service})})")
        if not isinstance(up, InstantResult):
            return Observed(False, up.message)
        names = await client.query(
            "count by (__name__) ({" + f"service={string_literal(service)}" + "})"
        )
        latency = await client.query(queries.latency_by_path(live, LOOKBACK_S))
        tracked = await client.query(queries.latency_series_by_path(live))
        features = await client.query(queries.feature_uses(live, LOOKBACK_S))
        auth = await client.query(queries.auth_failures(live, LOOKBACK_S).promql)
        refused = await client.query(queries.refused_requests(live, LOOKBACK_S).promql)
        resources: dict[str, dict[str, float]] = {}
        for colour in colours:
            target = Target(service, colour)
            cpu = await client.query(queries.cpu_usage(target, 60).promql)
            memory = await client.query(queries.memory_usage(target, 60).promql)
            resources[colour] = {
                k: v
                for k, v in (
                    ("cpu_cores", cpu.single() if isinstance(cpu, InstantResult) else None),
                    (
                        "resident_bytes",
                        memory.single() if isinstance(memory, InstantResult) else None,
                    ),
                )
                if v is not None
            }
    return Observed(
        True,
        jobs_up=_by(up, "job"),
        names=tuple(sorted(_by(names, "__name__"))),
        latency_paths={p: v for p, v in _by(latency, "path").items() if v == v},  # not NaN
        latency_series=tuple(sorted(_by(tracked, "path"))),
        resources=resources,
        features=_by(features, "feature"),
        auth_failures=auth.single() if isinstance(auth, InstantResult) else None,
        refused=refused.single() if isinstance(refused, InstantResult) else None,
    )


def observe(service: str, live: Target, colours: Sequence[str]) -> Observed:
    """Read what Prometheus holds of the service (HANDOFF_PROMETHEUS_URL or the local stack)."""
    return asyncio.run(_observe(PrometheusSettings.from_env(), service, live, colours))


def critical_metrics(metrics: ServiceMetrics | None = None) -> dict[str, str]:
    """Return the critical metrics a release is watched by (what -> series name)."""
    metrics = metrics or ServiceMetrics()
    return {
        "requests per colour (router)": metrics.router_responses,
        "latency histogram": f"{metrics.latency_histogram}_bucket",
        "feature usage": metrics.feature_uses,
        "authentication failures": metrics.auth_failures,
        "refused requests": metrics.refused_requests,
        "CPU": metrics.cpu_seconds,
        "memory": metrics.resident_memory,
    }


def coverage(observed: Observed) -> dict[str, Any]:
    """Return the monitoring coverage: critical metrics configured against those scraped."""
    configured = critical_metrics()
    scraped = [what for what, name in configured.items() if name in observed.names]
    missing = [what for what in configured if what not in scraped]
    percent = round(100.0 * len(scraped) / len(configured), 1)
    return {"percent": percent, "configured": list(configured), "missing": missing}


def _unreachable(observed: Observed) -> Finding:
    return Finding(
        EvidenceStatus.FAILED,
        f"Prometheus did not answer ({observed.problem}): nothing shows the service is watched",
        {"problem": observed.problem},
        {"prometheus": "answers"},
    )


def application(observed: Observed) -> Finding:
    """Application Monitoring: the service's jobs are up and its series scraped."""
    if not observed.reachable:
        return _unreachable(observed)
    up = observed.up_jobs()
    ok = {"haproxy", "service"} <= up
    shown = ", ".join(observed.names[:12]) + (" ..." if len(observed.names) > 12 else "")
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        f"Prometheus scrapes {len(observed.names)} metric names of the service (jobs up: "
        f"{', '.join(sorted(up)) or 'none'}): {shown or 'none'}",
        {"jobs_up": sorted(up), "series_names": list(observed.names)},
        {"jobs_up": ["haproxy", "service"], "series_names": ">= 1"},
    )


def error_tracking(rules: dict[str, Any] | None, test_alert: dict[str, Any] | None) -> Finding:
    """Error Tracking: the alert rules are loaded and a test alert reached Slack."""
    if rules is None or "problem" in rules:
        why = (rules or {}).get("problem", "the rules were not loaded")
        return Finding(
            EvidenceStatus.FAILED,
            f"alert rules not loaded: {why}",
            {"rules": []},
            {"rules_loaded": True},
        )
    names = [r["name"] for r in rules.get("rules", [])]
    delivered = bool(test_alert and test_alert.get("delivered"))
    detail = (
        f"a test alert reached Slack through Alertmanager in "
        f"{test_alert.get('notified_after_ms') or 0:.0f} ms"
        if delivered and test_alert
        else f"the test alert did not reach Slack: {(test_alert or {}).get('problem', 'not sent')}"
    )
    return Finding(
        EvidenceStatus.PASSED if names and delivered else EvidenceStatus.FAILED,
        f"{len(names)} alert rules loaded in Prometheus ({', '.join(names)}); {detail}",
        {"rules": names, "load_ms": rules.get("load_ms"), "test_alert_delivered": delivered},
        {"rules_loaded": ">= 1", "test_alert_delivered": True},
    )


def performance(observed: Observed, endpoints: Sequence[str], colours: Sequence[str]) -> Finding:
    """Performance Monitoring: latency per endpoint and resources per colour are tracked."""
    if not observed.reachable:
        return _unreachable(observed)
    tracked = observed.tracked_paths()
    untracked = [p for p in endpoints if p not in tracked]
    no_resources = [c for c in colours if len(observed.resources.get(c, {})) < 2]
    latency = ", ".join(
        f"{p} {observed.latency_paths[p] * 1000:.1f} ms"
        if p in observed.latency_paths
        else f"{p} (scraped; no p95: its requests fell within one scrape)"
        for p in sorted(tracked)
    )
    resources = ", ".join(
        f"{c} {r.get('cpu_cores', 0):.3f} cores {r.get('resident_bytes', 0) / 2**20:.0f} MiB"
        for c, r in sorted(observed.resources.items())
    )
    ok = bool(tracked) and not untracked and not no_resources
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        f"p95 per endpoint tracked: {latency or 'none'}; resources per colour: "
        f"{resources or 'none'}"
        + (f"; no latency series for {', '.join(untracked)}" if untracked else "")
        + (f"; no resource series for {', '.join(no_resources)}" if no_resources else ""),
        {
            "p95_s": observed.latency_paths,
            "latency_series": list(observed.latency_series),
            "resources": observed.resources,
        },
        {"endpoints": list(endpoints), "colours": list(colours)},
    )


def user_analytics(observed: Observed) -> Finding:
    """User Analytics: the feature-usage series exist and moved."""
    if not observed.reachable:
        return _unreachable(observed)
    moved = {f: v for f, v in observed.features.items() if v > 0}
    uses = ", ".join(f"{f} {v:.0f}" for f, v in sorted(observed.features.items()))
    return Finding(
        EvidenceStatus.PASSED if moved else EvidenceStatus.FAILED,
        f"feature usage counted on live over the last {LOOKBACK_S // 60} minutes: "
        f"{uses or 'no series'}",
        {"uses": observed.features},
        {"features_used": ">= 1"},
    )


def security(observed: Observed, rules: dict[str, Any] | None) -> Finding:
    """Security Monitoring: the security rules are loaded and their series exist."""
    if not observed.reachable:
        return _unreachable(observed)
    loaded = [r["name"] for r in (rules or {}).get("rules", []) if _is_security(r)]
    series = observed.auth_failures is not None and observed.refused is not None
    return Finding(
        EvidenceStatus.PASSED if loaded and series else EvidenceStatus.FAILED,
        f"security rules loaded: {', '.join(loaded) or 'none'}; over the last "
        f"{LOOKBACK_S // 60} minutes {_count(observed.auth_failures)} authentication failures "
        f"and {_count(observed.refused)} refused requests counted",
        {
            "rules": loaded,
            "auth_failures": observed.auth_failures,
            "refused_requests": observed.refused,
        },
        {"rules_loaded": ">= 1", "series": "present"},
    )


def _is_security(rule: dict[str, Any]) -> bool:
    expr = str(rule.get("expr", ""))
    return "auth_failures" in expr or "refused" in expr


def _count(value: float | None) -> str:
    return "no series of" if value is None else f"{value:.0f}"
