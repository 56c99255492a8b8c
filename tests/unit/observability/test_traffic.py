"""The traffic generator's bounds: loopback only, bounded users, time and requests."""

from __future__ import annotations

import importlib.util
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "include" / "demo" / "scripts" / "traffic.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("traffic_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


traffic = load()


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "8.8.8.8"])
def test_only_loopback_is_a_target(host: str) -> None:
    with pytest.raises(ValueError, match="only sends to loopback"):
        traffic.Population(host=host)


@pytest.mark.parametrize(
    ("field", "value"), [("users", 0), ("users", 201), ("duration_s", 601.0), ("max_requests", 0)]
)
def test_the_population_is_bounded(field: str, value: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        traffic.Population(**{field: value})


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        code = 401 if self.path == "/api/account" else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_run_stops_at_its_request_budget_and_says_what_it_did() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        population = traffic.Population(
            port=server.server_address[1], users=3, duration_s=20, max_requests=40, think_s=(0, 0)
        )
        summary = traffic.run(population)
    finally:
        server.shutdown()
    assert summary.stopped_by == "request budget" and summary.seconds < 10
    assert 40 <= summary.requests <= 43  # each user may finish the request it started
    assert summary.by_path_status["GET /api/account 401"] > 0
    assert "stopped by request budget" in summary.lines()[0]
