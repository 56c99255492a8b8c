"""The demo service's endpoints and the behaviours its environment selects."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from handoff.bluegreen import BlueGreenEngine

pytestmark = pytest.mark.integration


def fetch(engine: BlueGreenEngine, path: str) -> tuple[int, str, str, float]:
    """GET a path through the preview listener: status, content type, body, seconds."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(engine.config.router_host, engine.config.preview_port, 5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read().decode()
        return resp.status, resp.getheader("Content-Type") or "", body, time.monotonic() - started
    finally:
        conn.close()


def test_healthy_service_serves_every_endpoint(engine: BlueGreenEngine) -> None:
    engine.deploy("handoff-demo:1.0.0")
    assert json.loads(fetch(engine, "/version")[2]) == {
        "release": "handoff-demo:1.0.0",
        "colour": "blue",
    }
    status, ctype, page, _ = fetch(engine, "/")
    assert status == 200 and ctype.startswith("text/html") and '<html lang="en">' in page
    status, ctype, metrics, _ = fetch(engine, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert 'demo_info{release="handoff-demo:1.0.0",colour="blue",mode="healthy"} 1' in metrics
    assert "# TYPE demo_http_requests_total counter" in metrics
    assert fetch(engine, "/api/status")[0] == 200
    assert fetch(engine, "/no/such/page")[0] == 404


def test_erroring_and_slow_modes(engine: BlueGreenEngine) -> None:
    # Erroring: health stays green (so it deploys), the API fails: what gates must catch.
    engine.deploy(
        "handoff-demo:1.0.0",
        environment={"DEMO_MODE": "erroring", "DEMO_ERROR_RATE": "100", "DEMO_ERROR_AFTER": "0"},
    )
    assert fetch(engine, "/health")[0] == 200
    assert [fetch(engine, "/api/status")[0] for _ in range(5)] == [500] * 5

    engine.deploy("handoff-demo:1.0.0", environment={"DEMO_MODE": "slow", "DEMO_LATENCY_MS": "300"})
    status, _, _, seconds = fetch(engine, "/api/status")
    assert status == 200 and seconds >= 0.3
