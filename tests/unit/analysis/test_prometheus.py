"""The Prometheus client: typed results and typed errors, never an exception."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from handoff.analysis.prometheus import (
    ErrorKind,
    InstantResult,
    PrometheusClient,
    PrometheusSettings,
    QueryError,
    RangeResult,
)

Handler = Callable[[httpx.Request], httpx.Response]


def run(handler: Handler, call: Callable[[PrometheusClient], Any], **settings: Any) -> Any:
    async def go() -> Any:
        transport = httpx.MockTransport(handler)
        async with PrometheusClient(PrometheusSettings(**settings), transport=transport) as c:
            return await call(c)

    return asyncio.run(go())


def ok(data: dict[str, Any]) -> Handler:
    return lambda request: httpx.Response(200, json={"status": "success", "data": data})


def test_instant_query_keeps_nan_and_inf() -> None:
    seen: list[httpx.Request] = []
    data = {
        "resultType": "vector",
        "result": [
            {"metric": {"server": "blue"}, "value": [1700000000.5, "0"]},
            {"metric": {"server": "green"}, "value": [1700000000.5, "NaN"]},
            {"metric": {"server": "x"}, "value": [1700000000.5, "+Inf"]},
        ],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(data)(request)

    result = run(handler, lambda c: c.query('up{a="b"}', at=1700000000.0))
    assert isinstance(result, InstantResult)
    values = {s.labels["server"]: s.value for s in result.samples}
    assert values["blue"] == 0 and math.isnan(values["green"]) and values["x"] == math.inf
    assert result.single() is None  # three series: ambiguous
    params = seen[0].url.params
    assert seen[0].url.path == "/api/v1/query"
    assert params["query"] == 'up{a="b"}' and params["time"] == "1700000000.000"
    assert params["timeout"] == "5s"


def test_range_query() -> None:
    data = {
        "resultType": "matrix",
        "result": [{"metric": {}, "values": [[1, "0.1"], [2, "0.2"]]}],
    }
    result = run(ok(data), lambda c: c.query_range("x", 1, 2, 1))
    assert isinstance(result, RangeResult)
    assert result.series[0].values() == [0.1, 0.2]


def test_range_query_bounds_its_points() -> None:
    result = run(ok({}), lambda c: c.query_range("x", 0, 1_000_000, 1))
    assert isinstance(result, QueryError) and result.kind is ErrorKind.BAD_QUERY


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"status": "error", "errorType": "bad_data", "error": "parse error"}, "bad_query"),
        (422, {"status": "error", "errorType": "execution", "error": "many-to-many"}, "bad_query"),
        (503, {"status": "error", "errorType": "timeout", "error": "query timed out"}, "timeout"),
        (503, {"status": "error", "errorType": "unavailable", "error": "x"}, "unreachable"),
        (200, {"status": "success", "data": {"resultType": "string", "result": []}}, "bad_answer"),
        (500, "not json", "bad_answer"),
    ],
)
def test_error_answers_are_typed(status: int, body: Any, kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, str) else json.dumps(body)
        return httpx.Response(status, content=content.encode())

    result = run(handler, lambda c: c.query("sum(x"))
    assert isinstance(result, QueryError) and result.kind.value == kind
    assert result.query == "sum(x"


def test_unreachable_and_timeout_are_typed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    refused = run(refuse, lambda c: c.query("up"))
    assert isinstance(refused, QueryError) and refused.kind is ErrorKind.UNREACHABLE
    late = run(slow, lambda c: c.alerts())
    assert isinstance(late, QueryError) and late.kind is ErrorKind.TIMEOUT


def test_a_large_answer_is_cut() -> None:
    big = {"resultType": "vector", "result": [{"metric": {"a": "x" * 5000}, "value": [1, "1"]}]}
    result = run(ok(big), lambda c: c.query("up"), max_bytes=1000)
    assert isinstance(result, QueryError) and "larger than 1000" in result.message


def test_unreachable_for_real() -> None:
    # Port 9 on loopback: nothing listens (discard), so the connection is refused.
    async def go() -> Any:
        async with PrometheusClient(PrometheusSettings("http://127.0.0.1:9", timeout_s=1)) as c:
            return await c.query("up")

    result = asyncio.run(go())
    assert isinstance(result, QueryError)
    assert result.kind in (ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT)


def test_alerts_and_rules() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/alerts":
            alert = {
                "labels": {"alertname": "HandoffErrorRate", "service": "s"},
                "annotations": {"summary": "x"},
                "state": "firing",
                "activeAt": "2026-12-02T08:00:00Z",
                "value": "5e-02",
            }
            return ok({"alerts": [alert]})(request)
        rule = {"name": "HandoffErrorRate", "type": "alerting", "health": "ok", "query": "q"}
        group = {"name": "handoff-x", "file": "/r.yml", "rules": [rule]}
        return ok({"groups": [group]})(request)

    alerts = run(handler, lambda c: c.alerts())
    assert alerts[0].name == "HandoffErrorRate" and alerts[0].value == 0.05
    groups = run(handler, lambda c: c.rules())
    assert groups[0].name == "handoff-x" and groups[0].rules[0].kind == "alerting"


@pytest.mark.parametrize(
    "url", ["ftp://x", "http://", "http://user:pw@host:9090", "http://h:1/?q=1", "javascript:x"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Prometheus URL"):
        PrometheusSettings(url)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_PROMETHEUS_URL", raising=False)
    monkeypatch.setenv("HANDOFF_PROMETHEUS_PORT", "29090")
    assert PrometheusSettings.from_env().url == "http://127.0.0.1:29090"
    monkeypatch.setenv("HANDOFF_PROMETHEUS_URL", "http://prom.internal:9090/")
    assert PrometheusSettings.from_env().url == "http://prom.internal:9090"
