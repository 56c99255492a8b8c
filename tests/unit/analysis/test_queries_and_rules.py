"""Queries per metric, the default analyses, and the generated alert rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from handoff.analysis import alert_rules, queries
from handoff.analysis.alert_rules import RuleError, RuleThresholds
from handoff.analysis.defaults import AnalysisThresholds, default_analyses
from handoff.analysis.queries import Listener, Target
from handoff.analysis.verdict import AnalysisSpec, Operator

PACKAGE = Path(__file__).resolve().parents[3] / "plugins" / "handoff" / "analysis"
BLUE = Target("shop", "blue")
GREEN = Target("shop", "green")


def test_router_error_rate_reads_the_colours_server_in_the_live_backend() -> None:
    q = queries.router_error_rate(GREEN, 60)
    assert q.promql == (
        'sum(rate(haproxy_server_http_responses_total{service="shop",proxy="live",'
        'server="green",code="5xx"}[60s])) / sum(rate(haproxy_server_http_responses_total'
        '{service="shop",proxy="live",server="green"}[60s]))'
    )
    assert q.samples_promql is not None and "increase(" in q.samples_promql
    preview = queries.router_error_rate(Target("shop", "green", Listener.PREVIEW), 60)
    assert 'proxy="preview"' in preview.promql


def test_service_error_rate_counts_no_5xx_yet_as_zero() -> None:
    q = queries.service_error_rate(BLUE, 60)
    assert 'code=~"5.."' in q.promql and "or vector(0)" in q.promql


def test_latency_quantile_per_path() -> None:
    q = queries.latency_quantile(BLUE, 120, "/api/status")
    assert q.promql.startswith("histogram_quantile(0.95, sum by (le) (rate(")
    assert 'path="/api/status"' in q.promql and "[120s]" in q.promql
    assert q.name == "p95_latency /api/status"
    with pytest.raises(ValueError, match="quantile"):
        queries.latency_quantile(BLUE, 60, "/", 1.5)


def test_resources_features_security() -> None:
    assert 'colour="blue"' in queries.cpu_usage(BLUE, 60).promql
    assert "max_over_time(process_resident_memory_bytes" in queries.memory_usage(BLUE, 60).promql
    assert queries.feature_uses(BLUE, 60).startswith("sum by (feature) (increase(")
    assert "demo_auth_failures_total" in queries.auth_failures(BLUE, 60).promql
    assert "demo_refused_requests_total" in queries.refused_requests(BLUE, 60).promql


def test_a_hostile_service_name_stays_in_its_matcher() -> None:
    q = queries.request_rate(Target('x"}) or vector(1) or (up{a="', "blue"), 60)
    assert q.promql.count('service="x\\"}) or vector(1) or (up{a=\\""') == 1


def test_default_analyses_come_from_the_thresholds() -> None:
    thresholds = AnalysisThresholds(error_rate=0.01, p95_budgets_s={"/api/status": 0.5})
    specs = default_analyses(GREEN, thresholds, baseline=BLUE)
    by_name = {s.metric: s for s in specs}
    assert set(by_name) == {
        "router_error_rate",
        "worst_path_error_rate",
        "p95_latency /api/status",
        "p95_ratio /api/status",
    }
    assert by_name["router_error_rate"].condition.threshold == 0.01
    assert by_name["p95_latency /api/status"].condition.threshold == 0.5
    ratio = by_name["p95_ratio /api/status"]
    assert ratio.condition.operator is Operator.LE and ratio.condition.threshold == 1.1
    assert 'colour="blue"' in ratio.promql and 'colour="green"' in ratio.promql
    assert all(s.min_samples == 50 for s in specs)
    assert AnalysisSpec.from_json(ratio.to_json()) == ratio


def test_rules_file_is_yaml_with_every_rule() -> None:
    thresholds = RuleThresholds(p95_budgets_s={"/api/status": 0.5, "/": 0.3})
    document = yaml.safe_load(alert_rules.rules_yaml("PROD-DEPLOYMENT-001", GREEN, thresholds))
    (group,) = document["groups"]
    assert group["name"] == "handoff-PROD-DEPLOYMENT-001"
    names = [r["alert"] for r in group["rules"]]
    assert names == [
        "HandoffErrorRate",
        "HandoffLatencyP95",
        "HandoffLatencyP95",
        "HandoffErrorBudgetBurnFast",
        "HandoffErrorBudgetBurnSlow",
        "HandoffAuthFailures",
        "HandoffRefusedRequests",
    ]
    fast = group["rules"][3]
    assert "[3600s]" in fast["expr"] and "[300s]" in fast["expr"] and "> 0.144" in fast["expr"]
    slow = group["rules"][4]
    assert "[21600s]" in slow["expr"] and "[1800s]" in slow["expr"] and "> 0.06" in slow["expr"]
    assert all(r["labels"]["handoff"] == "PROD-DEPLOYMENT-001" for r in group["rules"])
    assert alert_rules.rules_file_name("PROD-DEPLOYMENT-001") == "handoff-PROD-DEPLOYMENT-001.yml"


@pytest.mark.parametrize(
    ("handoff", "target", "thresholds"),
    [
        ("bad id{{ .Value }}", GREEN, RuleThresholds()),
        ("../etc", GREEN, RuleThresholds()),
        ("ok", Target("shop\n", "green"), RuleThresholds()),
        ("ok", Target("shop", '{{ template "x" }}'), RuleThresholds()),
    ],
)
def test_hostile_names_never_reach_a_rule(
    handoff: str, target: Target, thresholds: RuleThresholds
) -> None:
    with pytest.raises(RuleError, match="cannot be written"):
        alert_rules.rules_yaml(handoff, target, thresholds)


def test_hostile_paths_and_thresholds_are_refused() -> None:
    with pytest.raises(RuleError, match="path"):
        RuleThresholds(p95_budgets_s={"/x{{ .Value }}": 0.5})
    with pytest.raises(RuleError, match="error rate"):
        RuleThresholds(error_rate=1.5)


def test_the_package_imports_neither_airflow_nor_docker() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("airflow", "docker"), f"{path.name}: {name}"
