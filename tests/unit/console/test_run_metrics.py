"""The page's Prometheus reads: series per colour, the handoff's firing alerts, and a refusal
turned into words (a real refused connection, not a mock)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx

from handoff.analysis.prometheus import PrometheusSettings
from handoff.console.run_metrics import fetch_run_metrics, run_metrics, step_for


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_a_problem_in_words() -> None:
    settings = PrometheusSettings(url=f"http://127.0.0.1:{closed_port()}")
    found = run_metrics(settings, "svc", "H-1", 1000.0, 1060.0)
    assert found.problem and found.problem.startswith("Prometheus did not answer (unreachable")
    assert found.error_rate == {} and found.alerts == ()


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/v1/alerts":
        alerts: list[dict[str, Any]] = [
            {"labels": {"alertname": "ErrorBudget", "handoff": "H-1", "colour": "green",
                        "severity": "page"}, "state": "firing", "annotations": {"summary": "5xx"},
             "activeAt": "t", "value": "1"},
            {"labels": {"alertname": "Other", "handoff": "H-2"}, "state": "firing"},
            {"labels": {"alertname": "Soon", "handoff": "H-1"}, "state": "pending"},
        ]  # fmt: skip
        return httpx.Response(200, json={"status": "success", "data": {"alerts": alerts}})
    query = request.url.params["query"]
    values = [[1000, "0.5"], [1010, "NaN"]] if 'colour="green"' in query else []
    result = [{"metric": {}, "values": values}] if values else []
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return httpx.Response(200, content=json.dumps(body))


def test_series_per_colour_and_only_this_handoffs_firing_alerts() -> None:
    found = asyncio.run(
        fetch_run_metrics(
            PrometheusSettings(),
            "svc",
            "H-1",
            1000.0,
            1060.0,
            transport=httpx.MockTransport(answer),
        )
    )
    assert found.problem is None
    assert found.error_rate == {"blue": (), "green": ((1000.0, 0.5),)}  # NaN is a gap
    assert set(found.p95) == {"blue", "green"}
    assert [(a.name, a.colour, a.summary) for a in found.alerts] == [
        ("ErrorBudget", "green", "5xx")
    ]


def test_step_keeps_the_points_bounded() -> None:
    assert step_for(0, 60) == (1.0, 20)
    step, window = step_for(0, 72 * 3600)
    assert 72 * 3600 / step <= 240 and window == step * 4
