"""The generated dashboard against Grafana's documented Classic dashboard JSON model."""

from __future__ import annotations

import json

from handoff.analysis.queries import Target, latency_quantile, router_error_rate
from handoff.console.grafana import dashboard

QUERIES = [
    q
    for colour in ("blue", "green")
    for q in (
        router_error_rate(Target("shop", colour), 300),
        latency_quantile(Target("shop", colour), 300, "/checkout"),
    )
]


def test_dashboard_follows_grafana_model() -> None:
    model = json.loads(json.dumps(dashboard("handoff-shop", "Shop", QUERIES, "prom")))
    assert isinstance(model["schemaVersion"], int) and model["uid"] == "handoff-shop"
    assert len(model["panels"]) == 4
    ids = [p["id"] for p in model["panels"]]
    assert len(set(ids)) == len(ids)
    cells = set()
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"} and grid["x"] + grid["w"] <= 24
        cells.add((grid["x"], grid["y"]))
        assert panel["type"] == "timeseries"
        assert panel["datasource"] == {"type": "prometheus", "uid": "prom"}
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs)
        assert all(t["expr"] for t in panel["targets"])
    assert len(cells) == 4  # no two panels overlap


def test_exprs_are_the_watch_queries() -> None:
    model = dashboard("u", "t", QUERIES, "prom")
    assert [p["targets"][0]["expr"] for p in model["panels"]] == [q.promql for q in QUERIES]


def test_uid_capped_at_grafana_limit() -> None:
    assert len(dashboard("x" * 60, "t", QUERIES, "prom")["uid"]) == 40


def test_the_cli_writes_the_seeds_dashboard_from_the_watch_queries() -> None:
    import subprocess
    import sys

    from handoff.console.grafana import handoff_queries
    from tests.conftest import ROOT, SEED

    done = subprocess.run(
        [sys.executable, "-m", "handoff", "grafana", str(SEED), "--datasource-uid", "prom"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    assert model["uid"].startswith("handoff-") and len(model["uid"]) <= 40
    titles = [p["title"] for p in model["panels"]]
    assert "router_error_rate (blue)" in titles and "worst_path_error_rate (green)" in titles
    assert all(p["datasource"] == {"type": "prometheus", "uid": "prom"} for p in model["panels"])
    ids = [p["id"] for p in model["panels"]]
    assert len(set(ids)) == len(ids)
    from handoff.catalog import load_handoff

    seed = load_handoff(SEED)
    assert seed.acceptance is not None
    endpoints = [e.path for e in seed.acceptance.checks.endpoints]
    expected = handoff_queries(seed.acceptance.service.name, endpoints)
    assert [p["targets"][0]["expr"] for p in model["panels"]] == [q.promql for q in expected]
